//! `netdx trace HOST`: arguments → walks → hop lines or the report.

use std::time::SystemTime;

use crate::cli::TraceArgs;
use crate::error::{Error, Outcome};
use crate::render::plot::trace::HopChart;
use crate::render::plot::{PlotFile, PlotSink};
use crate::render::stream::{StreamWriter, trace as events};
use crate::render::trace::{self as view, Names};
use crate::render::{self, Output};
use crate::trace::{self, Event, Method, Request, TraceNetwork};

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
    let sockets = trace::Sockets::open(&request)?;
    let plot = args.plot.as_ref().map(PlotFile::create).transpose()?;
    let start = SystemTime::now();
    if out.stream {
        let report = stream(args, &request, sockets)?;
        return finish(args, &report, plot, start);
    }
    let live = !out.json && args.count.is_none();
    let header = view::header(&args.host, &request);
    if live {
        render::print(&header)?;
    }
    let numeric = args.numeric;
    let style = *out;
    let no_names = Names::new();
    // One budget for the whole walk: a dead resolver delays it once, not per hop.
    let mut lookups = crate::names::Reverse::new(crate::names::DEADLINE);
    let mut on_hop = |event: Event<'_>| -> std::io::Result<()> {
        let Event::Hop { round: 1, hop } = event else {
            return Ok(());
        };
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
    finish(args, &report, plot, start)
}

/// Writes the `--plot` chart, if asked for, and answers by whether the target was reached.
fn finish(
    args: &TraceArgs,
    report: &trace::Report,
    plot: Option<PlotSink>,
    start: SystemTime,
) -> Result<Outcome, Error> {
    if let Some(sink) = plot {
        sink.write(&HopChart {
            host: &args.host,
            report,
            start,
        })?;
    }
    Ok(if report.reached {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// `--json-stream`: each hop as it completes (each round with `-c`), then
/// the document.
fn stream(
    args: &TraceArgs,
    request: &Request,
    sockets: trace::Sockets,
) -> Result<trace::Report, Error> {
    let mut lines = StreamWriter::stdout();
    lines.emit(&events::start(&args.host, request, sockets.source()))?;
    // A walk waits on its sockets alone, so it has no stop to ask for; it
    // holds nothing that needs undoing either, so a reader that leaves
    // ends it there and then (as SIGPIPE ends traceroute, but with 0).
    crate::render::stream::when_reader_leaves(|| std::process::exit(0))?;
    let rounds = args.count.is_some();
    // One budget for the whole trace, as in the live view.
    let mut lookups = crate::names::Reverse::new(crate::names::DEADLINE);
    let numeric = args.numeric;
    let report = trace::run(request, sockets, &mut |event| match event {
        Event::Hop { round, hop } if !rounds => {
            let names = names(&mut lookups, numeric, std::slice::from_ref(hop));
            lines.emit(&events::hop(round, hop, names))
        }
        Event::Round { round, walk } if rounds => {
            let names = names(&mut lookups, numeric, &walk.hops);
            lines.emit(&events::round(round, walk, names))
        }
        _ => Ok(()),
    })?;
    let responders = report
        .hops
        .iter()
        .flat_map(|h| h.responders.iter().copied());
    let names = if numeric {
        lookups.lookup([])
    } else {
        lookups.lookup(responders)
    };
    lines.emit(&events::summary(&report, names))?;
    Ok(report)
}

/// Names of the responders of `hops` (none with `-n`), within the trace's one budget.
fn names<'a>(
    lookups: &'a mut crate::names::Reverse,
    numeric: bool,
    hops: &[trace::Hop],
) -> &'a Names {
    if numeric {
        return lookups.lookup([]);
    }
    lookups.lookup(
        hops.iter()
            .flat_map(|hop| hop.probes.iter().filter_map(|p| p.responder)),
    )
}
