//! `netdx arping ADDR`: arguments → link setup → the engine → iputils' lines.

use std::net::IpAddr;
use std::time::Duration;

use crate::arping::engine;
use crate::arping::{ArpingError, Mode, Request, setup};
use crate::cli::ArpingArgs;
use crate::clock::SystemClock;
use crate::error::{Error, Outcome};
use crate::net::FamilyChoice;
use crate::net::packet::{LinkSocket, PacketLink, RunError};
use crate::render::stream::StreamWriter;
use crate::render::stream::arping::{ArpingEvent, Start};
use crate::render::{self, Output};
use crate::signals::Interrupts;
use crate::wire::arp::ETHERTYPE_ARP;

/// Asks the link who has the address.
pub fn run(args: &ArpingArgs, out: &Output) -> Result<Outcome, Error> {
    let family = if args.target.parse::<std::net::Ipv6Addr>().is_ok() {
        FamilyChoice::Any
    } else {
        FamilyChoice::V4
    };
    let target = match crate::ping::target::resolve(&args.target, family)?.0 {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => {
            return Err(Error::Usage(format!(
                "{v6} is IPv6: ARP is IPv4's; IPv6 neighbours answer neighbour solicitations (netdx neigh scan -6)"
            )));
        }
    };
    let mode = match (args.dad, args.announce_request, args.announce_reply) {
        (true, _, _) => Mode::Dad,
        (_, true, _) => Mode::AnnounceRequest,
        (_, _, true) => Mode::AnnounceReply,
        _ => Mode::Probe,
    };
    let arping = |err: ArpingError| Error::Arping(err);
    let link =
        setup::prepare(target, args.interface.as_ref(), args.source, mode).map_err(arping)?;
    let socket = LinkSocket::open(link.ifindex, ETHERTYPE_ARP, "arping")
        .map_err(|err| arping(ArpingError::Socket(err)))?;
    crate::privilege::lock_down().map_err(|err| arping(ArpingError::Privilege(err)))?;
    let io = |source| {
        arping(ArpingError::Io {
            interface: link.interface.clone(),
            source,
        })
    };
    let interrupts = Interrupts::install().map_err(io)?;
    super::stop_when_reader_leaves(out, &interrupts).map_err(io)?;
    let interval = args.interval.unwrap_or(Duration::from_secs(1));
    let request = Request {
        target,
        source: link.source,
        mac: link.mac,
        interface: link.interface.clone(),
        mode,
        count: args.count,
        deadline: args.deadline,
        interval,
        wait: args.wait.unwrap_or(interval),
        broadcast_only: args.broadcast,
        quit_on_reply: args.first || mode == Mode::Dad,
    };
    let text = !out.json && !out.stream && !args.quiet;
    let mut stream = out.stream.then(StreamWriter::stdout);
    if let Some(stream) = &mut stream {
        stream.emit(&ArpingEvent::Start(Start {
            target,
            source: request.source,
            interface: &request.interface,
            mode,
        }))?;
    }
    if text {
        render::print(&render::arping::header(&request))?;
    }
    let mut on_reply = |reply: &crate::arping::Reply| -> std::io::Result<()> {
        if let Some(stream) = &mut stream {
            stream.emit(&ArpingEvent::Reply(reply))?;
        } else if text {
            render::print(&render::arping::reply(reply))?;
        }
        Ok(())
    };
    let mut link = PacketLink::new(socket, interrupts);
    let report = match engine::run(&request, &mut link, &SystemClock, &mut on_reply) {
        Ok(report) => report,
        Err(RunError::Output(err)) => return Err(Error::from(err)),
        Err(RunError::Link(err)) => return Err(io(err)),
    };
    if let Some(stream) = &mut stream {
        stream.emit(&ArpingEvent::Done(&report))?;
    } else if out.json {
        render::print(&render::json::document(&report))?;
    } else if text {
        render::print(&render::arping::footer(&report))?;
    }
    Ok(if report.success(&request) {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
