//! `netdx trace HOST`: arguments → walks → hop lines or the report.

use std::net::IpAddr;

use crate::cli::TraceArgs;
use crate::error::{Error, Outcome};
use crate::ping::FamilyChoice;
use crate::render::trace::{self as view, Names};
use crate::render::{self, Output};
use crate::trace::{self, Hop, Method, Request};

/// Walks the path.
pub fn run(args: &TraceArgs, out: &Output) -> Result<Outcome, Error> {
    let (address, _, _) = crate::ping::target::resolve(&args.host, FamilyChoice::Any)?;
    let IpAddr::V4(target) = address else {
        return Err(Error::Usage(format!(
            "'{}' is IPv6: netdx trace walks IPv4 paths; for IPv6 use traceroute -6",
            args.host
        )));
    };
    if args.first_ttl > args.max_hops {
        return Err(Error::Usage(format!(
            "first TTL {} is beyond the last ({}); lower -f or raise -m",
            args.first_ttl, args.max_hops
        )));
    }
    let method = args.method();
    if method == Method::Icmp && args.port.is_some() {
        return Err(Error::Usage(
            "-p sets a UDP or TCP port; ICMP probes have none".into(),
        ));
    }
    let port = args
        .port
        .unwrap_or(if method == Method::Tcp { 80 } else { 33_434 });
    let rounds = args
        .count
        .map_or(1, |c| u32::try_from(c).unwrap_or(u32::MAX));
    let request = Request {
        target,
        method,
        port,
        first_ttl: args.first_ttl,
        max_hops: args.max_hops,
        probes: args.probes,
        simultaneous: args.simultaneous,
        wait: args.wait,
        rounds,
    };
    let live = !out.json && args.count.is_none();
    let what = match method {
        Method::Icmp => "icmp echo probes".to_string(),
        Method::Udp => format!("udp probes to port {port}"),
        Method::Tcp => format!("tcp syn probes to port {port}"),
    };
    let header = view::header(&args.host, address, args.max_hops, &what);
    let numeric = args.numeric;
    let style = *out;
    let mut names = Names::new();
    // The header waits for the first hop: a refused socket prints only its error.
    let mut started = false;
    let mut on_hop = |hop: &Hop| -> std::io::Result<()> {
        if !live {
            return Ok(());
        }
        if !started {
            started = true;
            render::print(&header)?;
        }
        if !numeric {
            look_up(hop.probes.iter().filter_map(|p| p.responder), &mut names);
        }
        render::print(&view::hop(hop, &names, &style))
    };
    let report = trace::run(&request, &mut on_hop)?;
    if !live {
        let mut names = Names::new();
        if !numeric {
            look_up(
                report
                    .hops
                    .iter()
                    .flat_map(|h| h.responders.iter().copied()),
                &mut names,
            );
        }
        let text = if out.json {
            view::json(&report, &names)
        } else {
            header.clone() + &view::report(&report, &names, out)
        };
        render::print(&text)?;
    }
    Ok(if report.reached {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// Reverse DNS for addresses not looked up yet; an address without a name
/// is shown bare, as traceroute shows it.
fn look_up(addresses: impl Iterator<Item = IpAddr>, names: &mut Names) {
    for address in addresses {
        if names.contains_key(&address) {
            continue;
        }
        let name = dns_lookup::lookup_addr(&address)
            .ok()
            .filter(|name| *name != address.to_string())
            .unwrap_or_default();
        names.insert(address, name);
    }
}
