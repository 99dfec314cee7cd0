//! `netdx echo serve` and `netdx echo probe`.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::time::{Duration, SystemTime};

use crate::cli::echo::{FramingChoice, LogFormat, SocketArgs};
use crate::cli::{EchoArgs, EchoCommand, ProbeArgs, ServeArgs};
use crate::echo::load::{self, History, LoadConfig};
use crate::echo::payload::Fill;
use crate::echo::probe::{self, ProbeConfig};
use crate::echo::serve::{self, Event, ServeConfig};
use crate::echo::setup::{self, FamilyChoice, SocketOptions};
use crate::echo::{
    DEFAULT_MAX_FRAME, EchoError, Framing, MAX_UDP_PAYLOAD_V4, MAX_UDP_PAYLOAD_V6, Proto,
};
use crate::error::{Error, Outcome};
use crate::render::echo as view;
use crate::render::plot::PlotFile;
use crate::render::plot::echo::LoadChart;
use crate::render::stream::StreamWriter;
use crate::render::stream::echo::{self as events, Intervals, ProbeEvent, Start, Summary};
use crate::render::stream::serve::{self as serve_events, ServeEvent};
use crate::render::{self, Output};
use crate::signals::Interrupts;
use crate::sockopt;

/// Serves or probes.
pub fn run(args: &EchoArgs, out: &Output) -> Result<Outcome, Error> {
    match &args.command {
        EchoCommand::Serve(args) => serve(args, out),
        EchoCommand::Probe(args) => probe(args, out),
    }
}

fn options(socket: &SocketArgs) -> SocketOptions {
    SocketOptions {
        rcvbuf: socket.rcvbuf,
        sndbuf: socket.sndbuf,
        nodelay: socket.nodelay,
        keepalive: socket.keepalive,
        ..SocketOptions::default()
    }
}

fn framing(choice: FramingChoice, max_frame: u32) -> Framing {
    match choice {
        FramingChoice::Raw => Framing::Raw,
        FramingChoice::Length => Framing::Length { max_frame },
    }
}

fn serve(args: &ServeArgs, out: &Output) -> Result<Outcome, Error> {
    let (tcp, udp) = (args.tcp || !args.udp, args.udp || !args.tcp);
    let ipv6 = args.bind.is_ipv6();
    if args.v6only && !ipv6 {
        return Err(Error::Usage(
            "--v6only needs an IPv6 --bind address, e.g. --bind [::]:7007".into(),
        ));
    }
    if args.framing == FramingChoice::Length && !tcp {
        return Err(Error::Usage(
            "--framing applies to TCP; drop --udp or --framing".into(),
        ));
    }
    if let (false, Some(bytes)) = (udp, args.max_datagram) {
        return Err(Error::Usage(format!(
            "--max-datagram {bytes} applies to UDP; drop --tcp or --max-datagram"
        )));
    }
    if !tcp {
        let tcp_only = [
            ("--max-conns", args.max_conns.is_some()),
            ("--idle-timeout", args.idle_timeout.is_some()),
        ];
        if let Some((flag, _)) = tcp_only.iter().find(|(_, given)| *given) {
            return Err(Error::Usage(format!(
                "{flag} applies to TCP connections; drop --udp or {flag}"
            )));
        }
    }
    if let (FramingChoice::Raw, Some(max_frame)) = (args.framing, args.max_frame) {
        return Err(Error::Usage(format!(
            "--max-frame {max_frame} applies to --framing length; add --framing length or drop --max-frame"
        )));
    }
    let limit = if ipv6 {
        MAX_UDP_PAYLOAD_V6
    } else {
        MAX_UDP_PAYLOAD_V4
    };
    let max_datagram = args.max_datagram.unwrap_or(limit).min(limit);
    let config = ServeConfig {
        bind: args.bind,
        tcp,
        udp,
        options: SocketOptions {
            reuseaddr: Some(!args.no_reuseaddr),
            reuseport: args.reuseport,
            v6only: ipv6.then_some(args.v6only),
            ..options(&args.socket)
        },
        udp_reuseaddr: args.reuseaddr,
        backlog: args.backlog,
        idle_timeout: args.idle_timeout,
        max_conns: args.max_conns,
        max_datagram,
        framing: framing(args.framing, args.max_frame.unwrap_or(DEFAULT_MAX_FRAME)),
        events: args.verbose || args.log == LogFormat::Json || out.stream,
    };
    setup::raise_fd_limit();
    let bound = serve::bind(config)?;
    if setup::reachable_from_network(args.bind) {
        eprintln!(
            "netdx: warning: serving on {}: reachable from the network, by anyone who can reach this host; --bind 127.0.0.1:PORT keeps it local",
            args.bind
        );
    }
    let readings = bound.readings.clone();
    let protos: Vec<Proto> = readings.iter().map(|(proto, _, _)| *proto).collect();
    if args.socket.show_sockopts && !out.json && !out.stream {
        let mut text = String::new();
        for (proto, address, readings) in &readings {
            text.push_str(&format!("{proto} socket on {address}:\n"));
            text.push_str(&render::sockopt::table(readings, out));
        }
        render::print(&text)?;
    }
    // --log json and --json-stream write the same lines, through one writer.
    let json_lines = args.log == LogFormat::Json || out.stream;
    let (json, verbose, stream) = (out.json, args.verbose, out.stream);
    let writer = Arc::new(Mutex::new(StreamWriter::stdout()));
    let lines = Arc::clone(&writer);
    let watching = Once::new();
    let sink: serve::Sink = Arc::new(move |event: &Event| {
        if json_lines {
            if stream && matches!(event, Event::Listening { .. }) {
                // Watched from here, where the server takes SIGTERM as a stop.
                watching.call_once(|| {
                    let _ = render::stream::when_reader_leaves(serve::request_stop);
                });
            }
            // A failed write stops the service, as for every command: the
            // reader of the log or the stream went away.
            return lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .emit(&ServeEvent::from(event));
        }
        let line = if json {
            return Ok(());
        } else if verbose || matches!(event, Event::Listening { .. } | Event::AcceptFailed { .. }) {
            format!("{}\n", view::event_line(event))
        } else {
            return Ok(());
        };
        // A failed write stops the service: `netdx echo serve -v | head`
        // ends with its reader, quietly when the pipe closed.
        render::print(&line)
    });
    let totals = serve::run(bound, sink)?;
    if json_lines {
        writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .emit(&serve_events::stopped(&totals))?;
        return Ok(Outcome::Success);
    }
    let text = if out.json {
        view::serve_json(&readings, args.socket.show_sockopts, &totals)
    } else {
        format!("\n{}", view::totals(&totals, &protos))
    };
    render::print(&text)?;
    Ok(Outcome::Success)
}

