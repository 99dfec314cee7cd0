//! `netdx scan TARGET...`: arguments → targets and ports → the scan engine
//! on the network of each method → nmap-like text, `--json` or `--json-stream`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::cli::ScanArgs;
use crate::clock::SystemClock;
use crate::error::{Error, Outcome};
use crate::names::services::{Services, Transport};
use crate::ping::target::{Targets, read_list};
use crate::render::scan::{self as view, Names};
use crate::render::stream::StreamWriter;
use crate::render::stream::scan::{Done, PortEvent, ScanEvent, Start};
use crate::render::{self, Output};
use crate::scan::connect::ConnectNetwork;
use crate::scan::network::Batched;
use crate::scan::ports::{self, PortSet, PortSpec, PortsError};
use crate::scan::syn::SynNetwork;
use crate::scan::udp::UdpNetwork;
use crate::scan::{
    self, Event, HostReport, Method, Plan, ScanError, ScanNetwork, Target, Timing, limits,
};

/// How long an open port is given to greet (`--banner`).
const BANNER_WAIT: Duration = Duration::from_millis(800);

/// Runs the scans.
pub fn run(args: &ScanArgs, out: &Output) -> Result<Outcome, Error> {
    let targets = targets(args)?;
    let methods = args.methods();
    let scanned: Vec<Transport> = methods.iter().map(|m| m.proto().transport()).collect();
    let (tcp, udp) = port_sets(args, &scanned)?;
    let nofile = limits::raise_nofile();
    // Every network is opened before any probe goes out: the raw sockets
    // first, then privileges are dropped for good.
    let mut networks: Vec<(Method, Box<dyn ScanNetwork>)> = Vec::new();
    for &method in &methods {
        let network: Box<dyn ScanNetwork> = match method {
            Method::Syn => Box::new(Batched::new(SynNetwork::open(&targets)?)),
            Method::Udp => Box::new(Batched::new(UdpNetwork::open(&targets)?)),
            Method::Tcp => {
                let banner = args.banner.then_some(BANNER_WAIT);
                Box::new(ConnectNetwork::new(banner)?)
            }
        };
        networks.push((method, network));
    }
    crate::privilege::lock_down().map_err(ScanError::from)?;
    let names = Names::new(args.numeric);
    let started = Instant::now();
    let mut reports: Vec<HostReport> = Vec::new();
    let mut lines = out.stream.then(StreamWriter::stdout);
    if out.stream {
        crate::render::stream::when_reader_leaves(|| std::process::exit(0))?;
    }
    let text = !out.json && !out.stream;
    for (method, mut network) in networks {
        let set = match method.proto() {
            scan::Proto::Tcp => &tcp,
            scan::Proto::Udp => &udp,
        };
        let ports: Vec<u16> = set.iter().collect();
        if ports.is_empty() {
            continue;
        }
        let plan = Plan {
            method,
            ports: ports.into(),
            retries: args.retries,
            timing: Timing {
                max: args.timeout,
                initial: Timing::default().initial.min(args.timeout),
                min: Timing::default().min.min(args.timeout),
            },
            rate: args.rate,
            concurrency: match method {
                Method::Tcp => limits::connect_concurrency(nofile),
                _ => limits::MAX_RAW,
            },
            exact: args.exact,
            banner: args.banner && method == Method::Tcp,
        };
        if let Some(lines) = lines.as_mut() {
            lines.emit(&ScanEvent::Start(Start {
                method,
                targets: targets.iter().map(|t| t.name.as_str()).collect(),
                ports: plan.ports.len(),
                concurrency: plan.concurrency,
                rate: plan.rate,
            }))?;
        }
        let total = plan.ports.len() * targets.len();
        let mut progress = Progress::new(total);
        let mut observer = |event: Event<'_>| -> std::io::Result<()> {
            match event {
                Event::Port { target, port, slot } => {
                    progress.tick();
                    if let Some(lines) = lines.as_mut() {
                        let result = view::port_result(method.proto(), port, &slot, None, &names);
                        lines.emit(&ScanEvent::Port(PortEvent {
                            target: &target.name,
                            address: target.address,
                            result,
                        }))?;
                    }
                }
                Event::Host(report) => {
                    if let Some(lines) = lines.as_mut() {
                        lines.emit(&ScanEvent::Host(view::host_document(report, &names, false)))?;
                    } else if text {
                        progress.clear();
                        render::print(&view::host_text(report, &names))?;
                    }
                }
            }
            Ok(())
        };
        let found = scan::run(&plan, &targets, &mut *network, &SystemClock, &mut observer)
            .map_err(Error::from)?;
        progress.clear();
        reports.extend(found);
    }
    let elapsed = started.elapsed();
    if let Some(lines) = lines.as_mut() {
        lines.emit(&ScanEvent::Done(Done {
            hosts: reports.len(),
            open: reports.iter().map(|r| r.counts.open).sum(),
            elapsed_ms: elapsed.as_secs_f64() * 1000.0,
        }))?;
    } else if out.json {
        let stdout = std::io::stdout();
        let mut writer = std::io::BufWriter::new(stdout.lock());
        view::write_json(&mut writer, &reports, &names)?;
    } else {
        render::print(&view::summary_line(&reports, elapsed))?;
    }
    Ok(if reports.iter().any(|r| r.counts.open > 0) {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// The TCP and UDP ports to scan: `-p`, `--top N`, or netdx's default lists.
fn port_sets(args: &ScanArgs, scanned: &[Transport]) -> Result<(PortSet, PortSet), Error> {
    if let Some(text) = &args.ports {
        let spec = PortSpec::parse(text, &Services::load()).map_err(usage)?;
        spec.require(scanned).map_err(usage)?;
        return Ok((spec.tcp, spec.udp));
    }
    let list = |proto| match args.top {
        Some(n) => ports::top(n, proto).map(|top| top.ports),
        None => Ok(ports::common(proto)),
    };
    Ok((
        list(Transport::Tcp).map_err(usage)?,
        list(Transport::Udp).map_err(usage)?,
    ))
}

fn usage(err: PortsError) -> Error {
    Error::Usage(err.to_string())
}

/// Every host to scan, resolved (names before anything is sent), blocks
/// expanded without their network and broadcast addresses, as ping does.
fn targets(args: &ScanArgs) -> Result<Vec<Target>, Error> {
    let mut specs = args.targets.clone();
    if let Some(source) = &args.file {
        specs.extend(read_list(source, args.force)?);
    }
    let targets: Vec<Target> = Targets::new(&specs, args.family(), args.force)?
        .map(|t| Target {
            name: t.name,
            address: t.address,
            scope_id: t.scope_id,
        })
        .collect();
    if targets.is_empty() {
        return Err(Error::Usage(
            "no host to scan: the blocks given hold no host address; give a host, an address or a larger block".into(),
        ));
    }
    Ok(targets)
}

/// A progress line on stderr, only when stderr is a terminal.
struct Progress {
    total: usize,
    done: usize,
    last: Option<Instant>,
    on: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            total,
            done: 0,
            last: None,
            on: std::io::stderr().is_terminal(),
        }
    }

    fn tick(&mut self) {
        self.done += 1;
        if !self.on
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let percent = self.done * 100 / self.total.max(1);
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rscanning: {}/{} ports ({percent}%)",
            self.done, self.total
        );
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.on && self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.last = None;
        }
    }
}
