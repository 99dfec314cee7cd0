//! The probe scheduler: one poll loop, one echo socket per address family,
//! any number of targets.
//!
//! One target with `Mode::Count` behaves like iputils ping; many targets
//! with `Mode::UntilAlive` behave like fping. Memory is bounded by what is in
//! flight: targets are drawn lazily from their source and dropped once their
//! report is handed to the observer.
//!
//! The engine is generic over its network ([`EchoNetwork`]) and its clock
//! ([`Clock`]): the real run uses the echo sockets and the system clocks,
//! and the scenario tests (`ping/scenarios.rs`) a scripted network on a
//! simulated clock (loss, duplicates, reordering, late replies, ICMP errors,
//! sequence wrap-around, a wall-clock step, a /16 sweep).
//!
//! This file schedules (what to send when, how long to wait); `replies.rs`
//! judges what comes back, `completion.rs` gives up on probes and finishes
//! targets.
#![forbid(unsafe_code)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use super::echo::{EchoReply, ProbeError};
use super::network::EchoNetwork;
use super::probes::{Probe, ProbeTable};
use super::stats::{Rtt, loss_percent};
use super::target::Target;
use super::{
    Corruption, Event, IcmpErrorReport, PingError, Reply, ReplyRecord, ReplyStatus, TargetReport,
};
use crate::clock::Clock;
use crate::intmap::IntMap;
use crate::net::{SocketError, round_trip};
use crate::signals::Interrupts;

mod completion;
mod replies;

pub use replies::compare_payload;

/// When the flood has no reply to wait for, it sends at least this often (iputils' MININTERVAL).
const FLOOD_IDLE_INTERVAL: Duration = Duration::from_millis(10);
/// When the next probe is due this soon, replies are read just before it goes out.
const LAZY_READ_WINDOW: Duration = Duration::from_millis(5);
/// The most a timeout may be noticed late (see `next_wakeup`).
const MAX_EXPIRY_SLACK: Duration = Duration::from_millis(10);
/// While pacing, every this many reads empties the socket completely.
const FULL_DRAIN_EVERY: u64 = 16;
/// Packets read from one socket before the loop looks at its timers again.
const READ_BATCH: usize = 256;

/// How many probes each target gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// iputils: this many probes (`None`: until stopped), `period` apart.
    Count(Option<u64>),
    /// fping's default: probe until the first reply, at most `1 + retries`
    /// times, each retry once the previous probe timed out.
    UntilAlive {
        /// Extra attempts after the first.
        retries: u32,
    },
}

/// Everything that shapes a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Probes per target.
    pub mode: Mode,
    /// Least time between any two probes (`-i`).
    pub interval: Duration,
    /// Least time between two probes to the same target (`--period`; `-i` for one host).
    pub period: Duration,
    /// How long a probe waits for its reply (`-W`); later replies count as late.
    pub timeout: Duration,
    /// Stop everything after this long (`-w`).
    pub deadline: Option<Duration>,
    /// The echo payload.
    pub payload: Vec<u8>,
    /// Flood: send as soon as the previous reply is back, or every 10 ms.
    pub flood: bool,
    /// Report probes still unanswered when the next one goes out (`-O`).
    pub report_outstanding: bool,
    /// Keep a record of every reply for `--json`.
    pub keep_replies: bool,
}

/// The observer receives every event; an error (a closed stdout) stops the run.
pub type Observer<'a> = dyn FnMut(Event<'_>) -> io::Result<()> + 'a;

struct Active {
    target: Target,
    report: TargetReport,
    rtt: Rtt,
    attempts: u64,
    outstanding: u32,
    first_send: Option<Instant>,
    last_send: Option<Instant>,
    last_seq: Option<(u16, u64)>,
}

