//! `netdx ping`: echo requests to one host (iputils) or many (fping).

use std::time::SystemTime;

use crate::cli::PingArgs;
use crate::error::{Error, Outcome};
use crate::ping::session::{self, Request, Verdict};
use crate::ping::timeline::Timeline;
use crate::ping::{Event, FamilyChoice, PingError, TargetSpec, target};
use crate::render::Output;
use crate::render::ping_stream::{Printer, PrinterOptions};
use crate::render::plot::ping::RttChart;
use crate::signals::Interrupts;
use crate::targets::ListSource;

/// No target on the command line and a terminal on stdin.
const NO_TARGET: &str = "no target: give hosts, addresses or networks, --file FILE, or pipe a list in on standard input; try 'netdx ping --help'";

/// `--plot` with a sweep or several hosts.
const PLOT_ONE_HOST: &str = "--plot charts one host's round trips: give a single host";

/// The targets and whether they came from a list: the command line's; or
/// `--file`'s; or, with none given, standard input's when it is not a
/// terminal, as fping reads it (on a terminal nobody is piping a list in:
/// the usual "no target" error instead of a silent wait for one).
fn targets(args: &PingArgs) -> Result<(Vec<TargetSpec>, bool), Error> {
    let source = match (&args.file, args.targets.is_empty()) {
        (Some(source), _) => source.clone(),
        (None, false) => return Ok((args.targets.clone(), false)),
        // -g names what it needs itself.
        (None, true) if args.generate => return Ok((Vec::new(), false)),
        (None, true) => ListSource::piped_stdin().ok_or_else(|| Error::Usage(NO_TARGET.into()))?,
    };
    Ok((target::read_list(&source, args.force)?, true))
}

/// Pings, prints as it goes, and answers with the exit status.
pub fn run(args: &PingArgs, out: &Output) -> Result<Outcome, Error> {
    let (targets, listed) = targets(args)?;
    let request = Request {
        targets,
        listed,
        family: FamilyChoice::from_flags(args.ipv4, args.ipv6),
        count: args.count,
        interval: args.interval,
        timeout: args.timeout,
        deadline: args.deadline,
        size: args.size,
        ttl: args.ttl,
        source: args.source.clone(),
        flood: args.flood,
        pattern: args.pattern.clone(),
        report_outstanding: args.report_outstanding,
        generate: args.generate,
        sweep_output: args.alive || args.unreachable,
        retries: args.retries,
        period: args.period,
        force: args.force,
        keep_replies: out.json,
    };
    let prepared = session::prepare(&request)?;
    if prepared.total == 0 {
        // An empty range or list: nothing to ping, nothing to print (fping).
        return Ok(Outcome::Negative);
    }
    let plot = match (&args.plot, &prepared.host) {
        (None, _) => None,
        (Some(file), Some(host)) => Some((file.create()?, host.clone())),
        (Some(_), None) => return Err(Error::Usage(PLOT_ONE_HOST.into())),
    };
    let interrupts = Interrupts::install().map_err(PingError::Signals)?;
    super::stop_when_reader_leaves(out, &interrupts).map_err(PingError::Signals)?;
    let mut verdict = Verdict::new(&prepared.plan);
    let options = PrinterOptions {
        alive: args.alive,
        unreachable: args.unreachable,
        quiet: args.quiet,
        flood: args.flood,
        timestamps: args.timestamps,
        numeric: args.numeric,
        pattern: args.pattern.as_ref().map(|p| p.0.clone()),
    };
    let mut printer = Printer::new(&options, out, &prepared);
    printer.start(&prepared, &options)?;
    let mut reports = Vec::new();
    let mut timeline = Timeline::new(SystemTime::now());
    prepared.run(&interrupts, &mut |event| {
        if plot.is_some() {
            timeline.record(&event, SystemTime::now());
        }
        if let Event::Done(report) = &event {
            verdict.record(report);
        }
        printer.event(event, &mut reports)
    })?;
    reports.sort_by_key(|report| report.index);
    printer.finish(&reports)?;
    if let Some((sink, target)) = plot {
        sink.write(&RttChart {
            target: &target,
            timeline: &timeline,
        })?;
    }
    Ok(if verdict.succeeded() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
