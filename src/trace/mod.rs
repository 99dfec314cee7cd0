//! `netdx trace`: the path to a host, hop by hop, with TTL-stepped probes.
//!
//! Like traceroute `-N 16`, many probes are in flight at once; a hop is
//! reported as soon as all of its probes are answered or given up on, in
//! hop order. Waiting follows traceroute's `-w MAX,HERE,NEAR`: a probe is
//! given up on after MAX seconds, or after HERE times the round trip of an
//! answer from its own hop, or NEAR times one from a later hop, whichever
//! comes first, so a silent router costs milliseconds, not seconds.
//!
//! IPv4 and IPv6 walk alike. IPv6 raw sockets hand over the transport
//! message without the IP header (ICMPv6 from its own header, TCP answers
//! from the TCP header); the sender computes UDP and TCP checksums with
//! the IPv6 pseudo-header, the kernel those of ICMPv6.
#![forbid(unsafe_code)]

pub mod answer;
pub mod network;
pub mod probe;
pub mod report;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod sim;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::net::SocketError;
pub use answer::{Answer, UnreachableKind};
pub use network::{Received, Sockets, TraceNetwork};
pub use probe::Method;
pub use report::{HopStats, Report};

/// traceroute's `-w MAX,HERE,NEAR`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wait {
    /// The longest wait for any probe.
    pub max: Duration,
    /// Multiple of an answer's RTT from the same hop (0: unused).
    pub here: f64,
    /// Multiple of an answer's RTT from a later hop (0: unused).
    pub near: f64,
}

impl Default for Wait {
    fn default() -> Self {
        Wait {
            max: Duration::from_secs(5),
            here: 3.0,
            near: 10.0,
        }
    }
}

/// One `netdx trace` run.
#[derive(Debug, Clone)]
pub struct Request {
    /// The host (IPv4 or IPv6).
    pub target: IpAddr,
    /// Scope (interface index) of a link-local IPv6 target, else 0.
    pub scope_id: u32,
    /// Probe method.
    pub method: Method,
    /// Destination port (UDP/TCP).
    pub port: u16,
    /// First TTL.
    pub first_ttl: u8,
    /// Last TTL.
    pub max_hops: u8,
    /// Probes per hop per round.
    pub probes: u8,
    /// Probes in flight at once.
    pub simultaneous: usize,
    /// How long to wait.
    pub wait: Wait,
    /// Rounds (`-c`): 1 gives traceroute's view, more an mtr-style report.
    pub rounds: u32,
}

/// Why a trace could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Opening, setting up or using a probe socket failed.
    #[error(transparent)]
    Socket(#[from] SocketError),
    /// Some other socket call failed while setting up.
    #[error("{what}: {source}")]
    Setup {
        /// The call.
        what: &'static str,
        /// The errno.
        source: io::Error,
    },
    /// Dropping capabilities failed.
    #[error("{0}")]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// The first TTL is past the last one.
    #[error("first TTL {first} is beyond the last ({last}); lower -f or raise -m")]
    TtlRange {
        /// The first TTL asked for.
        first: u8,
        /// The last.
        last: u8,
    },
    /// The observer failed.
    #[error("writing output: {0}")]
    Output(io::Error),
}

/// Checks that the walk has at least one hop: `first` ≤ `last`.
pub fn check_ttls(first: u8, last: u8) -> Result<(), TraceError> {
    if first > last {
        return Err(TraceError::TtlRange { first, last });
    }
    Ok(())
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    /// Who answered (None: `*`).
    pub responder: Option<IpAddr>,
    /// Round trip, milliseconds.
    pub rtt_ms: Option<f64>,
    /// What the answer said.
    pub answer: Option<Answer>,
}

/// One hop of one walk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    /// Its TTL.
    pub ttl: u8,
    /// Its probes, in the order sent.
    pub probes: Vec<ProbeResult>,
}

/// One walk from the first TTL to the target (or the last hop).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Walk {
    /// Hops in TTL order.
    pub hops: Vec<Hop>,
    /// Whether the target answered.
    pub reached: bool,
}

