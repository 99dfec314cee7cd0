//! `netdx scan`: which ports answer on a host — TCP connect, half-open SYN
//! and UDP scans with nmap's states and reasons.
//!
//! The engine (`engine.rs`) is generic over the network (`network.rs`) and
//! the clock, so its scenarios — loss, retries, adaptive timeouts, file
//! descriptor back-pressure, pacing and ICMP rate limiting — run in
//! simulation (`sim.rs`, `scenarios.rs`). The real networks are
//! `connect.rs` (non-blocking connect(), no privileges), `syn.rs` (raw
//! sockets from `crate::net`, CAP_NET_RAW) and `udp.rs` (one UDP socket
//! with IP_RECVERR: ICMP errors arrive on its error queue, no privileges).
//!
//! Rate-limit honesty: a host that answers closed ports with ICMP sends at
//! most about one error a second (net.ipv4.icmp_ratelimit, burst 6). When
//! some ports went unanswered, the engine probes a dozen ports that did
//! answer with ICMP ("canaries"); if those go unanswered too, the silence
//! is the limiter's, and the unanswered ports are `unclassified`
//! (`icmp-rate-limited`), not filtered. `--exact` measures the limiter's
//! interval and probes them one token at a time.
#![forbid(unsafe_code)]

pub mod connect;
pub mod engine;
pub mod limits;
pub mod network;
pub mod payloads;
pub mod ports;
pub mod rtt;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod sim;
pub mod syn;
pub mod udp;

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

pub use engine::{Event, run};
pub use network::{Answer, Received, ScanNetwork, Sent};

/// How ports are probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Non-blocking connect() (no privileges).
    Tcp,
    /// Half-open SYN on a raw socket (CAP_NET_RAW).
    Syn,
    /// One datagram per port.
    Udp,
}

impl Method {
    /// The transport protocol the method probes.
    pub fn proto(self) -> Proto {
        match self {
            Method::Tcp | Method::Syn => Proto::Tcp,
            Method::Udp => Proto::Udp,
        }
    }
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// The same protocol in /etc/services' and the port parser's terms.
    pub fn transport(self) -> crate::names::services::Transport {
        match self {
            Proto::Tcp => crate::names::services::Transport::Tcp,
            Proto::Udp => crate::names::services::Transport::Udp,
        }
    }
}

/// A port's state, as nmap defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub enum State {
    /// Something listens: SYN-ACK, connect() succeeded, a UDP reply.
    #[serde(rename = "open")]
    Open,
    /// Nothing listens: RST, ECONNREFUSED, ICMP port unreachable.
    #[serde(rename = "closed")]
    Closed,
    /// A filter answered (ICMP unreachable codes 1, 2, 3 (UDP), 9, 10, 13) or nothing did.
    #[serde(rename = "filtered")]
    Filtered,
    /// UDP without any answer: open, or a filter dropped it.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    /// The target's ICMP rate limit kept the answer from us; `--exact` waits for it.
    #[serde(rename = "unclassified")]
    Unclassified,
}

/// Why a port is in its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// A SYN-ACK (SYN scan), or connect() succeeded.
    SynAck,
    /// An RST (SYN scan).
    Reset,
    /// connect() got ECONNREFUSED from an RST.
    ConnRefused,
    /// ICMP port unreachable (type 3 code 3; ICMPv6 1/4).
    PortUnreach,
    /// ICMP communication administratively prohibited (3/13; ICMPv6 1/1).
    AdminProhibited,
    /// ICMP host unreachable (3/1; ICMPv6 1/3).
    HostUnreach,
    /// ICMP network unreachable (3/0; ICMPv6 1/0).
    NetUnreach,
    /// ICMP protocol unreachable (3/2).
    ProtoUnreach,
    /// ICMP host administratively prohibited (3/10).
    HostProhibited,
    /// ICMP network administratively prohibited (3/9).
    NetProhibited,
    /// A UDP datagram came back.
    UdpResponse,
    /// Nothing came back, after every retry.
    NoResponse,
    /// The target's ICMP rate limit swallowed the answer.
    IcmpRateLimited,
}

impl Reason {
    /// Whether the answer was an ICMP error (what a target's ICMP rate limit throttles).
    pub fn is_icmp(self) -> bool {
        matches!(
            self,
            Reason::PortUnreach
                | Reason::AdminProhibited
                | Reason::HostUnreach
                | Reason::NetUnreach
                | Reason::ProtoUnreach
                | Reason::HostProhibited
                | Reason::NetProhibited
        )
    }

    /// The reason an ICMP error gives: destination unreachable (ICMPv4 type
    /// 3, ICMPv6 type 1) by its code; any other message gives none.
    pub fn from_unreachable(v6: bool, icmp_type: u8, code: u8) -> Option<Reason> {
        match (v6, icmp_type) {
            (false, 3) => Reason::from_icmp_unreach(code),
            (true, 1) => Reason::from_icmpv6_unreach(code),
            _ => None,
        }
    }

    /// The reason an ICMP(v4) destination-unreachable `code` gives.
    pub fn from_icmp_unreach(code: u8) -> Option<Reason> {
        Some(match code {
            0 => Reason::NetUnreach,
            1 => Reason::HostUnreach,
            2 => Reason::ProtoUnreach,
            3 => Reason::PortUnreach,
            9 => Reason::NetProhibited,
            10 => Reason::HostProhibited,
            13 => Reason::AdminProhibited,
            _ => return None,
        })
    }

    /// The reason an ICMPv6 destination-unreachable `code` gives (RFC 4443).
    pub fn from_icmpv6_unreach(code: u8) -> Option<Reason> {
        Some(match code {
            0 => Reason::NetUnreach,
            1 | 5 | 6 => Reason::AdminProhibited,
            3 => Reason::HostUnreach,
            4 => Reason::PortUnreach,
            _ => return None,
        })
    }
}