/// Runs `plan` against `targets` until every target is done, the deadline
/// passes, or the user interrupts. Reports arrive through `observer` as
/// [`Event::Done`], in the order targets finish.
pub fn run<N: EchoNetwork, C: Clock>(
    plan: &Plan,
    network: &mut N,
    clock: &C,
    targets: &mut dyn Iterator<Item = Target>,
    interrupts: &Interrupts,
    observer: &mut Observer<'_>,
) -> Result<(), PingError> {
    let started = clock.now();
    let mut engine = Engine {
        plan,
        network,
        clock,
        source: targets,
        pending: None,
        source_done: false,
        in_flight: 0,
        sent_since_read: 0,
        lazy_reads: 0,
        observer,
        active: IntMap::default(),
        ready: BinaryHeap::new(),
        probes: ProbeTable::new(started),
        expiry: VecDeque::new(),
        next_seq: 1,
        next_token: 1,
        next_allowed: started,
        last_send: None,
        deadline: plan.deadline.map(|d| started + d),
    };
    engine.run(interrupts)
}

struct Engine<'a, 'o, N, C> {
    plan: &'a Plan,
    network: &'a mut N,
    clock: &'a C,
    source: &'a mut dyn Iterator<Item = Target>,
    /// The next target not yet started (read ahead to know when the source ends).
    pending: Option<Target>,
    source_done: bool,
    /// Probes sent and neither answered nor timed out, over all targets.
    in_flight: u32,
    /// Probes sent since replies were last read while pacing.
    sent_since_read: u32,
    /// Reads done while pacing (every few is a full drain).
    lazy_reads: u64,
    observer: &'a mut Observer<'o>,
    active: IntMap<usize, Active>,
    ready: BinaryHeap<Reverse<(Instant, usize)>>,
    probes: ProbeTable,
    expiry: VecDeque<(Instant, u16, u64)>,
    next_seq: u16,
    next_token: u64,
    next_allowed: Instant,
    last_send: Option<Instant>,
    deadline: Option<Instant>,
}

impl<N: EchoNetwork, C: Clock> Engine<'_, '_, N, C> {
    fn run(&mut self, interrupts: &Interrupts) -> Result<(), PingError> {
        loop {
            let now = self.clock.now();
            if self.deadline.is_some_and(|d| now >= d) {
                break;
            }
            self.expire(now)?;
            self.send_due(now)?;
            if self.finished() {
                break;
            }
            self.wait(interrupts)?;
            let requests = interrupts.take();
            if requests.status {
                self.report_status()?;
            }
            if requests.stop {
                break;
            }
        }
        self.finish_all()
    }

    fn finished(&mut self) -> bool {
        self.refill();
        self.pending.is_none() && self.active.is_empty()
    }

    /// Reads the next target ahead, so the end of the source is known at once.
    fn refill(&mut self) {
        if self.pending.is_none() && !self.source_done {
            self.pending = self.source.next();
            self.source_done = self.pending.is_none();
        }
    }

    fn family_index(address: &IpAddr) -> usize {
        usize::from(address.is_ipv6())
    }

    // ---- sending -------------------------------------------------------

    /// Sends every probe that is due now, pacing by the global interval.
    /// `now` is the caller's reading of the clock; later rounds read it again.
    fn send_due(&mut self, mut now: Instant) -> Result<(), PingError> {
        loop {
            if now < self.next_allowed {
                return Ok(());
            }
            if self.plan.flood
                && self.in_flight() > 0
                && self
                    .last_send
                    .is_some_and(|at| now < at + FLOOD_IDLE_INTERVAL)
            {
                return Ok(());
            }
            let Some(index) = self.next_due(now) else {
                return Ok(());
            };
            self.send_probe(index, now)?;
            if !self.plan.interval.is_zero() {
                // Keep the cadence: catch up at most one interval when late.
                let base = self
                    .next_allowed
                    .max(now.checked_sub(self.plan.interval).unwrap_or(now));
                self.next_allowed = base + self.plan.interval;
            } else if self.plan.flood {
                return Ok(());
            }
            now = self.clock.now();
        }
    }

    fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The next target to probe: a scheduled probe first, else a new target.
    fn next_due(&mut self, now: Instant) -> Option<usize> {
        if let Some(Reverse((at, index))) = self.ready.peek().copied() {
            if at <= now {
                self.ready.pop();
                if self.active.contains_key(&index) {
                    return Some(index);
                }
                return self.next_due(now);
            }
        }
        self.refill();
        match self.pending.take() {
            Some(target) => {
                let index = target.index;
                let report = TargetReport::new(&target);
                self.active.insert(
                    index,
                    Active {
                        target,
                        report,
                        rtt: Rtt::default(),
                        attempts: 0,
                        outstanding: 0,
                        first_send: None,
                        last_send: None,
                        last_seq: None,
                    },
                );
                Some(index)
            }
            None => None,
        }
    }

    fn send_probe(&mut self, index: usize, now: Instant) -> Result<(), PingError> {
        let Some(active) = self.active.get(&index) else {
            return Ok(());
        };
        let family = Self::family_index(&active.target.address);
        if !self.network.has(family) {
            return Err(PingError::NoSocketForFamily(active.target.address));
        }
        if self.plan.report_outstanding
            && let Some((seq, token)) = active.last_seq
            && self
                .probes
                .get(seq)
                .is_some_and(|slot| slot.token == token && !slot.answered)
        {
            (self.observer)(Event::NoAnswerYet {
                target: &active.target,
                seq,
            })
            .map_err(PingError::Output)?;
        }
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let token = self.next_token;
        self.next_token += 1;
        // A probe 65,536 sends old still holding this sequence number is
        // given up on now: its slot is needed, and nothing waits for ever.
        if let Some(old) = self.live_probe(seq, None) {
            self.time_out(seq, old, now)?;
        }
        let Some(active) = self.active.get_mut(&index) else {
            return Ok(());
        };
        // Read before the send, as the network's wall-clock stamp is: the
        // monotonic time since then bounds every honest round trip from above.
        let sent_mono = now;
        let result = self.network.send(&active.target, seq, &self.plan.payload);
        active.attempts += 1;
        active.report.transmitted += 1;
        active.first_send.get_or_insert(sent_mono);
        active.last_send = Some(sent_mono);
        active.last_seq = Some((seq, token));
        self.last_send = Some(sent_mono);
        self.sent_since_read += 1;
        if let Err(err) = &result
            && matches!(err.raw_os_error(), Some(libc::EAGAIN | libc::ENOBUFS))
        {
            // The socket buffer or device queue is full: not sent, try again soon.
            active.attempts -= 1;
            active.report.transmitted -= 1;
            self.ready.push(Reverse((now + FLOOD_IDLE_INTERVAL, index)));
            return Ok(());
        }
        // Sent, or a hard local error: that is counted as sent and lost (as
        // iputils does) and reported; it times out like an unanswered probe,
        // so fping-style retries and completion go on as usual.
        let sent_wall = match &result {
            Ok(at) => *at,
            Err(_) => self.clock.wall(),
        };
        self.probes.insert(seq, token, index, sent_wall, sent_mono);
        active.outstanding += 1;
        self.in_flight += 1;
        self.expiry
            .push_back((sent_mono + self.plan.timeout, seq, token));
        let target = &active.target;
        let event = match &result {
            Ok(_) => Event::Sent { target, seq },
            Err(error) => Event::SendFailed { target, seq, error },
        };
        (self.observer)(event).map_err(PingError::Output)?;
        self.schedule_next(index, now);
        self.check_done(index)
    }

    /// Queues the target's next probe, if its mode wants one now.
    fn schedule_next(&mut self, index: usize, now: Instant) {
        let Some(active) = self.active.get(&index) else {
            return;
        };
        let more = match self.plan.mode {
            Mode::Count(None) => true,
            Mode::Count(Some(count)) => {
                if self.plan.deadline.is_some() {
                    // With -w, -c counts replies: keep probing until they arrive.
                    active.report.received + active.report.errors < count
                } else {
                    active.attempts < count
                }
            }
            // Retries go out when the previous attempt times out.
            Mode::UntilAlive { .. } => false,
        };
        if more {
            self.ready.push(Reverse((now + self.plan.period, index)));
        }
    }