#[derive(Debug, Clone)]
struct Slot {
    ttl: u8,
    sent: Option<(Instant, SystemTime)>,
    result: Option<ProbeResult>,
}

impl Slot {
    fn done(&self) -> bool {
        self.result.is_some()
    }
}

/// Walks the path once; `on_hop` sees each hop as soon as it is complete.
/// `base_id` numbers this walk's probes so late answers from an earlier
/// walk are not taken for this one's.
pub fn walk<N: TraceNetwork, C: Clock>(
    request: &Request,
    network: &mut N,
    clock: &C,
    base_id: u16,
    on_hop: &mut dyn FnMut(&Hop) -> io::Result<()>,
) -> Result<Walk, TraceError> {
    let q = usize::from(request.probes.max(1));
    let hops = usize::from(request.max_hops.saturating_sub(request.first_ttl)) + 1;
    let mut slots: Vec<Slot> = (0..hops * q)
        .map(|n| Slot {
            ttl: request.first_ttl + (n / q) as u8,
            sent: None,
            result: None,
        })
        .collect();
    let id_of = |n: usize| -> u16 { 1 + ((usize::from(base_id) + n) % 0xfffe) as u16 };
    let index_of: HashMap<u16, usize> = (0..slots.len()).map(|n| (id_of(n), n)).collect();
    let mut next = 0usize;
    let mut last_ttl = request.max_hops;
    let mut reported = 0usize; // hops handed to on_hop
    let mut walk = Walk {
        hops: Vec::new(),
        reached: false,
    };
    loop {
        // Send while there is room in the window and the probe is not past the end.
        let mut in_flight = slots
            .iter()
            .filter(|s| s.sent.is_some() && !s.done())
            .count();
        while in_flight < request.simultaneous.max(1)
            && next < slots.len()
            && slots[next].ttl <= last_ttl
        {
            // Taken before the send: the kernel stamps answers on arrival.
            let at = (clock.now(), clock.wall());
            network.send(slots[next].ttl, id_of(next))?;
            slots[next].sent = Some(at);
            next += 1;
            in_flight += 1;
        }
        // Report finished hops in order.
        while reported < hops {
            let ttl = request.first_ttl + reported as u8;
            if ttl > last_ttl {
                break;
            }
            let hop_slots = &slots[reported * q..(reported + 1) * q];
            if !hop_slots.iter().all(Slot::done) {
                break;
            }
            let hop = Hop {
                ttl,
                probes: hop_slots.iter().filter_map(|s| s.result.clone()).collect(),
            };
            on_hop(&hop).map_err(TraceError::Output)?;
            walk.reached |= hop.probes.iter().any(|p| p.answer == Some(Answer::Reached));
            walk.hops.push(hop);
            reported += 1;
        }
        if reported == hops || request.first_ttl + reported as u8 > last_ttl {
            return Ok(walk);
        }
        // Wait for answers until the earliest deadline of a probe in flight.
        let now = clock.now();
        let deadline = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.done())
            .filter_map(|(n, s)| {
                s.sent
                    .map(|(at, _)| at + give_up_after(request, &slots, n, q))
            })
            .min()
            .unwrap_or(now);
        if deadline > now {
            receive(
                network,
                clock,
                deadline,
                &index_of,
                &mut slots,
                &mut last_ttl,
            )?;
        }
        // Give up on probes past their deadline.
        let now = clock.now();
        for n in 0..slots.len() {
            if let Some((at, _)) = slots[n].sent
                && !slots[n].done()
                && at + give_up_after(request, &slots, n, q) <= now
            {
                slots[n].result = Some(ProbeResult {
                    responder: None,
                    rtt_ms: None,
                    answer: None,
                });
            }
        }
    }
}

