//! The ping engine in simulation: a scripted network on a simulated clock,
//! so each scenario — loss, duplicates, reordering, late replies, ICMP
//! errors, sequence wrap-around, a wall-clock step, a /16 sweep — runs in
//! milliseconds with exact times, and a run that would wait forever fails
//! instead of hanging.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use super::echo::{EchoReply, ProbeError, Received};
use super::engine::{self, Mode, Plan};
use super::network::{EchoNetwork, Readiness};
use super::{Event, ReplyStatus, Target, TargetReport};
use crate::clock::{Clock, SimClock};
use crate::net::ErrorOrigin;
use crate::signals::Interrupts;

/// How long a simulated sendto() takes.
const SEND_COST: Duration = Duration::from_micros(3);

/// What a scripted host does with one probe.
#[derive(Debug, Clone)]
enum Response {
    /// An echo reply after `after`.
    Reply { after: Duration },
    /// An echo reply after `after` whose data byte 0 is flipped.
    Corrupt { after: Duration },
    /// An ICMP error about the probe after `after`, from `from`; `about`
    /// overrides the destination the error names.
    Error {
        after: Duration,
        from: IpAddr,
        about: Option<IpAddr>,
    },
    /// sendto() fails at once with this errno.
    SendFails(i32),
}

/// Called for each probe to a host: (its icmp_seq, how many probes that host got before).
type Script = Box<dyn FnMut(u16, u64) -> Vec<Response>>;

enum Arrival {
    Reply(Received),
    Error(ProbeError),
}

/// The scripted network.
struct SimNet {
    clock: SimClock,
    hosts: HashMap<IpAddr, (Script, u64)>,
    /// Arrivals by time (ns since the clock's start), then by order of scheduling.
    pending: BinaryHeap<Reverse<(u128, u64)>>,
    arrivals: HashMap<u64, (usize, Arrival)>,
    next_id: u64,
    replies: [VecDeque<Received>; 2],
    errors: [VecDeque<ProbeError>; 2],
    sent: u64,
    waits: u64,
}

impl SimNet {
    fn new(clock: &SimClock) -> Self {
        SimNet {
            clock: clock.clone(),
            hosts: HashMap::new(),
            pending: BinaryHeap::new(),
            arrivals: HashMap::new(),
            next_id: 0,
            replies: Default::default(),
            errors: Default::default(),
            sent: 0,
            waits: 0,
        }
    }

    fn host(&mut self, address: IpAddr, script: impl FnMut(u16, u64) -> Vec<Response> + 'static) {
        self.hosts.insert(address, (Box::new(script), 0));
    }

    fn schedule(&mut self, sent: Duration, after: Duration, family: usize, arrival: Arrival) {
        let at = sent + after;
        self.next_id += 1;
        self.pending.push(Reverse((at.as_nanos(), self.next_id)));
        self.arrivals.insert(self.next_id, (family, arrival));
    }

    /// Moves time to `until`, queueing each arrival due by then, stamped
    /// with the wall clock of its own moment (as the kernel stamps it).
    fn run_until(&mut self, until: Duration) {
        while let Some(Reverse((at, id))) = self.pending.peek().copied() {
            if at > until.as_nanos() {
                break;
            }
            self.pending.pop();
            self.clock
                .advance_to(self.clock.now() - self.clock.elapsed() + nanos(at));
            if let Some((family, arrival)) = self.arrivals.remove(&id) {
                match arrival {
                    Arrival::Reply(mut received) => {
                        received.at = Some(self.clock.wall());
                        self.replies[family].push_back(received);
                    }
                    Arrival::Error(error) => self.errors[family].push_back(error),
                }
            }
        }
        let start = self.clock.now() - self.clock.elapsed();
        self.clock.advance_to(start + until);
    }

    fn next_arrival(&self) -> Option<Duration> {
        self.pending.peek().map(|Reverse((at, _))| nanos(*at))
    }
}

fn nanos(ns: u128) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

impl EchoNetwork for SimNet {
    fn has(&self, _family: usize) -> bool {
        true
    }

