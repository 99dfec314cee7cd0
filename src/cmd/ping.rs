//! `netdx ping`: echo requests to one host (iputils) or many (fping).

use crate::cli::PingArgs;
use crate::error::{Error, Outcome};
use crate::ping::session::{self, Request, Verdict};
use crate::ping::{Event, FamilyChoice, PingError};
use crate::render::Output;
use crate::render::ping_stream::{Printer, PrinterOptions};
use crate::signals::Interrupts;

/// Pings, prints as it goes, and answers with the exit status.
pub fn run(args: &PingArgs, out: &Output) -> Result<Outcome, Error> {
    let request = Request {
        targets: args.targets.clone(),
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
    prepared.run(&interrupts, &mut |event| {
        if let Event::Done(report) = &event {
            verdict.record(report);
        }
        printer.event(event, &mut reports)
    })?;
    reports.sort_by_key(|report| report.index);
    printer.finish(&reports)?;
    Ok(if verdict.succeeded() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
