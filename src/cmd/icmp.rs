//! `netdx icmp HOST`: arguments → one hand-built probe at a time → decoded answers.

use crate::cli::IcmpArgs;
use crate::error::{Error, Outcome};
use crate::icmp::{self, Event, MessageType, Request};
use crate::net::FamilyChoice;
use crate::ping::session::payload;
use crate::render::icmp as view;
use crate::render::{self, Output};

/// Default data bytes of an echo request (ping's 56).
const DEFAULT_SIZE: usize = 56;

/// Builds, sends, decodes.
pub fn run(args: &IcmpArgs, out: &Output) -> Result<Outcome, Error> {
    let family = FamilyChoice::from_flags(args.ipv4, args.ipv6);
    let (target, _, _) = crate::ping::target::resolve(&args.host, family)?;
    let data = match (&args.payload, args.size) {
        (Some(bytes), _) => bytes.0.clone(),
        (None, size) => payload(size.unwrap_or(DEFAULT_SIZE), None),
    };
    if args.message == MessageType::Timestamp && (args.payload.is_some() || args.size.is_some()) {
        return Err(Error::Usage(
            "a timestamp request carries its three times, not --size/--payload data".into(),
        ));
    }
    let request = Request {
        target,
        message: args.message,
        code: args.code,
        ident: args.id.unwrap_or(std::process::id() as u16),
        seq: args.seq,
        ttl: args.ttl,
        tos: args.tos,
        dont_fragment: args.df,
        payload: data,
        count: u32::try_from(args.count).unwrap_or(u32::MAX),
        interval: args.interval,
        timeout: args.timeout,
        bad_checksum: args.bad_checksum,
        hdrincl: args.hdrincl,
    };
    let session = icmp::open(&request)?;
    if !out.json {
        render::print(&view::header(&args.host, target))?;
    }
    let mut events = Vec::new();
    let json = out.json;
    let style = *out;
    let mut observe = |event: &Event| -> std::io::Result<()> {
        if json {
            events.push(event.clone());
            Ok(())
        } else {
            render::print(&view::event(event, &style))
        }
    };
    let summary = icmp::run(session, &request, &mut observe)?;
    let text = if out.json {
        view::json(target, &events, &summary)
    } else {
        view::summary(&summary)
    };
    render::print(&text)?;
    Ok(if summary.answered > 0 {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