/// How one port answered: a state, its reason, and the round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The state.
    pub state: State,
    /// Why.
    pub reason: Reason,
}

impl Verdict {
    /// The verdict of `reason` for `method`, as nmap maps them: ICMP port
    /// unreachable is `closed` for connect and UDP scans and `filtered` for
    /// SYN scans; the other ICMP unreachables are `filtered`.
    pub fn of(method: Method, reason: Reason) -> Verdict {
        let state = match reason {
            Reason::SynAck | Reason::UdpResponse => State::Open,
            Reason::Reset | Reason::ConnRefused => State::Closed,
            Reason::PortUnreach if method != Method::Syn => State::Closed,
            Reason::NoResponse if method == Method::Udp => State::OpenFiltered,
            Reason::IcmpRateLimited => State::Unclassified,
            _ => State::Filtered,
        };
        Verdict { state, reason }
    }
}

/// What one port came to, as the engine keeps it: 8 bytes, so 8 hosts ×
/// 65,535 ports are 4 MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The state (meaningful once `settled`).
    pub state: State,
    /// The reason.
    pub reason: Reason,
    /// Probes sent to the port.
    pub tries: u8,
    /// Whether the port has its final verdict.
    pub settled: bool,
    /// The round trip of the answer, in microseconds (0: none).
    pub rtt_us: u32,
}

impl Slot {
    const PENDING: Slot = Slot {
        state: State::Unclassified,
        reason: Reason::NoResponse,
        tries: 0,
        settled: false,
        rtt_us: 0,
    };

    /// The answer's round trip in milliseconds, if there was an answer.
    pub fn rtt_ms(&self) -> Option<f64> {
        (self.rtt_us > 0).then(|| f64::from(self.rtt_us) / 1000.0)
    }
}

/// One port's result, as reports and events show it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PortResult {
    /// The port.
    pub port: u16,
    /// Its protocol.
    pub proto: Proto,
    /// Its state.
    pub state: State,
    /// Why.
    pub reason: Reason,
    /// The service name (/etc/services), if any.
    pub service: Option<String>,
    /// The round trip of the answer, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// What the service sent first (`--banner`), escaped.
    pub banner: Option<String>,
}

/// Ports by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counts {
    /// `open`.
    pub open: u32,
    /// `closed`.
    pub closed: u32,
    /// `filtered`.
    pub filtered: u32,
    /// `open|filtered`.
    pub open_filtered: u32,
    /// `unclassified` (ICMP rate-limited).
    pub unclassified: u32,
}

impl Counts {
    /// Counts one more port in `state`.
    pub fn add(&mut self, state: State) {
        let counter = match state {
            State::Open => &mut self.open,
            State::Closed => &mut self.closed,
            State::Filtered => &mut self.filtered,
            State::OpenFiltered => &mut self.open_filtered,
            State::Unclassified => &mut self.unclassified,
        };
        *counter += 1;
    }
}

/// One host to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// How the user named it.
    pub name: String,
    /// Its address.
    pub address: IpAddr,
    /// IPv6 zone for link-local targets, else 0.
    pub scope_id: u32,
}

/// How long to wait for an answer: nmap's RTT estimator bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The timeout before any round trip was measured.
    pub initial: Duration,
    /// The shortest timeout.
    pub min: Duration,
    /// The longest timeout (`--timeout`).
    pub max: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            initial: Duration::from_millis(1000),
            min: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }
}

/// What a scan does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// How ports are probed.
    pub method: Method,
    /// The ports, ascending and unique.
    pub ports: Arc<[u16]>,
    /// Probes after the first for a port without an answer.
    pub retries: u8,
    /// Timeouts.
    pub timing: Timing,
    /// Packets per second at most (`--rate`).
    pub rate: Option<u32>,
    /// Probes in flight at once.
    pub concurrency: usize,
    /// Wait out the target's ICMP rate limit so every port is classified.
    pub exact: bool,
    /// Read what open TCP ports send first.
    pub banner: bool,
}

/// What one host's scan found.
#[derive(Debug, Clone)]
pub struct HostReport {
    /// The host as named.
    pub target: String,
    /// Its address.
    pub address: IpAddr,
    /// The method used.
    pub method: Method,
    /// The ports probed, ascending; `slots[i]` is `ports[i]`'s result.
    pub ports: Arc<[u16]>,
    /// Each port's result.
    pub slots: Vec<Slot>,
    /// What open ports sent first (`--banner`), raw bytes.
    pub banners: BTreeMap<u16, Vec<u8>>,
    /// Ports by state.
    pub counts: Counts,
    /// From the first probe to the last verdict.
    pub elapsed: Duration,
    /// Whether the host's ICMP rate limit was detected.
    pub rate_limited: bool,
    /// The limiter's interval between ICMP errors, measured (`--exact`) or estimated.
    pub icmp_interval: Option<Duration>,
}

/// Why a scan could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A raw or probe socket could not be opened or used.
    #[error(transparent)]
    Socket(#[from] crate::net::SocketError),
    /// Privileges could not be dropped.
    #[error("{0}")]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// A socket call failed for a reason that is not the target's answer.
    #[error("{what}: {source}")]
    Io {
        /// The call.
        what: &'static str,
        /// The errno.
        source: io::Error,
    },
    /// Not even one socket could be opened: the descriptor limit is exhausted.
    #[error(
        "no file descriptor left for a probe socket ({source}); raise the limit: ulimit -n 4096 (or close what holds them)"
    )]
    NoDescriptors {
        /// EMFILE or ENFILE.
        source: io::Error,
    },
    /// The arguments make no scan.
    #[error("{0}")]
    Usage(String),
    /// Writing output failed.
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
}
