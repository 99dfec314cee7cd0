//! `netdx neigh`: the kernel's neighbour table.

use crate::cli::NeighArgs;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::cli::neigh::{NeighCommand, NeighScanArgs, StateChoice};
use crate::clock::SystemClock;
use crate::error::{Error, Outcome};
use crate::neigh::NeighError;
use crate::neigh::scan::{self as sweep, Event};
use crate::neigh::table::{self, Query, StateFilter};
use crate::net::packet::{LinkSocket, PacketLink, RunError};
use crate::render::stream::StreamWriter;
use crate::render::stream::neigh_scan::{ScanEvent, Start};
use crate::render::{self, Output};
use crate::signals::Interrupts;

/// Prints the neighbour entries the arguments select, or scans the segment.
pub fn run(args: &NeighArgs, out: &Output) -> Result<Outcome, Error> {
    if let Some(NeighCommand::Scan(scan_args)) = &args.command {
        return scan(scan_args, out);
    }
    let states = if args.states.is_empty() {
        StateFilter::Default
    } else if args.states.contains(&StateChoice::All) {
        StateFilter::All
    } else {
        StateFilter::Any(
            args.states
                .iter()
                .filter_map(|choice| match choice {
                    StateChoice::One(state) => Some(*state),
                    StateChoice::All => None,
                })
                .collect(),
        )
    };
    let entries = table::read(&Query {
        v4: args.ipv4 || !args.ipv6,
        v6: args.ipv6 || !args.ipv4,
        interface: args.interface.clone(),
        states,
    })
    .map_err(Error::Neigh)?;
    let text = if out.json {
        render::json::document(&entries)
    } else {
        render::neigh::table(&entries)
    };
    render::print(&text)?;
    Ok(if entries.is_empty() {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}

/// `neigh scan`: plan, open the socket, drop privileges, run, report.
fn scan(args: &NeighScanArgs, out: &Output) -> Result<Outcome, Error> {
    let plan = sweep::plan(
        args.interface.as_ref(),
        args.network,
        args.ipv6,
        args.rate,
        args.retries,
        args.timeout,
    )
    .map_err(Error::Neigh)?;
    let socket = LinkSocket::open(plan.ifindex, plan.ethertype(), "neigh scan")
        .map_err(|err| Error::Neigh(NeighError::Socket(err)))?;
    crate::privilege::lock_down().map_err(|err| Error::Neigh(NeighError::Privilege(err)))?;
    let io = |source| {
        Error::Neigh(NeighError::Io {
            interface: plan.interface.to_string(),
            source,
        })
    };
    let interrupts = Interrupts::install().map_err(io)?;
    super::stop_when_reader_leaves(out, &interrupts).map_err(io)?;
    let mut stream = out.stream.then(StreamWriter::stdout);
    let network = plan.network.to_string();
    if let Some(stream) = &mut stream {
        stream.emit(&ScanEvent::Start(Start {
            interface: plan.interface.as_str(),
            network: &network,
            source: plan.request.protocol.source(),
            addresses: plan.request.targets.len(),
        }))?;
    }
    let live = !out.json && !out.stream && std::io::stderr().is_terminal();
    let mut shown = Instant::now() - Duration::from_secs(1);
    let mut on_event = |event: Event<'_>| -> std::io::Result<()> {
        match event {
            Event::Found(host) => {
                if let Some(stream) = &mut stream {
                    stream.emit(&ScanEvent::Host(host))?;
                }
            }
            Event::Progress(progress) => {
                if live && shown.elapsed() >= Duration::from_millis(100) {
                    shown = Instant::now();
                    let _ =
                        std::io::stderr().write_all(render::neigh::progress(progress).as_bytes());
                }
            }
        }
        Ok(())
    };
    let mut link = PacketLink::new(socket, interrupts);
    let outcome = match sweep::run(&plan.request, &mut link, &SystemClock, &mut on_event) {
        Ok(outcome) => outcome,
        Err(RunError::Output(err)) => return Err(Error::from(err)),
        Err(RunError::Link(err)) => return Err(io(err)),
    };
    if live {
        let _ = std::io::stderr().write_all(b"\r\x1b[K");
    }
    let report = sweep::report(&plan, outcome);
    if let Some(stream) = &mut stream {
        stream.emit(&ScanEvent::Done(&report))?;
    } else if out.json {
        render::print(&render::json::document(&report))?;
    } else {
        render::print(&render::neigh::scan(&report))?;
    }
    Ok(if report.hosts.is_empty() {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}