fn probe(args: &ProbeArgs, out: &Output) -> Result<Outcome, Error> {
    let proto = if args.udp { Proto::Udp } else { Proto::Tcp };
    let family = FamilyChoice::from_flags(args.ipv4, args.ipv6);
    let target = setup::resolve(&args.target.host, args.target.port, family)?;
    if let Some(bind) = args.bind {
        if bind.is_ipv6() != target.is_ipv6() {
            return Err(Error::Usage(format!(
                "--bind {} and the target {target} are of different address families",
                bind.ip()
            )));
        }
    }
    if proto == Proto::Udp {
        let limit = if target.is_ipv6() {
            MAX_UDP_PAYLOAD_V6
        } else {
            MAX_UDP_PAYLOAD_V4
        };
        if args.size > limit {
            return Err(Error::Usage(format!(
                "size {}: a UDP datagram carries at most {limit} bytes over {}",
                args.size,
                crate::net::family_name(target.is_ipv6())
            )));
        }
        if args.framing == FramingChoice::Length {
            return Err(Error::Usage(
                "--framing applies to TCP; UDP keeps message boundaries itself".into(),
            ));
        }
    }
    let options = SocketOptions {
        ttl: args.ttl.map(u32::from),
        tos: args.tos.map(u32::from),
        ..options(&args.socket)
    };
    let framing = framing(args.framing, u32::MAX);
    let interrupts = Interrupts::install().map_err(|source| EchoError::Start {
        what: "signal handling",
        source,
    })?;
    super::stop_when_reader_leaves(out, &interrupts).map_err(|source| EchoError::Start {
        what: "watching stdout",
        source,
    })?;
    if args.connections.is_some() || args.duration.is_some() {
        if args.interval.is_some() {
            return Err(Error::Usage(
                "-i does not apply to load mode: each connection sends as soon as its echo is back"
                    .into(),
            ));
        }
        let config = LoadConfig {
            target,
            proto,
            connections: args.connections.unwrap_or(1) as usize,
            duration: args.duration.or(if args.count.is_none() {
                Some(Duration::from_secs(10))
            } else {
                None
            }),
            count: args.count,
            size: args.size,
            framing,
            options,
            bind: args.bind,
            connect_timeout: args.connect_timeout,
            timeout: args.timeout,
        };
        return load_run(&config, args, out, &interrupts);
    }
    let config = ProbeConfig {
        target,
        proto,
        count: args.count,
        interval: args.interval.unwrap_or(Duration::from_secs(1)),
        timeout: args.timeout,
        deadline: args.deadline,
        size: args.size,
        fill: match (&args.pattern, args.random) {
            (_, true) => Fill::Random,
            (Some(pattern), _) => Fill::Pattern(pattern.0.clone()),
            _ => Fill::default(),
        },
        framing,
        options,
        bind: args.bind,
        connect_timeout: args.connect_timeout,
        keep_records: out.json && args.verbose,
    };
    let (interval, timeout, deadline) = (config.interval, config.timeout, config.deadline);
    let session = probe::connect(config)?;
    let sockopts = args
        .socket
        .show_sockopts
        .then(|| session.readings().to_vec());
    let mut stream = out.stream.then(StreamWriter::stdout);
    if let Some(lines) = &mut stream {
        lines.emit(&ProbeEvent::Start(Start {
            target,
            proto,
            local: session.local(),
            size: args.size,
            count: args.count,
            interval_ms: Some(millis(interval)),
            timeout_ms: millis(timeout),
            deadline_ms: deadline.map(millis),
            connections: None,
        }))?;
    } else if !out.json {
        let mut text = view::header(&args.target.host, target, proto, session.local(), args.size);
        if let Some(readings) = &sockopts {
            text.push_str(&render::sockopt::table(readings, out));
        }
        render::print(&text)?;
    }
    let lines = !out.json && !args.quiet;
    let (report, _) = session.run(&interrupts, &mut |observation| {
        if let Some(stream) = &mut stream {
            return stream.emit(&events::observation(observation));
        }
        if !lines {
            return Ok(());
        }
        match view::observation_line(target, observation, args.report_outstanding) {
            Some(line) => render::print(&format!("{line}\n")),
            None => Ok(()),
        }
    })?;
    if let Some(lines) = &mut stream {
        lines.emit(&ProbeEvent::Summary(Summary {
            report: &report,
            connections: None,
            sockopts: sockopts.as_deref(),
        }))?;
        return Ok(verdict(&report));
    }
    let text = if out.json {
        view::probe_json(&report, None, sockopts.as_deref())
    } else {
        view::summary(&report, None)
    };
    render::print(&text)?;
    Ok(verdict(&report))
}

