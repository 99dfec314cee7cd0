//! The scheduler: every (host, port) probed with at most `concurrency` in
//! flight and at most `rate` a second, each timed out by the RTT estimator
//! and retried, answers settled as they come; then, per host, the verdict
//! on the ports nothing answered for (filtered, open|filtered, or — when
//! the host's ICMP rate limit is why — unclassified), and with `--exact`
//! a paced pass that classifies them one limiter token at a time.
//!
//! Ports are probed port-major across hosts (port 1 of every host, then
//! port 2 …), so no single host takes the whole burst.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use super::network::{Answer, ScanNetwork, Sent};
use super::rtt::RttEstimator;
use super::{Counts, HostReport, Plan, Reason, ScanError, Slot, Target, Verdict};
use crate::clock::Clock;

/// Canaries sent to ports that answered with ICMP, to tell a rate limiter's
/// silence from a filter's: more than the kernel's burst of 6.
pub const CANARIES: u32 = 12;
/// Ports kept per host as canaries.
const CANARY_PORTS: usize = 16;
/// The finest and coarsest spacing of the canaries that measure the
/// limiter's interval (a hundredth of the interval between the two): an
/// answer comes at most one spacing after the token that let it through.
const MEASURE_SPACING_MIN: Duration = Duration::from_millis(1);
const MEASURE_SPACING_MAX: Duration = Duration::from_millis(10);
/// Intervals timed, once the bucket is known empty, for the measurement.
const MEASURE_GAPS: u32 = 2;
/// The longest a measurement of the limiter may take.
const MEASURE_LIMIT: Duration = Duration::from_secs(20);
/// Probes sent at most before the answers are read again: an answer read
/// only after thousands of sends would time its probe as thousands of
/// sends slow, and the timeout would follow that instead of the wire.
const SEND_BURST: usize = 128;
/// The interval assumed when too few ICMP errors came to measure it: the
/// kernel's default net.ipv4.icmp_ratelimit.
pub const DEFAULT_ICMP_INTERVAL: Duration = Duration::from_millis(1000);
/// The kernel's token-bucket burst (XRLIM_BURST_FACTOR).
const ICMP_BURST: u32 = 6;
/// The largest batch of the exact pass.
const EXACT_BATCH_MAX: usize = 1024;
/// Pacing may catch up this much after a late wake-up.
const PACING_SLACK: Duration = Duration::from_millis(5);

/// What the engine reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// A port got its verdict.
    Port {
        /// The host.
        target: &'a Target,
        /// The port.
        port: u16,
        /// Its result.
        slot: Slot,
    },
    /// A host is done.
    Host(&'a HostReport),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Scan,
    Canary,
    Measure,
    Exact,
    /// Waiting for banners, then done.
    Finishing,
    Done,
}