    fn send(&mut self, target: &Target, seq: u16, payload: &[u8]) -> io::Result<SystemTime> {
        let (target, family) = (target.address, usize::from(target.address.is_ipv6()));
        let at = self.clock.wall();
        // The syscall takes a while: replies are timed from before it, as
        // the real socket's wall-clock stamp is.
        let started = self.clock.elapsed();
        self.clock.advance(SEND_COST);
        let Some((script, count)) = self.hosts.get_mut(&target) else {
            self.sent += 1;
            return Ok(at);
        };
        let responses = script(seq, *count);
        *count += 1;
        for response in responses {
            let reply = |data: Vec<u8>| {
                Arrival::Reply(Received {
                    from: target,
                    ttl: Some(64),
                    at: None,
                    reply: Some(EchoReply {
                        seq,
                        header_ttl: None,
                        icmp_len: 8 + data.len(),
                        data,
                        checksum_ok: true,
                    }),
                })
            };
            match response {
                Response::SendFails(errno) => return Err(io::Error::from_raw_os_error(errno)),
                Response::Reply { after } => {
                    self.schedule(started, after, family, reply(payload.to_vec()))
                }
                Response::Corrupt { after } => {
                    let mut data = payload.to_vec();
                    if let Some(first) = data.first_mut() {
                        *first ^= 0xff;
                    }
                    self.schedule(started, after, family, reply(data));
                }
                Response::Error { after, from, about } => self.schedule(
                    started,
                    after,
                    family,
                    Arrival::Error(ProbeError {
                        origin: ErrorOrigin::Icmp {
                            from: Some(from),
                            v6: false,
                            icmp_type: 3,
                            code: 1,
                            info: 0,
                        },
                        target: Some(about.unwrap_or(target)),
                        seq,
                    }),
                ),
            }
        }
        self.sent += 1;
        Ok(at)
    }

    fn recv(&mut self, family: usize) -> io::Result<Option<Received>> {
        Ok(self.replies[family].pop_front())
    }

    fn recv_error(&mut self, family: usize) -> io::Result<Option<Option<ProbeError>>> {
        Ok(self.errors[family].pop_front().map(Some))
    }

    fn wait(
        &mut self,
        sockets: bool,
        timeout: Option<Duration>,
        _interrupts: &Interrupts,
    ) -> io::Result<Readiness> {
        self.waits += 1;
        if self.waits > 50_000_000 {
            return Err(io::Error::other("the engine spins without making progress"));
        }
        let now = self.clock.elapsed();
        let deadline = timeout.map(|t| now + t);
        let wake = if sockets {
            match (deadline, self.next_arrival()) {
                (Some(d), Some(a)) => d.min(a),
                (Some(d), None) => d,
                (None, Some(a)) => a,
                (None, None) => {
                    return Err(io::Error::other(
                        "the engine waits forever: no timer and nothing left to arrive",
                    ));
                }
            }
        } else {
            deadline.ok_or_else(|| io::Error::other("the engine waits forever for a signal"))?
        };
        self.run_until(wake.max(now));
        let mut ready = Readiness::default();
        for family in 0..2 {
            ready.readable[family] = !self.replies[family].is_empty();
            ready.errored[family] = !self.errors[family].is_empty();
        }
        Ok(ready)
    }
}

/// What the observer saw.
#[derive(Default)]
struct Seen {
    replies: Vec<(u16, ReplyStatus, Duration)>,
    errors: Vec<u16>,
    timeouts: Vec<u16>,
    send_failures: u64,
    done: Vec<TargetReport>,
    started: u64,
    most_active: u64,
}

fn target(index: usize, address: IpAddr) -> Target {
    Target {
        index,
        name: address.to_string(),
        address,
        scope_id: 0,
        named: false,
    }
}

fn host(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a63_0000 + n))
}

fn one_host(count: u64, interval_ms: u64, timeout_ms: u64) -> Plan {
    Plan {
        mode: Mode::Count(Some(count)),
        interval: Duration::from_millis(interval_ms),
        period: Duration::from_millis(interval_ms),
        timeout: Duration::from_millis(timeout_ms),
        deadline: None,
        payload: (0..56).collect(),
        flood: false,
        report_outstanding: false,
        keep_replies: false,
    }
}

fn sweep(retries: u32) -> Plan {
    Plan {
        mode: Mode::UntilAlive { retries },
        interval: Duration::from_millis(1),
        period: Duration::from_secs(1),
        timeout: Duration::from_millis(500),
        ..one_host(1, 1, 500)
    }
}