fn load_run(
    config: &LoadConfig,
    args: &ProbeArgs,
    out: &Output,
    interrupts: &Interrupts,
) -> Result<Outcome, Error> {
    load::preflight(config)?;
    let plot = args.plot.as_ref().map(PlotFile::create).transpose()?;
    let started = SystemTime::now();
    let mut history = History::default();
    let sockopts = if args.socket.show_sockopts {
        let opened = setup::open(config.proto, config.target.ip(), &config.options)?;
        Some(sockopt::read_all(
            &opened.socket,
            opened.shape,
            &opened.requested,
        ))
    } else {
        None
    };
    let mut stream = out.stream.then(StreamWriter::stdout);
    if let Some(lines) = &mut stream {
        lines.emit(&ProbeEvent::Start(Start {
            target: config.target,
            proto: config.proto,
            local: None,
            size: config.size,
            count: config.count,
            interval_ms: None,
            timeout_ms: millis(config.timeout),
            deadline_ms: config.duration.map(millis),
            connections: Some(config.connections as u64),
        }))?;
    } else if !out.json {
        let mut text = format!(
            "LOAD {} {}: {} connections, {} bytes per message, {}\n",
            config.target,
            config.proto,
            config.connections,
            config.size,
            match (config.duration, config.count) {
                (Some(d), _) => format!("for {} s", d.as_secs_f64()),
                (None, Some(c)) => format!("{c} messages each"),
                (None, None) => "until Ctrl-C".into(),
            }
        );
        if let Some(readings) = &sockopts {
            text.push_str(&render::sockopt::table(readings, out));
        }
        render::print(&text)?;
    }
    let live = !out.json && !out.stream && std::io::stderr().is_terminal();
    let mut intervals = Intervals::default();
    let (report, connections, _) = load::run(config, interrupts, &mut |progress| {
        history.record(progress);
        if let Some(lines) = &mut stream {
            lines.emit(&intervals.next(progress))?;
        }
        if live {
            let mut stderr = std::io::stderr().lock();
            stderr.write_all(view::progress(progress).as_bytes())?;
            stderr.flush()?;
        }
        Ok(())
    })?;
    if live {
        eprint!("{}", view::clear_progress());
    }
    if let Some(sink) = plot {
        sink.write(&LoadChart {
            report: &report,
            connections: config.connections,
            rates: &history.rates(),
            start: started,
        })?;
    }
    if let Some(lines) = &mut stream {
        lines.emit(&ProbeEvent::Summary(Summary {
            report: &report,
            connections: Some(&connections),
            sockopts: sockopts.as_deref(),
        }))?;
        return Ok(verdict(&report));
    }
    let text = if out.json {
        view::probe_json(&report, Some(&connections), sockopts.as_deref())
    } else {
        view::summary(&report, Some(&connections))
    };
    render::print(&text)?;
    Ok(verdict(&report))
}

/// A probe run answers yes when any good echo came back.
fn verdict(report: &probe::Report) -> Outcome {
    if report.counts.received > 0 {
        Outcome::Success
    } else {
        Outcome::Negative
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