struct Host {
    slots: Vec<Slot>,
    /// Ports neither settled nor given up on in the main pass.
    unsettled: usize,
    /// Ports given up on (every retry unanswered), for the verdict.
    no_answer: Vec<u32>,
    /// Ports that answered with an ICMP error: the canaries.
    icmp_ports: Vec<u16>,
    icmp_count: u32,
    icmp_first: Option<Instant>,
    icmp_last: Option<Instant>,
    phase: Phase,
    banners_pending: u32,
    banners: BTreeMap<u16, Vec<u8>>,
    counts: Counts,
    started: Option<Instant>,
    rate_limited: bool,
    interval: Option<Duration>,
    /// Canaries in flight: when sent, to which port.
    canaries: VecDeque<(Instant, u16)>,
    canaries_to_send: u32,
    canaries_sent: u32,
    canaries_answered: u32,
    measured: Vec<Instant>,
    /// Canary spacing of the measurement.
    spacing: Duration,
    /// The measured answer after which the bucket is known to hold less
    /// than one spacing's worth; `Some(None)`: the next answer is that one.
    anchor: Option<Option<usize>>,
    /// Whether the spacing was refined from a first measured interval.
    refined: bool,
    /// When an answer to the measurement's first canary would come if
    /// the bucket held a token.
    measure_start: Instant,
    next_canary: Instant,
    measure_until: Instant,
    exact_queue: VecDeque<u32>,
    /// The batch of the exact pass in flight: its ports not answered yet,
    /// how many are in flight, the limiter tokens there were when it went
    /// out, and the ICMP errors it got back.
    batch_pending: Vec<u32>,
    batch_in_flight: u32,
    batch_tokens: u32,
    batch_icmp: u32,
    batch_active: bool,
    batch_size: usize,
    /// Ports silent in a batch that had tokens to spare, to be confirmed
    /// by one more batch that ends with a canary.
    verify: Vec<u32>,
    verifying: bool,
    verify_base: u32,
    /// The target's token bucket as we model it (a lower bound).
    tokens: f64,
    tokens_at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Flight {
    sent: Instant,
}

/// Scans every port of `plan` on every target through `network`, calling
/// `observer` with each verdict and each finished host; returns the hosts'
/// reports in target order.
pub fn run<N: ScanNetwork + ?Sized, C: Clock>(
    plan: &Plan,
    targets: &[Target],
    network: &mut N,
    clock: &C,
    observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
) -> Result<Vec<HostReport>, ScanError> {
    let mut engine = Engine::new(plan, targets, clock.now());
    engine.run(network, clock, observer)?;
    Ok(engine.reports.into_iter().flatten().collect())
}

struct Engine<'p> {
    plan: &'p Plan,
    targets: &'p [Target],
    hosts: Vec<Host>,
    reports: Vec<Option<HostReport>>,
    cursor: usize,
    retries: VecDeque<(u32, u32)>,
    in_flight: HashMap<(u32, u16), Flight>,
    fifo: VecDeque<(Instant, u32, u16)>,
    rtt: RttEstimator,
    cap: usize,
    next_send: Instant,
    per_packet: Option<Duration>,
    /// Hosts past their main pass and not done.
    special: Vec<u32>,
    /// Hosts something happened to since their phase was last checked.
    dirty: Vec<u32>,
    done: usize,
}

impl<'p> Engine<'p> {
    fn new(plan: &'p Plan, targets: &'p [Target], now: Instant) -> Self {
        let ports = plan.ports.len();
        let hosts = targets
            .iter()
            .map(|_| Host {
                slots: vec![Slot::PENDING; ports],
                unsettled: ports,
                no_answer: Vec::new(),
                icmp_ports: Vec::new(),
                icmp_count: 0,
                icmp_first: None,
                icmp_last: None,
                phase: Phase::Scan,
                banners_pending: 0,
                banners: BTreeMap::new(),
                counts: Counts::default(),
                started: None,
                rate_limited: false,
                interval: None,
                canaries: VecDeque::new(),
                canaries_to_send: 0,
                canaries_sent: 0,
                canaries_answered: 0,
                measured: Vec::new(),
                spacing: MEASURE_SPACING_MAX,
                anchor: None,
                refined: false,
                measure_start: now,
                next_canary: now,
                measure_until: now,
                exact_queue: VecDeque::new(),
                batch_pending: Vec::new(),
                batch_in_flight: 0,
                batch_tokens: 0,
                batch_icmp: 0,
                batch_active: false,
                batch_size: 1,
                verify: Vec::new(),
                verifying: false,
                verify_base: 0,
                tokens: 0.0,
                tokens_at: now,
            })
            .collect();
        Engine {
            plan,
            targets,
            hosts,
            reports: targets.iter().map(|_| None).collect(),
            cursor: 0,
            retries: VecDeque::new(),
            in_flight: HashMap::new(),
            fifo: VecDeque::new(),
            rtt: RttEstimator::new(plan.timing),
            cap: plan.concurrency.max(1),
            next_send: now,
            per_packet: plan
                .rate
                .filter(|r| *r > 0)
                .map(|r| Duration::from_secs(1) / r),
            special: Vec::new(),
            dirty: Vec::new(),
            done: 0,
        }
    }

