//! One probe: a module run against a target, with its log and its metrics.
//!
//! Probes are synchronous (netdx's engines are: they measure next to their
//! system calls); the server runs each on tokio's blocking pool. Each is
//! bounded by the time it is given, which it passes on to its engine.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::config::{IpProtocol, Module, Prober, Resolve};
use super::metrics::{Family, ip_hash};
use crate::net::FamilyChoice;

/// The most log lines one probe keeps (its debug page); later ones are counted.
const LOG_LINES: usize = 200;

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Detail.
    Debug,
    /// Progress.
    Info,
    /// Why a probe failed.
    Error,
}

/// One line of a probe's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Since the probe started.
    pub at: Duration,
    /// How serious.
    pub level: Level,
    /// What happened.
    pub message: String,
}

/// A probe's log: what `/probe?…&debug=true` shows.
#[derive(Debug, Clone)]
pub struct ProbeLog {
    started: Instant,
    /// The lines kept.
    pub lines: Vec<LogLine>,
    /// Lines past the limit, not kept.
    pub dropped: usize,
}

impl ProbeLog {
    /// An empty log starting now.
    pub fn new() -> ProbeLog {
        ProbeLog {
            started: Instant::now(),
            lines: Vec::new(),
            dropped: 0,
        }
    }

    fn push(&mut self, level: Level, message: String) {
        if self.lines.len() == LOG_LINES {
            self.dropped += 1;
            return;
        }
        self.lines.push(LogLine {
            at: self.started.elapsed(),
            level,
            message,
        });
    }

    /// Notes progress.
    pub fn info(&mut self, message: impl Into<String>) {
        self.push(Level::Info, message.into());
    }

    /// Notes a detail.
    pub fn debug(&mut self, message: impl Into<String>) {
        self.push(Level::Debug, message.into());
    }

    /// Notes why the probe failed.
    pub fn error(&mut self, message: impl Into<String>) {
        self.push(Level::Error, message.into());
    }

    /// The last error noted, for the exporter's own log line.
    pub fn last_error(&self) -> Option<&str> {
        self.lines
            .iter()
            .rev()
            .find(|line| line.level == Level::Error)
            .map(|line| line.message.as_str())
    }
}

impl Default for ProbeLog {
    fn default() -> Self {
        ProbeLog::new()
    }
}

/// What a probe found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `probe_success`.
    pub success: bool,
    /// Every metric family, `probe_success` and `probe_duration_seconds` first.
    pub families: Vec<Family>,
    /// Its log.
    pub log: ProbeLog,
    /// How long it took.
    pub duration: Duration,
}

/// What one prober hands back: success and its own families.
pub struct Found {
    /// Whether the probe succeeded.
    pub success: bool,
    /// The prober's families.
    pub families: Vec<Family>,
}

impl Found {
    /// A failed probe with the families gathered so far.
    pub fn failed(families: Vec<Family>) -> Found {
        Found {
            success: false,
            families,
        }
    }
}

/// Runs `module` against `target`, taking at most about `timeout`.
pub fn run(module: &Module, target: &str, timeout: Duration) -> Outcome {
    run_until(module, target, timeout, Instant::now() + timeout)
}

/// Runs `module` against `target` until `deadline` at the latest; `timeout`
/// is the probe's whole allowance, as reported (a request may have spent
/// some of it waiting for a slot).
pub fn run_until(module: &Module, target: &str, timeout: Duration, deadline: Instant) -> Outcome {
    let started = Instant::now();
    let mut log = ProbeLog::new();
    log.info(format!(
        "Beginning probe: prober={} timeout_seconds={}",
        module.prober.name(),
        timeout.as_secs_f64()
    ));
    let found = match &module.prober {
        Prober::Icmp(icmp) => super::icmp::probe(icmp, target, deadline, &mut log),
        Prober::Tcp(tcp) => super::tcp::probe(tcp, target, deadline, &mut log),
        Prober::Dns(dns) => super::dns::probe(dns, target, deadline, &mut log),
        Prober::Http(http) => super::http::probe(http, target, deadline, &mut log),
        Prober::Tcping(tcping) => super::tcping::probe(tcping, target, deadline, &mut log),
        Prober::Echo(echo) => super::echo::probe(echo, target, deadline, &mut log),
        Prober::Trace(trace) => super::trace::probe(trace, target, deadline, &mut log),
    };
    let duration = started.elapsed();
    finish(found, log, duration, timeout)
}

/// The outcome of a probe that could not be run to its end in time.
pub fn timed_out(timeout: Duration, log: ProbeLog) -> Outcome {
    let mut log = log;
    log.error(format!(
        "Probe did not finish within its {} s",
        timeout.as_secs_f64()
    ));
    finish(Found::failed(Vec::new()), log, timeout, timeout)
}

