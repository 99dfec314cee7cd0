//! ICMP echo: one host the way iputils ping does it, many hosts and whole
//! networks the way fping does it.
//!
//! The engine (`engine/`) is generic over its network and its clock, so
//! scenario tests drive it without sockets or sleeps; the real network is
//! one echo socket per family (`echo.rs`, on the shared raw-socket layer in
//! `crate::net`), and replies are parsed by `crate::wire`, the one ICMP
//! parser of netdx.
//!
//! surge-ping is not used: its `Client` owns the receive loop and hands back
//! only a matched reply and an RTT, so it cannot deliver what ping must
//! report — it drops duplicates, hides the payload (no corrupted-echo
//! check), does not verify checksums on raw sockets, stamps replies with
//! `Instant::now()` after a tokio wake-up instead of the kernel's receive
//! time, and has no IP_RECVTTL/IP_RECVERR.
#![forbid(unsafe_code)]

pub mod echo;
pub mod engine;
pub mod network;
mod probes;
#[cfg(test)]
mod scenarios;
pub mod session;
pub mod stats;
pub mod target;
pub mod timeline;

use std::io;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::Serialize;

pub use engine::{Mode, Plan};
pub use stats::{Rtt, RttSummary};
pub use target::{FamilyChoice, Target, TargetSpec, Targets};

/// Something the engine saw or did; the command layer turns events into output.
#[derive(Debug)]
pub enum Event<'a> {
    /// A probe went out.
    Sent {
        /// To whom.
        target: &'a Target,
        /// Its icmp_seq.
        seq: u16,
    },
    /// An echo reply for one of our probes arrived.
    Reply {
        /// The target it answers.
        target: &'a Target,
        /// What arrived.
        reply: &'a Reply,
    },
    /// An ICMP error (or local error) about one of our probes.
    Error {
        /// The target the probe went to.
        target: &'a Target,
        /// What went wrong.
        error: &'a IcmpErrorReport,
    },
    /// sendto() failed for good (e.g. no route); counted as sent, as iputils does.
    SendFailed {
        /// The target.
        target: &'a Target,
        /// The icmp_seq that could not go out.
        seq: u16,
        /// The syscall error.
        error: &'a io::Error,
    },
    /// A probe's timeout (`-W`) passed with no reply and no error: it is
    /// lost (a reply may still come, late).
    Timeout {
        /// The target.
        target: &'a Target,
        /// The icmp_seq given up on.
        seq: u16,
    },
    /// The previous probe is still unanswered as the next goes out (`-O`).
    NoAnswerYet {
        /// The target.
        target: &'a Target,
        /// The unanswered icmp_seq.
        seq: u16,
    },
    /// Interim statistics (SIGQUIT).
    Status(&'a TargetReport),
    /// A target is finished; its final report.
    Done(Box<TargetReport>),
}

/// One echo reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Who sent it.
    pub from: IpAddr,
    /// Its icmp_seq.
    pub seq: u16,
    /// Size of the ICMP message (what ping prints as "bytes").
    pub bytes: usize,
    /// Reply TTL / hop limit, when known.
    pub ttl: Option<u8>,
    /// Round-trip time: kernel receive timestamp minus send time.
    pub rtt: Duration,
    /// When it arrived (wall clock).
    pub at: SystemTime,
    /// How it counts.
    pub status: ReplyStatus,
}

/// How a reply counts in the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyStatus {
    /// A first, intact, timely reply: received.
    Good,
    /// A second reply to the same probe: `+N duplicates`.
    Duplicate,
    /// Arrived after `-W`: not received.
    Late,
    /// Damaged: not received.
    Corrupted(Corruption),
}

/// What was wrong with a damaged reply (JSON: `kind` is `bad_checksum`,
/// `length` or `wrong_byte`, with the other fields beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Corruption {
    /// The ICMP checksum does not verify.
    BadChecksum,
    /// The echoed data is shorter or longer than what was sent.
    Length {
        /// Data bytes that came back.
        bytes: usize,
        /// Data bytes sent.
        expected: usize,
    },
    /// A data byte differs.
    WrongByte {
        /// Offset in the data.
        offset: usize,
        /// What was sent.
        expected: u8,
        /// What came back.
        got: u8,
    },
}

/// An error reported about one of our probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpErrorReport {
    /// The icmp_seq of the probe.
    pub seq: u16,
    /// What happened.
    pub kind: IcmpErrorKind,
    /// When it was read.
    pub at: SystemTime,
}

/// Where an error came from (the raw-socket layer's error-queue origin).
pub use crate::net::ErrorOrigin as IcmpErrorKind;