    fn fresh_total(&self) -> usize {
        self.plan.ports.len() * self.targets.len()
    }

    fn run<N: ScanNetwork + ?Sized, C: Clock>(
        &mut self,
        network: &mut N,
        clock: &C,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        if self.plan.ports.is_empty() {
            for h in 0..self.hosts.len() {
                self.finish(h as u32, clock.now(), observer)?;
            }
        }
        while self.done < self.hosts.len() {
            let now = clock.now();
            while let Some(received) = network.recv()? {
                self.answer(received.host, received.port, received.answer, now, observer)?;
            }
            self.expire(network, now)?;
            self.advance_dirty(network, now, observer)?;
            if self.done == self.hosts.len() {
                break;
            }
            self.send(network, now)?;
            let deadline = self.deadline(now);
            if deadline > now {
                network.wait(deadline)?;
            }
        }
        Ok(())
    }

    fn index(&self, port: u16) -> Option<u32> {
        self.plan.ports.binary_search(&port).ok().map(|i| i as u32)
    }

    /// Whether pacing lets a packet go now; takes the slot when it does.
    fn pace(&mut self, now: Instant) -> bool {
        let Some(per_packet) = self.per_packet else {
            return true;
        };
        if now < self.next_send {
            return false;
        }
        self.next_send = self
            .next_send
            .max(now - PACING_SLACK.min(now - self.next_send))
            + per_packet;
        true
    }

    fn answer(
        &mut self,
        h: u32,
        port: u16,
        answer: Answer,
        now: Instant,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let Some(idx) = self.index(port) else {
            return Ok(());
        };
        let Some(host) = self.hosts.get_mut(h as usize) else {
            return Ok(());
        };
        self.dirty.push(h);
        let reason = match answer {
            Answer::Banner(bytes) => {
                if host.banners_pending > 0 {
                    host.banners_pending -= 1;
                    if !bytes.is_empty() {
                        host.banners.insert(port, bytes);
                    }
                }
                return Ok(());
            }
            Answer::Reply(reason) => reason,
        };
        if reason.is_icmp() {
            host.icmp_count += 1;
            host.icmp_first.get_or_insert(now);
            host.icmp_last = Some(now);
        }
        let verdict = Verdict::of(self.plan.method, reason);
        if let Some(flight) = self.in_flight.remove(&(h, port)) {
            let rtt = now.saturating_duration_since(flight.sent);
            self.rtt.sample(rtt);
            let host = &mut self.hosts[h as usize];
            if reason.is_icmp() && host.icmp_ports.len() < CANARY_PORTS {
                host.icmp_ports.push(port);
            }
            if host.phase == Phase::Exact {
                host.batch_in_flight = host.batch_in_flight.saturating_sub(1);
                host.batch_pending.retain(|&i| i != idx);
                if reason.is_icmp() {
                    host.batch_icmp += 1;
                    host.tokens = (host.tokens - 1.0).max(0.0);
                }
            } else {
                host.unsettled -= 1;
            }
            self.settle(h, idx, verdict, Some(rtt), observer)?;
            if self.cap < self.plan.concurrency {
                self.cap += 1;
            }
            return Ok(());
        }
        let slot = host.slots[idx as usize];
        if slot.settled {
            if reason.is_icmp() && !host.canaries.is_empty() {
                host.canaries.pop_front();
                host.canaries_answered += 1;
                if host.phase == Phase::Measure {
                    let floor = self.per_packet.unwrap_or(Duration::ZERO);
                    host.measure_answer(now, floor);
                }
            }
            return Ok(());
        }
        if slot.tries > 0 {
            // A late answer to a port already given up on: it counts.
            self.settle(h, idx, verdict, None, observer)?;
        }
        Ok(())
    }