fn finish(found: Found, mut log: ProbeLog, duration: Duration, timeout: Duration) -> Outcome {
    if found.success {
        log.info(format!(
            "Probe succeeded: duration_seconds={}",
            duration.as_secs_f64()
        ));
    } else {
        log.error(format!(
            "Probe failed: duration_seconds={}",
            duration.as_secs_f64()
        ));
    }
    let mut families = vec![
        Family::single(
            "probe_success",
            "Displays whether or not the probe was a success",
            if found.success { 1.0 } else { 0.0 },
        ),
        Family::single(
            "probe_duration_seconds",
            "Returns how long the probe took to complete in seconds",
            duration.as_secs_f64(),
        ),
        // blackbox_exporter 0.24 and later have it too.
        Family::single(
            "probe_timeout_seconds",
            "Returns how long the probe timeout is in seconds",
            timeout.as_secs_f64(),
        ),
    ];
    families.extend(found.families);
    Outcome {
        success: found.success,
        families,
        log,
        duration,
    }
}

/// The address a probe goes to.
#[derive(Debug, Clone, Copy)]
pub struct Chosen {
    /// The address.
    pub address: IpAddr,
    /// Its IPv6 zone, else 0.
    pub scope_id: u32,
}

/// Resolves `host` as blackbox's `chooseProtocol` does (the preferred
/// family, the other as a fallback if allowed) and adds its three gauges:
/// `probe_dns_lookup_time_seconds`, `probe_ip_protocol`, `probe_ip_addr_hash`.
pub fn choose(
    host: &str,
    resolve: &Resolve,
    log: &mut ProbeLog,
    families: &mut Vec<Family>,
) -> Option<Chosen> {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    log.info(format!(
        "Resolving target address: target={host} ip_protocol={}",
        protocol_word(resolve.preferred)
    ));
    let started = Instant::now();
    let asked = if resolve.fallback {
        FamilyChoice::Any
    } else {
        match resolve.preferred {
            IpProtocol::V4 => FamilyChoice::V4,
            IpProtocol::V6 => FamilyChoice::V6,
        }
    };
    let result = crate::names::resolve(host, asked);
    let lookup = started.elapsed().as_secs_f64();
    let chosen = match result {
        Ok(resolved) => {
            let preferred = resolved
                .addresses
                .iter()
                .find(|a| a.is_ipv6() == (resolve.preferred == IpProtocol::V6))
                .or_else(|| resolved.addresses.first())
                .copied();
            preferred.map(|address| Chosen {
                address,
                scope_id: resolved.scope_id,
            })
        }
        Err(err) => {
            log.error(format!("Error resolving address: target={host} err={err}"));
            None
        }
    };
    families.push(Family::single(
        "probe_dns_lookup_time_seconds",
        "Returns the time taken for probe dns lookup in seconds",
        lookup,
    ));
    let (protocol, hash) = match chosen {
        Some(chosen) => {
            log.info(format!(
                "Resolved target address: target={host} ip={}",
                chosen.address
            ));
            (
                if chosen.address.is_ipv6() { 6.0 } else { 4.0 },
                ip_hash(chosen.address),
            )
        }
        None => (0.0, 0.0),
    };
    families.push(Family::single(
        "probe_ip_protocol",
        "Specifies whether probe ip protocol is IP4 or IP6",
        protocol,
    ));
    families.push(Family::single(
        "probe_ip_addr_hash",
        "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        hash,
    ));
    chosen
}

fn protocol_word(protocol: IpProtocol) -> &'static str {
    match protocol {
        IpProtocol::V4 => "ip4",
        IpProtocol::V6 => "ip6",
    }
}

/// Resolves a `HOST:PORT` target (with `default_port`, `HOST` alone too)
/// to the socket address a probe connects to, adding [`choose`]'s gauges;
/// `None` (logged) when it does not split or resolve.
pub fn endpoint(
    target: &str,
    default_port: Option<u16>,
    resolve: &Resolve,
    log: &mut ProbeLog,
    families: &mut Vec<Family>,
) -> Option<std::net::SocketAddr> {
    let split = match default_port {
        Some(port) => host_default_port(target, port),
        None => host_port(target),
    };
    let (host, port) = match split {
        Ok(split) => split,
        Err(err) => {
            log.error(format!("Error splitting target address and port: {err}"));
            return None;
        }
    };
    let chosen = choose(&host, resolve, log, families)?;
    Some(match chosen.address {
        IpAddr::V6(v6) => {
            std::net::SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, chosen.scope_id))
        }
        v4 => std::net::SocketAddr::new(v4, port),
    })
}

/// Time left until `deadline`, at least a millisecond (engines take no zero).
pub fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// How long each of `count` packets, `interval` apart, may wait for its
/// answer so that the last one's wait still ends by `deadline`.
pub fn per_probe_timeout(deadline: Instant, interval: Duration, count: u32) -> Duration {
    let spread = interval.saturating_mul(count.saturating_sub(1));
    left(deadline)
        .saturating_sub(spread)
        .max(Duration::from_millis(1))
}

/// Splits `HOST:PORT` (`[V6]:PORT`); the port is required.
pub fn host_port(target: &str) -> Result<(String, u16), String> {
    crate::tcping::split_target(target, None).map_err(|err| err.to_string())
}

/// Splits `HOST[:PORT]`, with `default` when there is no port.
pub fn host_default_port(target: &str, default: u16) -> Result<(String, u16), String> {
    if target.parse::<IpAddr>().is_ok() {
        return Ok((target.to_string(), default));
    }
    if let Some(inner) = target.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Ok((inner.to_string(), default));
    }
    if target.contains(':') {
        return host_port(target);
    }
    Ok((target.to_string(), default))
}