/// Runs `plan` over `targets` on `net`; the observer's record and the
/// simulated time it took.
fn run(plan: &Plan, net: &mut SimNet, clock: &SimClock, targets: Vec<Target>) -> (Seen, Duration) {
    let mut seen = Seen::default();
    let mut started = std::collections::HashSet::new();
    let interrupts = Interrupts::never().unwrap();
    let mut targets = targets.into_iter();
    let result = engine::run(plan, net, clock, &mut targets, &interrupts, &mut |event| {
        match event {
            Event::Sent { target, .. } => {
                if started.insert(target.index) {
                    seen.started += 1;
                }
            }
            Event::Reply { reply, .. } => seen.replies.push((reply.seq, reply.status, reply.rtt)),
            Event::Error { error, .. } => seen.errors.push(error.seq),
            Event::Timeout { seq, .. } => seen.timeouts.push(seq),
            Event::SendFailed { target, .. } => {
                seen.send_failures += 1;
                started.insert(target.index);
            }
            Event::Done(report) => {
                started.remove(&report.index);
                seen.done.push(*report);
            }
            Event::NoAnswerYet { .. } | Event::Status(_) => {}
        }
        seen.most_active = seen.most_active.max(started.len() as u64);
        Ok(())
    });
    if let Err(err) = result {
        panic!("the run failed: {err}");
    }
    (seen, clock.elapsed())
}

/// Pings host 1, which answers as `script` says, with `plan`: the
/// observer's record and the simulated time it took.
fn ping_host(
    plan: &Plan,
    script: impl FnMut(u16, u64) -> Vec<Response> + 'static,
) -> (Seen, Duration) {
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    net.host(host(1), script);
    run(plan, &mut net, &clock, vec![target(0, host(1))])
}

fn replies_after(ms: u64) -> impl FnMut(u16, u64) -> Vec<Response> {
    move |_, _| {
        vec![Response::Reply {
            after: Duration::from_millis(ms),
        }]
    }
}

#[test]
fn every_probe_of_a_counted_run_ends_in_one_good_reply_error_or_timeout() {
    let router = host(254);
    let (seen, _) = ping_host(&one_host(10, 100, 300), move |seq, _| match seq % 5 {
        1 => replies_after(2)(seq, 0),
        2 => vec![Response::Error {
            after: Duration::from_millis(1),
            from: router,
            about: None,
        }],
        3 => vec![Response::Corrupt {
            after: Duration::from_millis(2),
        }],
        4 => replies_after(400)(seq, 0),
        _ => vec![],
    });
    let good = seen
        .replies
        .iter()
        .filter(|r| r.1 == ReplyStatus::Good)
        .map(|r| r.0);
    let mut ends: Vec<u16> = good
        .chain(seen.errors.iter().copied())
        .chain(seen.timeouts.iter().copied())
        .collect();
    ends.sort_unstable();
    assert_eq!(ends, (1..=10).collect::<Vec<u16>>());
    // Corrupted, late and silent probes are the ones given up on.
    assert_eq!(seen.timeouts, [3, 4, 5, 8, 9, 10]);
    let report = &seen.done[0];
    assert_eq!(
        report.transmitted - report.received - report.errors,
        seen.timeouts.len() as u64
    );
}

#[test]
fn a_silent_host_is_given_up_on_one_timeout_after_the_last_probe() {
    let (seen, took) = ping_host(&one_host(3, 1000, 2000), |_, _| vec![]);
    let report = &seen.done[0];
    assert_eq!((report.transmitted, report.received), (3, 0));
    assert!(took >= Duration::from_millis(4000), "{took:?}");
    assert!(took <= Duration::from_millis(4100), "{took:?}");
}

#[test]
fn lost_probes_count_as_sent_and_not_received() {
    let (seen, _) = ping_host(&one_host(6, 100, 1000), |seq, _| {
        if seq % 2 == 0 {
            vec![]
        } else {
            vec![Response::Reply {
                after: Duration::from_millis(3),
            }]
        }
    });
    let report = &seen.done[0];
    assert_eq!((report.transmitted, report.received), (6, 3));
    assert_eq!(report.loss_pct, 50.0);
    assert!(seen.replies.iter().all(|(seq, _, _)| seq % 2 == 1));
}

