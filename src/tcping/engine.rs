//! The tcping schedule: a probe every interval (as ping sends, whatever
//! the previous probe is doing), each given `timeout` to finish, several in
//! flight when the timeout is longer than the interval; statistics as ping
//! keeps them.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use super::{Probe, Report, Request, Status};
use crate::clock::Clock;
use crate::rtt::Rtt;

/// Probes kept for the report; the counts and statistics stay exact.
const KEPT_PROBES: usize = 10_000;
/// Handshakes in flight at most (a socket each): a schedule faster than
/// the timeouts waits for one to end instead of running out of files.
pub const MAX_IN_FLIGHT: usize = 256;

/// How a handshake ended, as the dialer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// Completed.
    Connected {
        /// The kernel's handshake round trip, when it took a sample.
        kernel_rtt: Option<Duration>,
        /// SYNs sent again.
        syn_retransmits: Option<u32>,
        /// Our local port.
        local_port: Option<u16>,
    },
    /// Refused with an RST.
    Refused,
    /// Another failure, with the kernel's words.
    Failed(String),
}

/// A finished probe: which, how, and how long connect() took to finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Its sequence number.
    pub seq: u64,
    /// How it ended.
    pub handshake: Handshake,
    /// connect() to the outcome, measured next to the syscalls.
    pub elapsed: Duration,
}

/// Where the handshakes happen: real sockets, or a script in simulation.
pub trait Dialer {
    /// Starts probe `seq` (a non-blocking connect); `Some` when it finished
    /// at once (a local error).
    fn start(&mut self, seq: u64) -> io::Result<Option<Finished>>;
    /// The next probe that finished, waiting until `deadline` at most.
    fn wait(&mut self, deadline: Instant) -> io::Result<Option<Finished>>;
    /// Gives up on probe `seq` (timed out) and closes its socket.
    fn abandon(&mut self, seq: u64);
    /// Whether the user asked to stop (Ctrl-C).
    fn stopped(&mut self) -> bool;
}

/// What stopped a run early.
#[derive(Debug)]
pub enum RunError {
    /// The dialer failed.
    Dial(io::Error),
    /// Printing a probe failed (the reader of the output left).
    Output(io::Error),
}

/// Runs the probes of `request`; `on_probe` sees each as it ends.
pub fn run<D: Dialer, C: Clock>(
    request: &Request,
    host: &str,
    dialer: &mut D,
    clock: &C,
    on_probe: &mut dyn FnMut(&Probe) -> io::Result<()>,
) -> Result<Report, RunError> {
    let started = clock.now();
    let mut report = Report {
        host: host.to_string(),
        address: request.target.ip(),
        port: request.target.port(),
        transmitted: 0,
        connected: 0,
        closed: 0,
        timeouts: 0,
        errors: 0,
        loss_percent: 0.0,
        rtt: None,
        elapsed_ms: 0.0,
        probes: Vec::new(),
    };
    let mut kept: VecDeque<Probe> = VecDeque::new();
    let mut rtt = Rtt::default();
    // Probes in flight: sequence number → when it times out.
    let mut in_flight: BTreeMap<u64, Instant> = BTreeMap::new();
    let mut next_seq = 1u64;
    let mut next_start = started;
    let mut record = |report: &mut Report, probe: Probe| -> io::Result<()> {
        match probe.status {
            Status::Connected => report.connected += 1,
            Status::Closed => report.closed += 1,
            Status::Timeout => report.timeouts += 1,
            Status::Error => report.errors += 1,
        }
        if let (Status::Connected, Some(ms)) = (probe.status, probe.time_ms) {
            rtt.add(Duration::from_secs_f64(ms / 1000.0));
        }
        on_probe(&probe)?;
        if kept.len() == KEPT_PROBES {
            kept.pop_front();
        }
        kept.push_back(probe);
        Ok(())
    };
    loop {
        if dialer.stopped() {
            for seq in in_flight.keys() {
                dialer.abandon(*seq);
            }
            break;
        }
        let now = clock.now();
        let more = request.count.is_none_or(|count| next_seq <= count);
        let room = in_flight.len() < MAX_IN_FLIGHT;
        if more && room && now >= next_start {
            let seq = next_seq;
            next_seq += 1;
            next_start += request.interval;
            report.transmitted += 1;
            match dialer.start(seq).map_err(RunError::Dial)? {
                Some(finished) => record(&mut report, probe(finished)).map_err(RunError::Output)?,
                None => {
                    in_flight.insert(seq, now + request.timeout);
                }
            }
            continue;
        }
        // The earliest timeout, if one has passed.
        if let Some((&seq, _)) = in_flight.iter().find(|(_, at)| **at <= now) {
            in_flight.remove(&seq);
            dialer.abandon(seq);
            let timed_out = Probe {
                seq,
                status: Status::Timeout,
                time_ms: None,
                kernel_rtt_ms: None,
                connect_ms: None,
                syn_retransmits: None,
                local_port: None,
                error: None,
            };
            record(&mut report, timed_out).map_err(RunError::Output)?;
            continue;
        }
        if !more && in_flight.is_empty() {
            break;
        }
        let mut wake = in_flight.values().min().copied();
        if more && room {
            wake = Some(wake.map_or(next_start, |at| at.min(next_start)));
        }
        let Some(wake) = wake else { break };
        if let Some(finished) = dialer.wait(wake).map_err(RunError::Dial)? {
            // A late completion of a probe already counted is dropped.
            if in_flight.remove(&finished.seq).is_some() {
                record(&mut report, probe(finished)).map_err(RunError::Output)?;
            }
        }
    }
    report.loss_percent = crate::ping::stats::loss_percent(report.transmitted, report.connected);
    report.rtt = rtt.summary();
    report.elapsed_ms = clock.now().saturating_duration_since(started).as_secs_f64() * 1000.0;
    report.probes = kept.into_iter().collect();
    Ok(report)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A finished handshake as the probe the report and the lines show.
fn probe(finished: Finished) -> Probe {
    let connect_ms = Some(ms(finished.elapsed));
    let mut probe = Probe {
        seq: finished.seq,
        status: Status::Error,
        time_ms: None,
        kernel_rtt_ms: None,
        connect_ms,
        syn_retransmits: None,
        local_port: None,
        error: None,
    };
    match finished.handshake {
        Handshake::Connected {
            kernel_rtt,
            syn_retransmits,
            local_port,
        } => {
            probe.status = Status::Connected;
            probe.kernel_rtt_ms = kernel_rtt.map(ms);
            probe.time_ms = probe.kernel_rtt_ms.or(connect_ms);
            probe.syn_retransmits = syn_retransmits;
            probe.local_port = local_port;
        }
        Handshake::Refused => {
            probe.status = Status::Closed;
            probe.time_ms = connect_ms;
            probe.error = Some("connection refused (RST)".into());
        }
        Handshake::Failed(why) => probe.error = Some(why),
    }
    probe
}