/// How long probe `n` is waited for: MAX, or less once answers from its
/// own hop (HERE) or a later hop (NEAR) show how long answers take.
fn give_up_after(request: &Request, slots: &[Slot], n: usize, q: usize) -> Duration {
    let hop = n / q;
    let mut wait = request.wait.max;
    for (m, slot) in slots.iter().enumerate() {
        let Some(rtt) = slot.result.as_ref().and_then(|r| r.rtt_ms) else {
            continue;
        };
        let factor = if m / q == hop {
            request.wait.here
        } else if m / q > hop {
            request.wait.near
        } else {
            0.0
        };
        if factor > 0.0 {
            let bound = Duration::from_secs_f64(rtt / 1000.0 * factor);
            wait = wait.min(bound.max(Duration::from_millis(1)));
        }
    }
    wait
}

/// Reads answers until `deadline` (or the first one that matches).
fn receive<N: TraceNetwork, C: Clock>(
    network: &mut N,
    clock: &C,
    deadline: Instant,
    index_of: &HashMap<u16, usize>,
    slots: &mut [Slot],
    last_ttl: &mut u8,
) -> Result<(), TraceError> {
    let mut record = |received: Received| {
        let Some(&n) = index_of.get(&received.id) else {
            return false;
        };
        let slot = &mut slots[n];
        let Some((sent_mono, sent)) = slot.sent else {
            return false;
        };
        if slot.done() {
            return false;
        }
        // The kernel's stamp, unless the wall clock stepped meanwhile.
        let elapsed = clock.now().saturating_duration_since(sent_mono);
        let rtt = crate::net::round_trip(received.at, sent, elapsed);
        slot.result = Some(ProbeResult {
            responder: Some(received.from),
            rtt_ms: Some(rtt.as_secs_f64() * 1000.0),
            answer: Some(received.answer),
        });
        if received.answer != Answer::TimeExceeded {
            *last_ttl = (*last_ttl).min(slot.ttl);
        }
        true
    };
    let mut matched = false;
    while !matched {
        // Drain whatever is queued, then wait.
        while let Some(received) = network.recv()? {
            matched |= record(received);
        }
        if matched || clock.now() >= deadline {
            break;
        }
        if !network.wait(deadline)? {
            break;
        }
    }
    Ok(())
}

/// What a trace reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A hop of round `round` (from 1) is complete: all of its probes are
    /// answered or given up on.
    Hop {
        /// The round.
        round: u32,
        /// The hop.
        hop: &'a Hop,
    },
    /// Round `round` (from 1) has walked the whole path.
    Round {
        /// The round.
        round: u32,
        /// Its walk.
        walk: &'a Walk,
    },
}

/// Observes a trace; an error (a closed stdout) stops it.
pub type Observer<'a> = dyn FnMut(Event<'_>) -> io::Result<()> + 'a;

/// Runs `request.rounds` walks on `network` (for real: [`Sockets::open`])
/// with `clock`: `observe` sees each hop as it completes (the first
/// round's are traceroute's live view) and each round as it ends; the
/// report aggregates every round.
pub fn run_with<N: TraceNetwork, C: Clock>(
    request: &Request,
    network: &mut N,
    clock: &C,
    observe: &mut Observer<'_>,
) -> Result<Report, TraceError> {
    let per_walk = (usize::from(request.max_hops - request.first_ttl) + 1)
        * usize::from(request.probes.max(1));
    let mut walks = Vec::new();
    for index in 0..request.rounds.max(1) {
        let base = ((index as usize * per_walk) % 0xfffe) as u16;
        let round = index + 1;
        let done = walk(request, network, clock, base, &mut |hop| {
            observe(Event::Hop { round, hop })
        })?;
        observe(Event::Round { round, walk: &done }).map_err(TraceError::Output)?;
        walks.push(done);
    }
    Ok(Report::new(request, network.source(), walks))
}

/// Runs `request.rounds` walks on the real network and clock.
pub fn run(
    request: &Request,
    mut sockets: Sockets,
    observe: &mut Observer<'_>,
) -> Result<Report, TraceError> {
    run_with(request, &mut sockets, &SystemClock, observe)
}
