//! `netdx perf serve` and `netdx perf run`: arguments → the server or a
//! test → iperf3's lines or JSON.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::cli::{PerfArgs, PerfCommand, PerfRunArgs, PerfServeArgs};
use crate::error::{Error, Outcome};
use crate::net::FamilyChoice;
use crate::perf::control::TestParams;
use crate::perf::run::Event;
use crate::perf::serve::{self, Settings};
use crate::perf::{self, PerfError, Protocol, Request};
use crate::render::plot::PlotFile;
use crate::render::plot::perf::ThroughputChart;
use crate::render::stream::StreamWriter;
use crate::render::stream::perf::PerfEvent;
use crate::render::{self, Output};
use crate::signals::Interrupts;

/// Runs the server or the client.
pub fn run(args: &PerfArgs, out: &Output) -> Result<Outcome, Error> {
    match &args.command {
        PerfCommand::Serve(serve) => run_serve(serve, out),
        PerfCommand::Run(run) => run_test(run, out),
    }
}

fn run_serve(args: &PerfServeArgs, out: &Output) -> Result<Outcome, Error> {
    if out.json {
        return Err(Error::Usage(
            "perf serve runs until stopped: --json-stream gives a JSON line per test, --json is for perf run"
                .into(),
        ));
    }
    let settings = Settings {
        bind: args.bind,
        max_clients: args.max_clients as usize,
    };
    // A log line that cannot be written (stdout closed) is dropped: the
    // server's job is serving.
    let log: Box<dyn Fn(serve::ServeEvent) + Send + Sync> = if out.stream {
        let writer = std::sync::Mutex::new(StreamWriter::stdout());
        Box::new(move |event: serve::ServeEvent| {
            if let Ok(mut writer) = writer.lock() {
                let _ = writer.emit(&event);
            }
        })
    } else {
        Box::new(|event: serve::ServeEvent| {
            let _ = render::print(&render::perf::serve_event(&event));
        })
    };
    serve::serve(settings, log)?;
    Ok(Outcome::Success)
}

fn run_test(args: &PerfRunArgs, out: &Output) -> Result<Outcome, Error> {
    let (host, port) = perf::split_server(&args.target).map_err(Error::Perf)?;
    let target = resolve(&host, port)?;
    let protocol = if args.udp {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let (length, rate) = match protocol {
        Protocol::Tcp => (
            args.length.unwrap_or(perf::DEFAULT_TCP_LEN),
            args.rate.unwrap_or(0),
        ),
        Protocol::Udp => (
            args.length.unwrap_or(perf::DEFAULT_UDP_LEN),
            args.rate.unwrap_or(perf::DEFAULT_UDP_RATE),
        ),
    };
    let request = Request {
        host,
        target,
        test: TestParams {
            protocol,
            streams: args.streams,
            duration_ms: u64::try_from(args.time.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
            reverse: args.reverse,
            bidir: args.bidir,
            length,
            rate_bps: rate,
            udp_ports: Vec::new(),
            zerocopy: args.zerocopy,
        },
        interval: args.interval,
    };
    // Ctrl-C ends the test early, with its totals so far (as iperf3); a
    // --json-stream reader that goes away does the same.
    let signals = |source| {
        Error::Perf(PerfError::Io {
            peer: target,
            what: "watching for Ctrl-C",
            source,
        })
    };
    let plot = args.plot.as_ref().map(PlotFile::create).transpose()?;
    let started = SystemTime::now();
    let interrupts = Interrupts::install().map_err(signals)?;
    super::stop_when_reader_leaves(out, &interrupts).map_err(signals)?;
    let text = !out.json && !out.stream;
    let mut stream = out.stream.then(StreamWriter::stdout);
    let bidir = args.bidir;
    let mut on_event = |event: Event<'_>| -> std::io::Result<()> {
        match (event, &mut stream) {
            (Event::Start(start), Some(stream)) => stream.emit(&PerfEvent::Start(start)),
            (Event::Interval(interval), Some(stream)) => {
                stream.emit(&PerfEvent::Interval(interval))
            }
            (Event::Start(start), None) if text => render::print(&render::perf::start(start)),
            (Event::Interval(interval), None) if text => {
                render::print(&render::perf::interval(interval, protocol, bidir))
            }
            _ => Ok(()),
        }
    };
    let interrupted = || interrupts.take().stop;
    let report = perf::run::run(&request, &interrupted, &mut on_event)?;
    if let Some(stream) = &mut stream {
        stream.emit(&PerfEvent::End(&report.end))?;
    } else if out.json {
        render::print(&render::json::document(&report))?;
    } else {
        render::print(&render::perf::summary(&report))?;
    }
    if let Some(sink) = plot {
        sink.write(&ThroughputChart {
            server: target.ip().to_string(),
            report: &report,
            start: started,
        })?;
    }
    Ok(Outcome::Success)
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, Error> {
    match crate::ping::target::resolve(host, FamilyChoice::from_flags(false, false)) {
        Ok((std::net::IpAddr::V6(v6), scope_id, _)) => Ok(SocketAddr::V6(
            std::net::SocketAddrV6::new(v6, port, 0, scope_id),
        )),
        Ok((address, _, _)) => Ok(SocketAddr::new(address, port)),
        Err(err) => Err(Error::Perf(PerfError::Resolve {
            host: host.to_string(),
            reason: match err {
                crate::ping::PingError::Resolve { reason, .. } => reason,
                other => other.to_string(),
            },
        })),
    }
}
