//! The tcping schedule on a scripted dialer with a simulated clock:
//! pacing, timeouts, refusals, overlapping probes, late completions and
//! the statistics ping would print.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::engine::{Dialer, Finished, Handshake, run};
use super::{Request, Status};
use crate::clock::{Clock, SimClock};

/// What the scripted host does with probe n: answer after a delay with a
/// handshake, or never.
#[derive(Clone)]
enum Script {
    After(Duration, Handshake),
    Never,
    AtOnce(Handshake),
}

struct Scripted {
    clock: SimClock,
    scripts: VecDeque<Script>,
    /// (when it finishes, the finished probe), in flight.
    pending: Vec<(Instant, Finished)>,
    started: Vec<(u64, Duration)>,
    abandoned: Vec<u64>,
    stop_after: Option<u64>,
}

impl Scripted {
    fn new(clock: &SimClock, scripts: &[Script]) -> Scripted {
        Scripted {
            clock: clock.clone(),
            scripts: scripts.iter().cloned().collect(),
            pending: Vec::new(),
            started: Vec::new(),
            abandoned: Vec::new(),
            stop_after: None,
        }
    }
}

fn connected(rtt_us: u64) -> Handshake {
    Handshake::Connected {
        kernel_rtt: Some(Duration::from_micros(rtt_us)),
        syn_retransmits: Some(0),
        local_port: Some(40000),
    }
}

impl Dialer for Scripted {
    fn start(&mut self, seq: u64) -> io::Result<Option<Finished>> {
        self.started.push((seq, self.clock.elapsed()));
        let script = self.scripts.pop_front().unwrap_or(Script::Never);
        match script {
            Script::After(delay, handshake) => {
                self.pending.push((
                    self.clock.now() + delay,
                    Finished {
                        seq,
                        handshake,
                        elapsed: delay,
                    },
                ));
                Ok(None)
            }
            Script::Never => Ok(None),
            Script::AtOnce(handshake) => Ok(Some(Finished {
                seq,
                handshake,
                elapsed: Duration::from_micros(3),
            })),
        }
    }

    fn wait(&mut self, deadline: Instant) -> io::Result<Option<Finished>> {
        let next = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| *at <= deadline)
            .min_by_key(|(_, (at, _))| *at)
            .map(|(i, _)| i);
        match next {
            Some(i) => {
                let (at, finished) = self.pending.remove(i);
                self.clock.advance_to(at);
                Ok(Some(finished))
            }
            None => {
                self.clock.advance_to(deadline);
                Ok(None)
            }
        }
    }

    fn abandon(&mut self, seq: u64) {
        self.abandoned.push(seq);
        self.pending.retain(|(_, f)| f.seq != seq);
    }

    fn stopped(&mut self) -> bool {
        self.stop_after
            .is_some_and(|n| self.started.len() as u64 >= n && self.pending.is_empty())
    }
}

