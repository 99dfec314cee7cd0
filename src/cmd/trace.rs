//! `netdx trace HOST`: arguments → walks → hop lines or the report.

use crate::cli::TraceArgs;
use crate::error::{Error, Outcome};
use crate::render::trace::{self as view, Names};
use crate::render::{self, Output};
use crate::trace::{self, Hop, Method, Request};

/// Walks the path.
pub fn run(args: &TraceArgs, out: &Output) -> Result<Outcome, Error> {
    let (target, scope_id, _) = crate::ping::target::resolve(&args.host, args.family())?;
    trace::check_ttls(args.first_ttl, args.max_hops)?;
    let method = args.method();
    if method == Method::Icmp && args.port.is_some() {
        return Err(Error::Usage(
            "-p sets a UDP or TCP port; ICMP probes have none".into(),
        ));
    }
    let port = args.port.unwrap_or(method.default_port());
    let rounds = args
        .count
        .map_or(1, |c| u32::try_from(c).unwrap_or(u32::MAX));
    let request = Request {
        target,
        scope_id,
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
    let sockets = trace::Sockets::open(&request)?;
    let header = view::header(&args.host, &request);
    if live {
        render::print(&header)?;
    }
    let numeric = args.numeric;
    let style = *out;
    let no_names = Names::new();
    // One budget for the whole walk: a dead resolver delays it once, not per hop.
    let mut lookups = crate::names::Reverse::new(crate::names::DEADLINE);
    let mut on_hop = |hop: &Hop| -> std::io::Result<()> {
        if !live {
            return Ok(());
        }
        let names = if numeric {
            &no_names
        } else {
            lookups.lookup(hop.probes.iter().filter_map(|p| p.responder))
        };
        render::print(&view::hop(hop, names, &style))
    };
    let report = trace::run(&request, sockets, &mut on_hop)?;
    if !live {
        let names = if numeric {
            Names::new()
        } else {
            crate::names::reverse(report.hops.iter().flat_map(|h| h.responders.clone()))
        };
        let text = if out.json {
            view::json(&report, &names)
        } else {
            header + &view::report(&report, &names, out)
        };
        render::print(&text)?;
    }
    Ok(if report.reached {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