    fn settle(
        &mut self,
        h: u32,
        idx: u32,
        verdict: Verdict,
        rtt: Option<Duration>,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let host = &mut self.hosts[h as usize];
        let slot = &mut host.slots[idx as usize];
        if slot.settled {
            return Ok(());
        }
        slot.state = verdict.state;
        slot.reason = verdict.reason;
        slot.settled = true;
        slot.rtt_us = rtt.map_or(0, |d| {
            u32::try_from(d.as_micros().max(1)).unwrap_or(u32::MAX)
        });
        host.counts.add(verdict.state);
        if verdict.state == super::State::Open
            && self.plan.banner
            && self.plan.method == super::Method::Tcp
        {
            host.banners_pending += 1;
        }
        let slot = *slot;
        observer(Event::Port {
            target: &self.targets[h as usize],
            port: self.plan.ports[idx as usize],
            slot,
        })?;
        Ok(())
    }

    fn expire<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        now: Instant,
    ) -> Result<(), ScanError> {
        let timeout = self.rtt.timeout();
        while let Some(&(sent, h, port)) = self.fifo.front() {
            if sent + timeout > now {
                break;
            }
            self.fifo.pop_front();
            if self.in_flight.get(&(h, port)).map(|f| f.sent) != Some(sent) {
                continue;
            }
            self.in_flight.remove(&(h, port));
            network.forget(h, port);
            self.dirty.push(h);
            let Some(idx) = self.index(port) else {
                continue;
            };
            let retries = self.plan.retries;
            let host = &mut self.hosts[h as usize];
            let tries = host.slots[idx as usize].tries;
            match host.phase {
                Phase::Exact => {
                    // Judged with its batch (the main pass retried it already).
                    host.batch_in_flight = host.batch_in_flight.saturating_sub(1);
                }
                _ => {
                    if tries <= retries {
                        self.retries.push_back((h, idx));
                    } else {
                        host.unsettled -= 1;
                        host.no_answer.push(idx);
                    }
                }
            }
        }
        for &h in &self.special {
            let host = &mut self.hosts[h as usize];
            while let Some(&(sent, port)) = host.canaries.front() {
                if sent + timeout > now {
                    break;
                }
                host.canaries.pop_front();
                network.forget(h, port);
                self.dirty.push(h);
            }
        }
        Ok(())
    }

    fn advance_dirty<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        now: Instant,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        while let Some(h) = self.dirty.pop() {
            self.advance(h, network, now, observer)?;
        }
        Ok(())
    }

    /// Moves host `h` on to its next phase when its current one is over.
    fn advance<N: ScanNetwork + ?Sized>(
        &mut self,
        h: u32,
        network: &mut N,
        now: Instant,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let nh = self.targets.len();
        let fresh_done = self.cursor > (self.plan.ports.len() - 1) * nh + h as usize;
        let host = &mut self.hosts[h as usize];
        match host.phase {
            Phase::Scan if fresh_done && host.unsettled == 0 => {
                let slots = &host.slots;
                host.no_answer.retain(|&i| !slots[i as usize].settled);
                if host.no_answer.is_empty() {
                    return self.finish(h, now, observer);
                }
                if host.icmp_ports.is_empty() {
                    return self.settle_silent(h, Reason::NoResponse, now, observer);
                }
                host.phase = Phase::Canary;
                host.canaries_to_send = CANARIES;
                self.special.push(h);
            }
            Phase::Canary if host.canaries_to_send == 0 && host.canaries.is_empty() => {
                if host.canaries_answered >= host.canaries_sent {
                    return self.settle_silent(h, Reason::NoResponse, now, observer);
                }
                host.rate_limited = true;
                host.interval = Some(estimate_interval(host));
                if !self.plan.exact {
                    return self.settle_silent(h, Reason::IcmpRateLimited, now, observer);
                }
                host.phase = Phase::Measure;
                host.measured.clear();
                host.anchor = None;
                host.refined = false;
                host.spacing = spacing_for(host.interval.unwrap_or(DEFAULT_ICMP_INTERVAL));
                host.measure_start = now + self.rtt.srtt().unwrap_or(Duration::ZERO);
                host.next_canary = now;
                host.measure_until = now + MEASURE_LIMIT;
            }
            Phase::Measure => {
                if let Some(interval) = host.measured_interval() {
                    host.interval = Some(interval);
                    // The bucket holds less than a spacing's worth at the last answer.
                    host.tokens = 0.0;
                    host.tokens_at = host.measured.last().copied().unwrap_or(now);
                    for (_, port) in host.canaries.drain(..) {
                        network.forget(h, port);
                    }
                    let slots = &mut host.slots;
                    host.no_answer.retain(|&i| !slots[i as usize].settled);
                    for &i in &host.no_answer {
                        slots[i as usize].tries = 0;
                    }
                    host.exact_queue = host.no_answer.drain(..).collect();
                    host.phase = Phase::Exact;
                    self.dirty.push(h);
                } else if now >= host.measure_until {
                    return self.settle_silent(h, Reason::IcmpRateLimited, now, observer);
                }
            }
            Phase::Exact => {
                if host.batch_active
                    && host.batch_in_flight == 0
                    && (!host.verifying || host.canaries.is_empty())
                {
                    host.batch_active = false;
                    let pending = std::mem::take(&mut host.batch_pending);
                    if host.verifying {
                        host.verifying = false;
                        if host.batch_icmp > 0 {
                            // A port the model gave a token to was swallowed
                            // after all: the interval is longer than measured.
                            host.interval = host.interval.map(|i| i + i / 100);
                        }
                        if host.canaries_answered > host.verify_base {
                            // The canary sent after them was answered: the
                            // limiter had a token for each, so their silence
                            // is their own.
                            let verdict = Verdict::of(self.plan.method, Reason::NoResponse);
                            for idx in pending {
                                self.settle(h, idx, verdict, None, observer)?;
                            }
                        } else {
                            host.batch_size = 1;
                            host.tokens = 0.0;
                            host.tokens_at = now;
                            for idx in pending.into_iter().rev() {
                                host.exact_queue.push_front(idx);
                            }
                        }
                    } else if host.batch_icmp < host.batch_tokens {
                        // By our model of the bucket a token was left for each:
                        // silent, to be confirmed by the canary-ended batch.
                        host.batch_size = (host.batch_size * 2).min(EXACT_BATCH_MAX);
                        host.verify.extend(pending);
                    } else {
                        // The bucket ran dry: whose answer it swallowed is unknown.
                        host.batch_size = 1;
                        for idx in pending.into_iter().rev() {
                            host.exact_queue.push_front(idx);
                        }
                    }
                }
                let host = &self.hosts[h as usize];
                if host.exact_queue.is_empty() && !host.batch_active && host.verify.is_empty() {
                    return self.finish(h, now, observer);
                }
            }
            Phase::Finishing if host.banners_pending == 0 => {
                return self.finish(h, now, observer);
            }
            _ => {}
        }
        Ok(())
    }

    /// Gives the ports nothing answered for their verdict, then finishes.
    fn settle_silent(
        &mut self,
        h: u32,
        reason: Reason,
        now: Instant,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let silent = std::mem::take(&mut self.hosts[h as usize].no_answer);
        let verdict = Verdict::of(self.plan.method, reason);
        for idx in silent {
            self.settle(h, idx, verdict, None, observer)?;
        }
        self.finish(h, now, observer)
    }

    fn finish(
        &mut self,
        h: u32,
        now: Instant,
        observer: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let host = &mut self.hosts[h as usize];
        self.special.retain(|&s| s != h);
        if host.banners_pending > 0 {
            host.phase = Phase::Finishing;
            return Ok(());
        }
        if host.phase == Phase::Done {
            return Ok(());
        }
        host.phase = Phase::Done;
        let target = &self.targets[h as usize];
        let report = HostReport {
            target: target.name.clone(),
            address: target.address,
            method: self.plan.method,
            ports: self.plan.ports.clone(),
            slots: std::mem::take(&mut host.slots),
            banners: std::mem::take(&mut host.banners),
            counts: host.counts,
            elapsed: host
                .started
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s)),
            rate_limited: host.rate_limited,
            icmp_interval: host.interval,
        };
        observer(Event::Host(&report))?;
        self.reports[h as usize] = Some(report);
        self.done += 1;
        Ok(())
    }

    fn probe<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        h: u32,
        idx: u32,
        now: Instant,
    ) -> Result<Sent, ScanError> {
        let port = self.plan.ports[idx as usize];
        let target = &self.targets[h as usize];
        let sent = network.send(h, target.address, target.scope_id, port)?;
        if sent == Sent::Sent {
            let host = &mut self.hosts[h as usize];
            host.started.get_or_insert(now);
            let slot = &mut host.slots[idx as usize];
            slot.tries = slot.tries.saturating_add(1);
            self.in_flight.insert((h, port), Flight { sent: now });
            self.fifo.push_back((now, h, port));
        } else {
            if self.in_flight.is_empty() {
                return Err(ScanError::NoDescriptors {
                    source: io::Error::from_raw_os_error(libc::EMFILE),
                });
            }
            // Back-pressure: as many as are in flight now is what fits.
            self.cap = self.in_flight.len();
        }
        Ok(sent)
    }

    fn canary<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        h: u32,
        now: Instant,
    ) -> Result<bool, ScanError> {
        let host = &self.hosts[h as usize];
        if host.icmp_ports.is_empty() {
            return Ok(false);
        }
        let port = host.icmp_ports[host.canaries_sent as usize % host.icmp_ports.len()];
        let target = &self.targets[h as usize];
        if network.send(h, target.address, target.scope_id, port)? == Sent::Busy {
            return Ok(false);
        }
        let host = &mut self.hosts[h as usize];
        host.canaries.push_back((now, port));
        host.canaries_sent += 1;
        Ok(true)
    }

    fn send<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        now: Instant,
    ) -> Result<(), ScanError> {
        for i in 0..self.special.len() {
            let h = self.special[i];
            let phase = self.hosts[h as usize].phase;
            match phase {
                Phase::Canary => {
                    while self.hosts[h as usize].canaries_to_send > 0 && self.pace(now) {
                        if !self.canary(network, h, now)? {
                            break;
                        }
                        self.hosts[h as usize].canaries_to_send -= 1;
                    }
                }
                Phase::Measure if now >= self.hosts[h as usize].next_canary && self.pace(now) => {
                    self.canary(network, h, now)?;
                    let host = &mut self.hosts[h as usize];
                    host.next_canary = now + host.spacing;
                }
                Phase::Exact if !self.hosts[h as usize].batch_active => {
                    self.exact_batch(network, h, now)?;
                }
                _ => {}
            }
        }
        let nh = self.targets.len();
        let mut burst = 0;
        while self.in_flight.len() < self.cap && burst < SEND_BURST {
            let (h, idx, retry) = if let Some(&(h, idx)) = self.retries.front() {
                (h, idx, true)
            } else if self.cursor < self.fresh_total() {
                ((self.cursor % nh) as u32, (self.cursor / nh) as u32, false)
            } else {
                break;
            };
            if !self.pace(now) {
                break;
            }
            if self.probe(network, h, idx, now)? == Sent::Busy {
                break;
            }
            if retry {
                self.retries.pop_front();
            } else {
                self.cursor += 1;
            }
            burst += 1;
        }
        Ok(())
    }

    /// Sends the exact pass's next batch to host `h` once the limiter has a
    /// token: as many ports as the last batch proved safe (doubling while
    /// batches are conclusive, one token's worth after one ran dry), so a
    /// DROPped range costs a few timeouts and closed ports one interval each.
    fn exact_batch<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        h: u32,
        now: Instant,
    ) -> Result<(), ScanError> {
        let host = &mut self.hosts[h as usize];
        let step = margin(host.interval);
        let gained =
            now.saturating_duration_since(host.tokens_at).as_secs_f64() / step.as_secs_f64();
        host.tokens = (host.tokens + gained).min(f64::from(ICMP_BURST));
        host.tokens_at = now;
        // A hair short of a token is a token: float steps must not stall it.
        let tokens = (host.tokens + 1e-6).floor() as u32;
        if tokens == 0 {
            return Ok(());
        }
        if host.exact_queue.is_empty() {
            return self.verify_batch(network, h, now);
        }
        let size = host.batch_size.max(tokens as usize);
        host.batch_tokens = tokens;
        host.batch_icmp = 0;
        host.batch_active = true;
        for _ in 0..size {
            let Some(&idx) = self.hosts[h as usize].exact_queue.front() else {
                break;
            };
            if self.in_flight.len() >= self.cap
                || !self.pace(now)
                || self.probe(network, h, idx, now)? != Sent::Sent
            {
                break;
            }
            let host = &mut self.hosts[h as usize];
            host.exact_queue.pop_front();
            host.batch_pending.push(idx);
            host.batch_in_flight += 1;
        }
        let host = &mut self.hosts[h as usize];
        if host.batch_in_flight == 0 {
            host.batch_active = false;
        }
        Ok(())
    }

    /// Sends every port waiting for confirmation, then a canary to a port
    /// known to answer with ICMP: if the canary is answered, the limiter
    /// still had a token after all of them.
    fn verify_batch<N: ScanNetwork + ?Sized>(
        &mut self,
        network: &mut N,
        h: u32,
        now: Instant,
    ) -> Result<(), ScanError> {
        let host = &mut self.hosts[h as usize];
        if host.verify.is_empty() {
            return Ok(());
        }
        let candidates = std::mem::take(&mut host.verify);
        let mut sent = Vec::new();
        let mut left = Vec::new();
        for idx in candidates {
            if !left.is_empty()
                || self.in_flight.len() >= self.cap
                || self.probe(network, h, idx, now)? != Sent::Sent
            {
                left.push(idx);
                continue;
            }
            sent.push(idx);
        }
        let host = &mut self.hosts[h as usize];
        host.verify = left;
        if sent.is_empty() {
            return Ok(());
        }
        host.verify_base = host.canaries_answered;
        host.batch_icmp = 0;
        host.batch_in_flight = sent.len() as u32;
        host.batch_pending = sent;
        host.batch_active = true;
        host.verifying = true;
        host.tokens = (host.tokens - 1.0).max(0.0);
        self.canary(network, h, now)?;
        Ok(())
    }

    /// When the loop has something to do next.
    fn deadline(&self, now: Instant) -> Instant {
        let timeout = self.rtt.timeout();
        let mut deadline = now + Duration::from_secs(1);
        if let Some(&(sent, _, _)) = self.fifo.front() {
            deadline = deadline.min(sent + timeout);
        }
        let more = !self.retries.is_empty() || self.cursor < self.fresh_total();
        if more && self.in_flight.len() < self.cap {
            deadline = deadline.min(self.next_send.max(now));
        }
        for &h in &self.special {
            let host = &self.hosts[h as usize];
            if let Some(&(sent, _)) = host.canaries.front() {
                deadline = deadline.min(sent + timeout);
            }
            match host.phase {
                Phase::Canary if host.canaries_to_send > 0 => {
                    deadline = deadline.min(self.next_send.max(now));
                }
                Phase::Measure => {
                    deadline = deadline
                        .min(host.next_canary.max(self.next_send))
                        .min(host.measure_until);
                }
                Phase::Exact
                    if !host.batch_active
                        && (!host.exact_queue.is_empty() || !host.verify.is_empty()) =>
                {
                    let step = margin(host.interval).mul_f64((1.0 - host.tokens).max(0.0))
                        + Duration::from_micros(10);
                    deadline = deadline.min((host.tokens_at + step).max(self.next_send));
                }
                _ => {}
            }
        }
        deadline
    }
}