#[test]
fn a_duplicate_is_shown_and_counted_apart_never_as_received() {
    // Like iputils, the run ends at the last probe's first reply.
    let (seen, _) = ping_host(&one_host(3, 100, 1000), |_, _| {
        vec![
            Response::Reply {
                after: Duration::from_millis(2),
            },
            Response::Reply {
                after: Duration::from_millis(7),
            },
        ]
    });
    let report = &seen.done[0];
    assert_eq!((report.received, report.duplicates), (3, 2));
    let statuses: Vec<ReplyStatus> = seen.replies.iter().map(|r| r.1).collect();
    use ReplyStatus::{Duplicate, Good};
    assert_eq!(statuses, [Good, Duplicate, Good, Duplicate, Good]);
}

#[test]
fn reordered_replies_each_match_their_own_probe_and_round_trip() {
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    // Probe 1 takes 50 ms, probe 2 5 ms: probe 2's reply arrives first.
    net.host(host(1), |seq, _| {
        let ms = if seq == 1 { 50 } else { 5 };
        vec![Response::Reply {
            after: Duration::from_millis(ms),
        }]
    });
    let (seen, _) = run(
        &one_host(2, 10, 1000),
        &mut net,
        &clock,
        vec![target(0, host(1))],
    );
    let order: Vec<(u16, Duration)> = seen.replies.iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        order,
        [
            (2, Duration::from_millis(5)),
            (1, Duration::from_millis(50))
        ]
    );
    assert_eq!(seen.done[0].received, 2);
}

#[test]
fn a_reply_after_the_timeout_is_late_not_received() {
    let (seen, _) = ping_host(&one_host(2, 2000, 1000), replies_after(1500));
    let report = &seen.done[0];
    assert_eq!((report.received, report.late), (0, 1), "{:?}", seen.replies);
    assert!(seen.replies.iter().all(|r| r.1 == ReplyStatus::Late));
}

#[test]
fn a_corrupted_echo_is_reported_and_not_received() {
    let (seen, _) = ping_host(&one_host(1, 100, 1000), |_, _| {
        vec![Response::Corrupt {
            after: Duration::from_millis(1),
        }]
    });
    assert_eq!((seen.done[0].received, seen.done[0].corrupted), (0, 1));
    assert!(matches!(seen.replies[0].1, ReplyStatus::Corrupted(_)));
}

#[test]
fn icmp_errors_answer_iputils_probes_and_end_the_run_without_waiting() {
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    let router = host(254);
    net.host(host(1), move |_, _| {
        vec![Response::Error {
            after: Duration::from_millis(1),
            from: router,
            about: None,
        }]
    });
    let (seen, took) = run(
        &one_host(2, 1000, 10_000),
        &mut net,
        &clock,
        vec![target(0, host(1))],
    );
    let report = &seen.done[0];
    assert_eq!(
        (report.transmitted, report.received, report.errors),
        (2, 0, 2)
    );
    assert!(took < Duration::from_millis(1100), "{took:?}");
}

#[test]
fn an_unreachable_sweep_finishes_after_its_retries() {
    // The router answers Host Unreachable for every probe (issue: a sweep
    // used to wait forever once an error had answered its only probe).
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    let router = host(254);
    for n in [1, 2] {
        net.host(host(n), move |_, _| {
            vec![Response::Error {
                after: Duration::from_millis(1),
                from: router,
                about: None,
            }]
        });
    }
    let targets = vec![target(0, host(1)), target(1, host(2))];
    let (seen, took) = run(&sweep(2), &mut net, &clock, targets);
    assert_eq!(seen.done.len(), 2);
    for report in &seen.done {
        assert_eq!((report.transmitted, report.received), (3, 0));
        assert_eq!(report.errors, 3);
    }
    // 1 + 2 retries, each after a 500 ms timeout.
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(took < Duration::from_millis(1600), "{took:?}");
}

#[test]
fn a_sweep_whose_sends_fail_retries_and_then_gives_up() {
    let (seen, _) = ping_host(&sweep(1), |_, _| {
        vec![Response::SendFails(libc::EHOSTUNREACH)]
    });
    assert_eq!(seen.send_failures, 2);
    assert_eq!((seen.done[0].transmitted, seen.done[0].received), (2, 0));
}

#[test]
fn a_failed_send_in_a_counted_ping_is_lost_and_the_run_goes_on() {
    let (seen, _) = ping_host(&one_host(3, 100, 1000), |seq, _| {
        if seq == 2 {
            vec![Response::SendFails(libc::ENETUNREACH)]
        } else {
            vec![Response::Reply {
                after: Duration::from_millis(1),
            }]
        }
    });
    assert_eq!(seen.send_failures, 1);
    assert_eq!((seen.done[0].transmitted, seen.done[0].received), (3, 2));
}