/// One reply as `--json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ReplyRecord {
    /// icmp_seq.
    pub seq: u16,
    /// Reply TTL / hop limit.
    pub ttl: Option<u8>,
    /// Round-trip time in milliseconds.
    pub rtt_ms: f64,
    /// A duplicate of an earlier reply.
    pub dup: bool,
}

impl From<&Reply> for ReplyRecord {
    fn from(reply: &Reply) -> Self {
        ReplyRecord {
            seq: reply.seq,
            ttl: reply.ttl,
            rtt_ms: reply.rtt.as_secs_f64() * 1000.0,
            dup: reply.status == ReplyStatus::Duplicate,
        }
    }
}

/// The outcome for one target.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TargetReport {
    /// The target as given.
    pub target: String,
    /// The address pinged.
    pub address: IpAddr,
    /// Probes sent.
    pub transmitted: u64,
    /// Good replies.
    pub received: u64,
    /// Duplicate replies.
    pub duplicates: u64,
    /// ICMP errors (and local send errors) about our probes.
    pub errors: u64,
    /// Damaged replies (bad checksum, wrong data), not counted as received.
    pub corrupted: u64,
    /// Replies that came after the timeout, not counted as received.
    pub late: u64,
    /// Packet loss in percent, as iputils computes it.
    pub loss_pct: f64,
    /// Round-trip summary; `null` without replies.
    pub rtt_ms: Option<RttSummary>,
    /// Every good or duplicate reply (with `--json`).
    pub replies: Vec<ReplyRecord>,
    /// Round trips, for the text summary.
    #[serde(skip)]
    pub rtt: Rtt,
    /// Position of the target in the run.
    #[serde(skip)]
    pub index: usize,
    /// First probe to last probe (iputils' "time").
    #[serde(skip)]
    pub elapsed: Duration,
    /// The target was given as a host name.
    #[serde(skip)]
    pub named: bool,
}

impl TargetReport {
    /// An empty report for `target`.
    pub fn new(target: &Target) -> Self {
        TargetReport {
            target: target.name.clone(),
            address: target.address,
            transmitted: 0,
            received: 0,
            duplicates: 0,
            errors: 0,
            corrupted: 0,
            late: 0,
            loss_pct: 0.0,
            rtt_ms: None,
            replies: Vec::new(),
            rtt: Rtt::default(),
            index: target.index,
            elapsed: Duration::ZERO,
            named: target.named,
        }
    }

    /// Whether any good reply came back.
    pub fn alive(&self) -> bool {
        self.received > 0
    }
}

/// Why a ping run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// A host name did not resolve.
    #[error("cannot resolve '{host}': {reason}")]
    Resolve {
        /// The name.
        host: String,
        /// The resolver's explanation.
        reason: String,
    },
    /// The host has no address of the requested family.
    #[error(
        "'{host}' has no address of the family {flag} asks for; drop {flag} or pick another target"
    )]
    WrongFamily {
        /// The host or block.
        host: String,
        /// `-4` or `-6`.
        flag: &'static str,
    },
    /// A CIDR block larger than a /16 without `--force`.
    #[error("'{network}' expands to {hosts} targets; sweeps larger than a /16 need --force")]
    SweepTooLarge {
        /// The block.
        network: String,
        /// How many targets it has.
        hosts: u128,
    },
    /// Opening or setting up an echo socket failed.
    #[error(transparent)]
    Socket(#[from] crate::net::SocketError),
    /// A target's family has no socket (internal consistency).
    #[error("no socket for {0}'s address family")]
    NoSocketForFamily(IpAddr),
    /// An option needs privilege the process does not have.
    #[error("{what} needs root or CAP_NET_RAW, as with iputils; {remedy}")]
    NeedsPrivilege {
        /// What was asked for.
        what: String,
        /// What to do instead.
        remedy: &'static str,
    },
    /// The payload does not fit in one datagram.
    #[error("payload of {size} bytes is too large: at most {max} for {family}")]
    PayloadTooLarge {
        /// Requested size.
        size: usize,
        /// The limit.
        max: usize,
        /// "IPv4" or "IPv6".
        family: &'static str,
    },
    /// Capabilities could not be dropped.
    #[error("{0}")]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// Signal handlers could not be installed.
    #[error("installing signal handlers: {0}")]
    Signals(io::Error),
    /// Options that do not go together.
    #[error("{0}")]
    Usage(String),
    /// Writing output failed (a closed pipe ends the run quietly).
    #[error("writing output: {0}")]
    Output(io::Error),
}