    // ---- receiving -----------------------------------------------------

    /// Waits for a packet, a signal, or the next timer.
    fn wait(&mut self, interrupts: &Interrupts) -> Result<(), PingError> {
        if self.plan.flood && self.in_flight > 0 {
            // In a flood the reply is usually queued by the time sendto()
            // returns: read it straight away, as iputils does, and only
            // sleep if it is not there yet.
            let before = self.in_flight;
            for family in 0..2 {
                self.drain_replies(family, Some(before))?;
            }
            if self.in_flight < before {
                return Ok(());
            }
        }
        let now = self.clock.now();
        let wake = self.next_wakeup(now);
        if wake.is_none() && !self.active.is_empty() {
            // Every active target should be waiting for a reply or a send;
            // one that waits for neither would wait forever.
            debug_assert!(false, "targets with nothing left to wait for");
            return self.finish_all();
        }
        let timeout = wake.map(|(at, _)| at.saturating_duration_since(now));
        // Replies carry the kernel's receive time, so reading them can wait
        // until the next probe is due: one wake-up per probe instead of two.
        let lazy = !self.plan.flood
            && wake.is_some_and(|(at, send)| {
                send && at.saturating_duration_since(now) <= LAZY_READ_WINDOW
            });
        if lazy {
            self.network
                .wait(false, timeout, interrupts)
                .map_err(SocketError::Poll)?;
            // Expect one reply per probe sent since the last read; every
            // so often read until empty, so strays (duplicates, slow
            // replies) never pile up.
            self.lazy_reads += 1;
            let budget = if self.lazy_reads % FULL_DRAIN_EVERY == 0 {
                None
            } else {
                Some(self.sent_since_read)
            };
            self.sent_since_read = 0;
            for family in 0..2 {
                self.drain_replies(family, budget)?;
            }
            return Ok(());
        }
        let ready = self
            .network
            .wait(true, timeout, interrupts)
            .map_err(SocketError::Poll)?;
        for family in 0..2 {
            if ready.errored[family] {
                self.drain_errors(family)?;
            }
            if ready.readable[family] {
                self.drain_replies(family, None)?;
            }
        }
        Ok(())
    }

    /// When the loop must next act, and whether that is to send a probe.
    fn next_wakeup(&self, now: Instant) -> Option<(Instant, bool)> {
        let mut wake: Option<(Instant, bool)> = self.deadline.map(|at| (at, false));
        let mut consider = |at: Instant, send: bool| {
            if wake.is_none_or(|(w, _)| at < w) {
                wake = Some((at, send));
            }
        };
        if let Some(&(at, _, _)) = self.expiry.front() {
            // Timeouts are judged by the replies' kernel timestamps, so
            // noticing them a little late costs nothing but lets one wake-up
            // retire a whole run of them.
            consider(at + self.expiry_slack(), false);
        }
        let send_at = if let Some(Reverse((at, _))) = self.ready.peek() {
            Some(*at)
        } else if self.pending.is_some() {
            Some(now)
        } else {
            None
        };
        if let Some(at) = send_at {
            let mut at = at.max(self.next_allowed);
            if self.plan.flood
                && self.in_flight() > 0
                && let Some(last) = self.last_send
            {
                at = at.max(last + FLOOD_IDLE_INTERVAL);
            }
            consider(at, true);
        }
        wake
    }

    /// How late a timeout may be noticed: a twentieth of it, at most 10 ms.
    fn expiry_slack(&self) -> Duration {
        (self.plan.timeout / 20).min(MAX_EXPIRY_SLACK)
    }
}