/// The limiter's interval from the ICMP errors that came: past the burst,
/// one per interval; the kernel's default when too few came to tell.
fn estimate_interval(host: &Host) -> Duration {
    match (host.icmp_first, host.icmp_last) {
        (Some(first), Some(last)) if host.icmp_count > ICMP_BURST + 1 && last > first => {
            let per = (last - first) / (host.icmp_count - ICMP_BURST);
            if per >= Duration::from_millis(10) {
                per
            } else {
                DEFAULT_ICMP_INTERVAL
            }
        }
        _ => DEFAULT_ICMP_INTERVAL,
    }
}

/// How long after a limiter token was spent the next one is surely there:
/// the measured interval (already rounded up by its spacing) and a hair
/// for the answer's own trip.
fn margin(interval: Option<Duration>) -> Duration {
    let interval = interval.unwrap_or(DEFAULT_ICMP_INTERVAL);
    interval + interval / 1000 + Duration::from_micros(500)
}

/// The canary spacing that times an interval of about `rough` to a
/// hundredth of it.
fn spacing_for(rough: Duration) -> Duration {
    (rough / 100).clamp(MEASURE_SPACING_MIN, MEASURE_SPACING_MAX)
}

impl Host {
    /// Takes in a canary's answer while the limiter is measured. Canaries
    /// go out every `spacing`; while the bucket holds tokens each is
    /// answered, so the first answer that comes more than a few spacings
    /// after the one before follows a canary the limiter swallowed: the
    /// bucket is empty then, and from there each answer comes within one
    /// spacing of the token that let it through.
    fn measure_answer(&mut self, at: Instant, floor: Duration) {
        self.measured.push(at);
        let last = self.measured.len() - 1;
        let spacing = self.spacing.max(floor);
        match self.anchor {
            None => {
                let before = match last {
                    0 => self.measure_start,
                    _ => self.measured[last - 1],
                };
                if at.saturating_duration_since(before) > spacing * 3 {
                    self.anchor = Some(Some(last));
                }
            }
            Some(None) => self.anchor = Some(Some(last)),
            Some(Some(a)) if !self.refined => {
                // A first interval: time the rest with a hundredth of it.
                self.refined = true;
                let fine = spacing_for(at - self.measured[a]);
                if fine < self.spacing.mul_f64(0.8) {
                    self.spacing = fine;
                    // The next answer is the first found at the finer spacing.
                    self.anchor = Some(None);
                }
            }
            Some(Some(a)) => {
                // Every gap of the window must agree with their mean: one that
                // does not (what was left of the burst, a busy machine) moves
                // the window on by one answer.
                let gaps = (last - a) as u32;
                if gaps >= MEASURE_GAPS {
                    let mean = (at - self.measured[a]) / gaps;
                    let tolerance = spacing * 2 + mean / 20 + Duration::from_millis(1);
                    let agree = self.measured[a..=last].windows(2).all(|w| {
                        let gap = w[1] - w[0];
                        gap + tolerance >= mean && gap <= mean + tolerance
                    });
                    if !agree {
                        self.anchor = Some(Some(a + 1));
                    }
                }
            }
        }
    }

    /// The interval measured, once the window holds enough gaps that
    /// agree: their mean, rounded up by what one spacing could hide.
    fn measured_interval(&self) -> Option<Duration> {
        let Some(Some(a)) = self.anchor else {
            return None;
        };
        let last = self.measured.len().checked_sub(1)?;
        let gaps = last.checked_sub(a)? as u32;
        if !self.refined || gaps < MEASURE_GAPS {
            return None;
        }
        let span = self.measured[last] - self.measured[a];
        Some(span / gaps + self.spacing / gaps)
    }
}