fn request(count: u64) -> Request {
    Request {
        target: SocketAddr::from(([10, 0, 0, 2], 80)),
        count: Some(count),
        interval: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
    }
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn probes_start_every_interval_and_the_statistics_are_pings() {
    let clock = SimClock::new();
    let scripts = [
        Script::After(MS, connected(1000)),
        Script::After(MS * 3, connected(3000)),
        Script::After(MS * 2, connected(2000)),
    ];
    let mut dialer = Scripted::new(&clock, &scripts);
    let mut lines = Vec::new();
    let report = run(&request(3), "h", &mut dialer, &clock, &mut |p| {
        lines.push((p.seq, p.status, p.time_ms));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        dialer.started,
        [(1, Duration::ZERO), (2, MS * 1000), (3, MS * 2000)]
    );
    assert_eq!(
        lines,
        [
            (1, Status::Connected, Some(1.0)),
            (2, Status::Connected, Some(3.0)),
            (3, Status::Connected, Some(2.0))
        ]
    );
    assert_eq!((report.transmitted, report.connected), (3, 3));
    assert_eq!(report.loss_percent, 0.0);
    let rtt = report.rtt.unwrap();
    assert_eq!((rtt.min, rtt.avg, rtt.max), (1.0, 2.0, 3.0));
    // Population standard deviation, to the nanosecond.
    assert!((rtt.mdev - (2.0f64 / 3.0).sqrt()).abs() < 1e-6, "{rtt:?}");
    // The run ends when the last probe does, not an interval later.
    assert_eq!(clock.elapsed(), MS * 2002);
}

#[test]
fn a_refusal_is_closed_a_silence_times_out_and_neither_is_a_reply() {
    let clock = SimClock::new();
    let scripts = [
        Script::After(MS, Handshake::Refused),
        Script::Never,
        Script::AtOnce(Handshake::Failed("No route to host (EHOSTUNREACH)".into())),
        Script::After(MS, connected(500)),
    ];
    let mut dialer = Scripted::new(&clock, &scripts);
    let report = run(&request(4), "h", &mut dialer, &clock, &mut |_| Ok(())).unwrap();
    let statuses: Vec<Status> = report.probes.iter().map(|p| p.status).collect();
    // The timeout (2 s) of probe 2 ends after probes 3 and 4 finished.
    assert_eq!(
        statuses,
        [
            Status::Closed,
            Status::Error,
            Status::Timeout,
            Status::Connected
        ]
    );
    assert_eq!(
        (
            report.closed,
            report.timeouts,
            report.errors,
            report.connected
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(report.loss_percent, 75.0);
    assert_eq!(dialer.abandoned, [2]);
    assert!(report.success());
    // Only the handshake counts in the round trips.
    let rtt = report.rtt.unwrap();
    assert_eq!((rtt.min, rtt.max), (0.5, 0.5));
    // The refusal shows how long the RST took, as an error line would.
    assert_eq!(report.probes[0].time_ms, Some(1.0));
}

#[test]
fn without_a_kernel_sample_the_connect_time_is_shown() {
    let clock = SimClock::new();
    let retransmitted = Handshake::Connected {
        kernel_rtt: None,
        syn_retransmits: Some(1),
        local_port: Some(40001),
    };
    let mut dialer = Scripted::new(&clock, &[Script::After(MS * 1003, retransmitted)]);
    let report = run(&request(1), "h", &mut dialer, &clock, &mut |_| Ok(())).unwrap();
    let probe = &report.probes[0];
    assert_eq!(probe.kernel_rtt_ms, None);
    assert_eq!(
        probe.time_ms.map(|ms| (ms * 1000.0).round()),
        Some(1_003_000.0)
    );
    assert_eq!(probe.syn_retransmits, Some(1));
}

#[test]
fn every_probe_timing_out_is_a_negative_answer_after_the_last_timeout() {
    let clock = SimClock::new();
    let mut dialer = Scripted::new(&clock, &[]);
    let report = run(&request(3), "h", &mut dialer, &clock, &mut |_| Ok(())).unwrap();
    assert_eq!(report.timeouts, 3);
    assert!(!report.success());
    assert_eq!(report.rtt, None);
    assert_eq!(report.loss_percent, 100.0);
    // Probe 3 starts at 2 s and times out 2 s later.
    assert_eq!(clock.elapsed(), MS * 4000);
    assert_eq!(dialer.abandoned, [1, 2, 3]);
}

#[test]
fn a_stop_ends_the_run_and_abandons_what_is_in_flight() {
    let clock = SimClock::new();
    let mut request = request(100);
    request.count = None;
    let mut dialer = Scripted::new(&clock, &[Script::After(MS, connected(1000))]);
    dialer.stop_after = Some(3);
    let report = run(&request, "h", &mut dialer, &clock, &mut |_| Ok(())).unwrap();
    assert_eq!(report.transmitted, 3);
    assert_eq!(report.connected, 1);
    assert!(report.probes.len() <= 3);
}

#[test]
fn a_long_run_keeps_the_last_probes_and_exact_counts() {
    let clock = SimClock::new();
    let count = 10_500u64;
    let scripts: Vec<Script> = (0..count)
        .map(|_| Script::After(MS, connected(1000)))
        .collect();
    let mut dialer = Scripted::new(&clock, &scripts);
    let mut request = request(count);
    request.interval = MS * 2;
    let report = run(&request, "h", &mut dialer, &clock, &mut |_| Ok(())).unwrap();
    assert_eq!(report.connected, count);
    assert_eq!(report.probes.len(), 10_000);
    assert_eq!(report.probes[0].seq, 501);
}

#[test]
fn a_schedule_faster_than_the_timeouts_never_holds_more_than_the_cap_in_flight() {
    let clock = SimClock::new();
    let mut dialer = Scripted::new(&clock, &[]);
    let mut request = request(1000);
    request.interval = Duration::from_micros(100);
    let report = run(&request, "h", &mut dialer, &clock, &mut |_| Ok(())).unwrap();
    assert_eq!(report.timeouts, 1000);
    // Probe n+cap starts only when probe n has timed out.
    let cap = super::engine::MAX_IN_FLIGHT;
    let (_, first) = dialer.started[0];
    let (_, after_cap) = dialer.started[cap];
    assert!(after_cap >= first + request.timeout, "{after_cap:?}");
}