#[test]
fn an_error_naming_another_destination_is_not_taken_for_ours() {
    let (seen, _) = ping_host(&one_host(2, 100, 1000), |_, _| {
        vec![
            Response::Error {
                after: Duration::from_micros(500),
                from: host(254),
                about: Some(host(3)),
            },
            Response::Reply {
                after: Duration::from_millis(1),
            },
        ]
    });
    assert_eq!((seen.done[0].errors, seen.done[0].received), (0, 2));
    assert!(seen.errors.is_empty());
}

#[test]
fn a_long_ping_wraps_its_sequence_from_65535_to_0_without_false_duplicates() {
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    net.host(host(1), |_, _| {
        vec![Response::Reply {
            after: Duration::from_micros(200),
        }]
    });
    let count = 70_000;
    let (seen, _) = run(
        &one_host(count, 1, 1000),
        &mut net,
        &clock,
        vec![target(0, host(1))],
    );
    let report = &seen.done[0];
    assert_eq!((report.transmitted, report.received), (count, count));
    assert_eq!((report.duplicates, report.late), (0, 0));
    let wrap = seen
        .replies
        .windows(2)
        .position(|w| w[0].0 == 65_535)
        .expect("sequence 65535 was used");
    assert_eq!(seen.replies[wrap + 1].0, 0, "icmp_seq wraps to 0");
    assert!(
        seen.replies
            .iter()
            .all(|r| r.2 == Duration::from_micros(200))
    );
}

#[test]
fn a_wall_clock_step_does_not_distort_round_trips() {
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    let stepper = clock.clone();
    net.host(host(1), move |seq, _| {
        // While probe 2 and probe 4 are in flight the wall clock is stepped
        // an hour forward, then back (NTP, `date -s`).
        match seq {
            2 => stepper.jump_wall(3_600_000_000_000),
            4 => stepper.jump_wall(-3_600_000_000_000),
            _ => {}
        }
        vec![Response::Reply {
            after: Duration::from_millis(2),
        }]
    });
    let (seen, _) = run(
        &one_host(5, 1000, 5000),
        &mut net,
        &clock,
        vec![target(0, host(1))],
    );
    assert_eq!(seen.done[0].received, 5);
    for (seq, status, rtt) in &seen.replies {
        assert_eq!(*status, ReplyStatus::Good, "probe {seq}");
        assert_eq!(*rtt, Duration::from_millis(2), "probe {seq}");
    }
}

#[test]
fn a_slash_16_sweep_keeps_only_the_targets_in_flight() {
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    let hosts = 65_536u32;
    for n in (0..hosts).step_by(2) {
        net.host(host(n), replies_after(1));
    }
    let targets = (0..hosts).map(|n| target(n as usize, host(n))).collect();
    let (seen, _) = run(&sweep(0), &mut net, &clock, targets);
    assert_eq!(seen.done.len(), hosts as usize);
    assert_eq!(seen.done.iter().filter(|r| r.alive()).count(), 32_768);
    // One new target a millisecond, each done within its 500 ms timeout:
    // about 500 are ever active at once, whatever the size of the sweep.
    assert!(seen.most_active <= 510, "{}", seen.most_active);
}

#[test]
fn a_probe_lost_long_ago_is_given_up_on_when_its_sequence_comes_round_again() {
    // Probe 1 is lost and the timeout is long; 65,536 probes later its
    // sequence number is needed again, and it is counted lost there and
    // then instead of being waited for (or kept) until its timeout.
    let clock = SimClock::new();
    let mut net = SimNet::new(&clock);
    net.host(host(1), |_, n| {
        if n == 0 {
            return vec![];
        }
        vec![Response::Reply {
            after: Duration::from_micros(50),
        }]
    });
    let count = 70_000;
    let plan = Plan {
        timeout: Duration::from_secs(100),
        ..one_host(count, 1, 100_000)
    };
    let (seen, took) = run(&plan, &mut net, &clock, vec![target(0, host(1))]);
    let report = &seen.done[0];
    assert_eq!((report.transmitted, report.received), (count, count - 1));
    assert!(took < Duration::from_secs(71), "{took:?}");
}
