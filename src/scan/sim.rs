//! A scripted network for scan scenarios: what each port of each host
//! answers and after how long, probes lost on the way, the target's ICMP
//! token bucket (net.ipv4.icmp_ratelimit), and a descriptor limit like a
//! connect scan's. Time is a [`SimClock`] shared with the engine.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::network::{Answer, Received, ScanNetwork, Sent};
use super::{Reason, ScanError};
use crate::clock::{Clock, SimClock};

/// How one port behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Port {
    /// Answers with this reason (SYN-ACK, RST, a UDP reply, an ICMP error)
    /// after the host's round trip.
    Answers(Reason),
    /// Never answers (iptables DROP).
    Silent,
}

/// One scripted host.
#[derive(Debug, Clone)]
pub struct SimHost {
    /// The round trip of every answer.
    pub rtt: Duration,
    /// Ports not listed answer with `default`.
    pub ports: HashMap<u16, Port>,
    /// What unlisted ports do.
    pub default: Port,
    /// Probes lost per port before one gets through.
    pub lose_first: HashMap<u16, u32>,
    /// The ICMP token bucket: (interval, burst); None: no limit.
    pub icmp_limit: Option<(Duration, u32)>,
}

impl SimHost {
    /// A host whose unlisted ports answer RST after `rtt`.
    pub fn new(rtt: Duration) -> Self {
        SimHost {
            rtt,
            ports: HashMap::new(),
            default: Port::Answers(Reason::Reset),
            lose_first: HashMap::new(),
            icmp_limit: None,
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The scripted network.
pub struct SimNetwork {
    clock: SimClock,
    hosts: Vec<SimHost>,
    buckets: Vec<Option<Bucket>>,
    sent_per_port: HashMap<(u32, u16), u32>,
    /// Every probe sent: when, host, port.
    pub sent: Vec<(Instant, u32, u16)>,
    queue: Vec<(Instant, Received)>,
    /// Probes "holding a descriptor" (sent, not answered, not forgotten).
    open: HashMap<(u32, u16), u32>,
    /// The most descriptors at once (None: unlimited).
    pub fd_limit: Option<usize>,
    /// The most descriptors ever held at once.
    pub peak_open: usize,
    /// Busy answers given.
    pub busy: u32,
}

impl SimNetwork {
    /// A network of `hosts` (host `i` is the engine's host `i`), on `clock`.
    pub fn new(clock: &SimClock, hosts: Vec<SimHost>) -> Self {
        let now = clock.now();
        let buckets = hosts
            .iter()
            .map(|h| {
                h.icmp_limit.map(|(_, burst)| Bucket {
                    tokens: f64::from(burst),
                    last: now,
                })
            })
            .collect();
        SimNetwork {
            clock: clock.clone(),
            hosts,
            buckets,
            sent_per_port: HashMap::new(),
            sent: Vec::new(),
            queue: Vec::new(),
            open: HashMap::new(),
            fd_limit: None,
            peak_open: 0,
            busy: 0,
        }
    }

    fn open_count(&self) -> usize {
        self.open.values().map(|n| *n as usize).sum()
    }

    /// Whether the host's limiter lets one ICMP error out at `at`.
    fn icmp_allowed(&mut self, host: usize, at: Instant) -> bool {
        let Some((interval, burst)) = self.hosts[host].icmp_limit else {
            return true;
        };
        let Some(bucket) = self.buckets[host].as_mut() else {
            return true;
        };
        let gained =
            at.saturating_duration_since(bucket.last).as_secs_f64() / interval.as_secs_f64();
        bucket.tokens = (bucket.tokens + gained).min(f64::from(burst));
        bucket.last = at;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl ScanNetwork for SimNetwork {
    fn send(&mut self, host: u32, _: IpAddr, _: u32, port: u16) -> Result<Sent, ScanError> {
        if let Some(limit) = self.fd_limit
            && self.open_count() >= limit
        {
            self.busy += 1;
            return Ok(Sent::Busy);
        }
        let now = self.clock.now();
        self.sent.push((now, host, port));
        *self.open.entry((host, port)).or_default() += 1;
        self.peak_open = self.peak_open.max(self.open_count());
        let nth = self.sent_per_port.entry((host, port)).or_default();
        *nth += 1;
        let nth = *nth;
        let script = &self.hosts[host as usize];
        if script
            .lose_first
            .get(&port)
            .is_some_and(|&lost| nth <= lost)
        {
            return Ok(Sent::Sent);
        }
        let behaviour = script.ports.get(&port).copied().unwrap_or(script.default);
        let rtt = script.rtt;
        if let Port::Answers(reason) = behaviour {
            // The target decides at half the round trip whether it may answer.
            if reason.is_icmp() && !self.icmp_allowed(host as usize, now + rtt / 2) {
                return Ok(Sent::Sent);
            }
            self.queue.push((
                now + rtt,
                Received {
                    host,
                    port,
                    answer: Answer::Reply(reason),
                },
            ));
        }
        Ok(Sent::Sent)
    }

    fn recv(&mut self) -> Result<Option<Received>, ScanError> {
        let now = self.clock.now();
        let Some(first) = (0..self.queue.len())
            .filter(|&n| self.queue[n].0 <= now)
            .min_by_key(|&n| self.queue[n].0)
        else {
            return Ok(None);
        };
        let (_, received) = self.queue.remove(first);
        if let Some(n) = self.open.get_mut(&(received.host, received.port)) {
            *n = n.saturating_sub(1);
        }
        Ok(Some(received))
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool, ScanError> {
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

    fn forget(&mut self, host: u32, port: u16) {
        self.open.remove(&(host, port));
    }
}
