//! A scripted network for walk scenarios, the way trippy's simulation tests
//! script the far end: what each TTL answers and after how long, or never;
//! duplicates; answers injected at any time (late ones, strays from an
//! earlier round). Time is a [`SimClock`] shared with the walk, so a
//! scenario with five-second waits runs in microseconds.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::network::{Received, TraceNetwork};
use super::{Answer, TraceError};
use crate::clock::{Clock, SimClock};

/// How one probe at a hop is answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reply {
    /// Never.
    Silent,
    /// After this round trip.
    After(Duration),
}

/// One hop of the script.
#[derive(Debug, Clone)]
pub struct ScriptedHop {
    /// Who answers.
    pub from: IpAddr,
    /// What the answer says.
    pub answer: Answer,
    /// The replies to the probes sent to this TTL, in order; the last one
    /// repeats for every later probe.
    pub replies: Vec<Reply>,
    /// Copies of each answer (2: one duplicate).
    pub copies: usize,
}

impl ScriptedHop {
    /// A router that answers every probe after `ms` milliseconds.
    pub fn router(from: [u8; 4], ms: u64) -> Self {
        ScriptedHop {
            from: IpAddr::from(from),
            answer: Answer::TimeExceeded,
            replies: vec![Reply::After(Duration::from_millis(ms))],
            copies: 1,
        }
    }

    /// A router that never answers.
    pub fn silent(from: [u8; 4]) -> Self {
        ScriptedHop {
            replies: vec![Reply::Silent],
            ..Self::router(from, 0)
        }
    }

    /// The target, answering (port unreachable, echo reply, SYN-ACK) after `ms`.
    pub fn target(from: [u8; 4], ms: u64) -> Self {
        ScriptedHop {
            answer: Answer::Reached,
            ..Self::router(from, ms)
        }
    }
}

/// The scripted network: `hops[0]` answers TTL 1; probes with a TTL past
/// the script reach its last hop (the target, for a path that ends).
pub struct SimNetwork {
    clock: SimClock,
    hops: Vec<ScriptedHop>,
    /// Probes sent so far per TTL.
    sent_per_ttl: HashMap<u8, usize>,
    /// Every probe sent: (ttl, id).
    pub sent: Vec<(u8, u16)>,
    /// Answers on their way: when they arrive, and what they are.
    queue: Vec<(Instant, Received)>,
}

impl SimNetwork {
    /// A network following `hops`, on `clock`.
    pub fn new(clock: &SimClock, hops: Vec<ScriptedHop>) -> Self {
        SimNetwork {
            clock: clock.clone(),
            hops,
            sent_per_ttl: HashMap::new(),
            sent: Vec::new(),
            queue: Vec::new(),
        }
    }

    /// Delivers `answer` about probe `id` from `from`, `after` from now.
    pub fn inject(&mut self, after: Duration, id: u16, from: IpAddr, answer: Answer) {
        let at = self.clock.now() + after;
        self.queue.push((
            at,
            Received {
                id,
                from,
                at: None,
                answer,
            },
        ));
    }
}

impl TraceNetwork for SimNetwork {
    fn source(&self) -> IpAddr {
        IpAddr::from([10, 0, 0, 1])
    }

    fn send(&mut self, ttl: u8, id: u16) -> Result<(), TraceError> {
        self.sent.push((ttl, id));
        let Some(hop) = self
            .hops
            .get(usize::from(ttl).saturating_sub(1))
            .or(self.hops.last())
        else {
            return Ok(());
        };
        let nth = self.sent_per_ttl.entry(ttl).or_default();
        let reply = hop
            .replies
            .get(*nth)
            .or(hop.replies.last())
            .copied()
            .unwrap_or(Reply::Silent);
        *nth += 1;
        if let Reply::After(rtt) = reply {
            let (from, answer) = (hop.from, hop.answer);
            for _ in 0..hop.copies.max(1) {
                self.inject(rtt, id, from, answer);
            }
        }
        Ok(())
    }

    fn recv(&mut self) -> Result<Option<Received>, TraceError> {
        let now = self.clock.now();
        let Some(first) = (0..self.queue.len())
            .filter(|&n| self.queue[n].0 <= now)
            .min_by_key(|&n| self.queue[n].0)
        else {
            return Ok(None);
        };
        let (arrived, mut received) = self.queue.remove(first);
        // Stamped on arrival, as the kernel does, however late it is read.
        received.at = Some(self.clock.wall() - (now - arrived));
        Ok(Some(received))
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool, TraceError> {
        match self.queue.iter().map(|(at, _)| *at).min() {
            Some(at) if at <= deadline => {
                self.clock.advance_to(at);
                Ok(true)
            }
            _ => {
                self.clock.advance_to(deadline);
                Ok(false)
            }
        }
    }
}
