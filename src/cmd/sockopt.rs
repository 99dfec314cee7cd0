//! `netdx sockopt` and `netdx sockopt explain NAME`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::{SockoptArgs, SockoptCommand, values};
use crate::error::{Error, Outcome};
use crate::render::sockopt::{self as view, ExplainView};
use crate::render::{self, Output};
use crate::sockopt::session::{self, Address, Request};
use crate::sockopt::{self, Kind, SocketKind, explain};

/// Builds the socket and shows its options, or explains one.
pub fn run(args: &SockoptArgs, out: &Output) -> Result<Outcome, Error> {
    if let Some(SockoptCommand::Explain { name }) = &args.command {
        return explain_one(name, out);
    }
    let kind = match (args.udp, args.raw, args.unix) {
        (true, _, _) => SocketKind::Udp,
        (_, true, _) => SocketKind::Raw,
        (_, _, true) => SocketKind::Unix,
        _ => SocketKind::Tcp,
    };
    let address = |text: &str, what: &str, need_port: bool| -> Result<Address, Error> {
        if kind == SocketKind::Unix {
            return Address::unix(PathBuf::from(text))
                .map_err(|why| Error::Usage(format!("--{what} {text}: {why}")));
        }
        let parsed = if need_port {
            values::bind_address(text)
        } else {
            values::local_address(text)
        }
        .map_err(|why| Error::Usage(format!("--{what} {text}: {why}")))?;
        if parsed.is_ipv6() != args.ipv6 {
            return Err(Error::Usage(format!(
                "--{what} {text} is {} but the socket is {}; {}",
                family(parsed),
                if args.ipv6 { "IPv6 (-6)" } else { "IPv4" },
                if args.ipv6 {
                    "give an IPv6 address"
                } else {
                    "add -6 for IPv6"
                }
            )));
        }
        Ok(Address::Inet(parsed))
    };
    let request = Request {
        kind,
        ipv6: args.ipv6,
        settings: args.settings.clone(),
        bind: args
            .bind
            .as_deref()
            .map(|t| address(t, "bind", false))
            .transpose()?,
        listen: args.listen,
        connect: args
            .connect
            .as_deref()
            .map(|t| address(t, "connect", true))
            .transpose()?,
    };
    let report = session::run(&request)?;
    let text = if out.json {
        render::json::document(&report)
    } else {
        view::report(&report, out)
    };
    render::print(&text)?;
    Ok(if report.refused == 0 {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

fn family(address: SocketAddr) -> &'static str {
    crate::net::family_name(address.is_ipv6())
}

fn explain_one(name: &str, out: &Output) -> Result<Outcome, Error> {
    let spec = sockopt::find(name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown socket option '{name}'; did you mean {}? ('netdx sockopt' lists them all)",
            sockopt::suggestions(name).join(", ")
        ))
    })?;
    let prose = explain::explanation(spec.name)
        .ok_or_else(|| Error::Usage(format!("{} has no explanation yet", spec.name)))?;
    let default = session::default_value(spec);
    let view = ExplainView {
        name: spec.name,
        level: spec.level,
        kind: match spec.kind {
            Kind::Bool => "on/off",
            Kind::Int => "integer",
            Kind::Duration => "time",
            Kind::Linger => "off or on,SECONDS",
            Kind::Text => "name",
            Kind::Fixed => "read-only",
        },
        meaning: spec.meaning,
        what: prose.what,
        default: default.as_ref().map(|(_, _, value)| match value {
            Ok(value) => value.to_string(),
            Err(error) => format!("unreadable: {error}"),
        }),
        default_on: default.as_ref().map(|(kind, ipv6, _)| {
            let family = match (kind, ipv6) {
                (SocketKind::Unix, _) => "",
                (_, true) => "IPv6 ",
                (_, false) => "IPv4 ",
            };
            let kind = match kind {
                SocketKind::Tcp => "TCP",
                SocketKind::Udp => "UDP",
                SocketKind::Raw => "raw",
                SocketKind::Unix => "unix stream",
            };
            format!("{family}{kind} socket")
        }),
        when: prose.when,
        pitfalls: prose.pitfalls,
        lab: prose.lab,
    };
    let text = if out.json {
        render::json::document(&view)
    } else {
        view::explanation(&view)
    };
    render::print(&text)?;
    Ok(Outcome::Success)
}
