//! `arping`: ARP requests to one address on one link, and what answers —
//! iputils arping's modes (probe, duplicate address detection, gratuitous
//! announcements) with exit codes that say what happened.
//!
//! The engine ([`engine::run`]) is generic over the link and the clock, so
//! its tests script replies, duplicates, late and hostile frames; the
//! real link is an AF_PACKET socket ([`crate::net::packet::PacketLink`]).
#![forbid(unsafe_code)]

pub mod engine;
pub mod setup;

#[cfg(test)]
mod engine_tests;

use std::net::Ipv4Addr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::rtt::RttSummary;
use crate::wire::arp::Mac;

/// What the probes are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Who has ADDR? Replies are timed (arping's default).
    Probe,
    /// Duplicate address detection (-D, RFC 5227): requests from 0.0.0.0;
    /// any answer means the address is taken.
    Dad,
    /// Gratuitous ARP requests announcing ADDR (-U): no replies expected.
    AnnounceRequest,
    /// Gratuitous ARP replies announcing ADDR (-A): no replies expected.
    AnnounceReply,
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Request {
    /// The address asked about (or announced).
    pub target: Ipv4Addr,
    /// The sender address in the requests (0.0.0.0 for DAD).
    pub source: Ipv4Addr,
    /// This interface's MAC.
    pub mac: Mac,
    /// The interface's name, for the report.
    pub interface: String,
    /// What the probes are for.
    pub mode: Mode,
    /// Stop after this many probes (with a deadline: this many replies).
    pub count: Option<u64>,
    /// Stop after this long, whatever else.
    pub deadline: Option<Duration>,
    /// Time between probes.
    pub interval: Duration,
    /// How long the last probe waits for its reply when no deadline is set.
    pub wait: Duration,
    /// Keep broadcasting after a reply (-b) instead of asking the replier directly.
    pub broadcast_only: bool,
    /// Stop at the first reply (-f; implied by -D).
    pub quit_on_reply: bool,
}

/// One reply (or, in DAD, any ARP frame claiming the address).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Reply {
    /// The address that answered.
    pub address: Ipv4Addr,
    /// The MAC it answered with (the ARP sender hardware address).
    #[schemars(with = "String")]
    #[serde(serialize_with = "serialize_mac")]
    pub mac: Mac,
    /// Sent to us alone (unicast) or to everyone (broadcast).
    pub broadcast: bool,
    /// A request from another host for, or from, the address (DAD only): it claims or probes it too.
    pub request: bool,
    /// Kernel receive time minus the send time of the probe it answers.
    pub rtt_ms: Option<f64>,
    /// The probe it answers (1 = first).
    pub probe: u64,
}

/// A MAC that answered, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Responder {
    /// Its MAC.
    #[schemars(with = "String")]
    #[serde(serialize_with = "serialize_mac")]
    pub mac: Mac,
    /// How many of the replies it sent.
    pub replies: u64,
}

/// How a run ended.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// The address asked about.
    pub target: Ipv4Addr,
    /// The sender address used.
    pub source: Ipv4Addr,
    /// The interface.
    pub interface: String,
    /// This interface's MAC.
    #[schemars(with = "String")]
    #[serde(serialize_with = "serialize_mac")]
    pub mac: Mac,
    /// What the probes were for.
    pub mode: Mode,
    /// Probes sent.
    pub sent: u64,
    /// Of those, broadcast ones.
    pub broadcasts: u64,
    /// Replies received (every MAC's).
    pub received: u64,
    /// The replies, in order (the first 1,000; `replies_omitted` counts the rest).
    pub replies: Vec<Reply>,
    /// Replies left out of `replies`.
    pub replies_omitted: u64,
    /// Each MAC that answered (the first 64 distinct ones).
    pub responders: Vec<Responder>,
    /// More than one MAC answered for the address: a duplicate.
    pub duplicate: bool,
    /// Round trips, when any reply was timed.
    pub rtt_ms: Option<RttSummary>,
    /// Frames read that were not an answer (other ARP traffic, malformed frames).
    pub ignored: u64,
    /// The whole run, in milliseconds.
    pub elapsed_ms: f64,
}

impl Report {
    /// The verdict as an exit status: probe — a reply came (with a deadline
    /// and a count: that many); DAD — nobody answered; announcements — sent.
    pub fn success(&self, request: &Request) -> bool {
        match self.mode {
            Mode::Probe => match (request.deadline, request.count) {
                (Some(_), Some(count)) => self.received >= count,
                _ => self.received > 0,
            },
            Mode::Dad => self.received == 0,
            Mode::AnnounceRequest | Mode::AnnounceReply => self.sent > 0,
        }
    }
}

fn serialize_mac<S: serde::Serializer>(mac: &Mac, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(mac)
}

/// Why arping could not run.
#[derive(Debug, thiserror::Error)]
pub enum ArpingError {
    /// The interface cannot carry ARP.
    #[error(transparent)]
    Link(#[from] crate::iface::ethernet::LinkError),
    /// The address is not on a link of this host.
    #[error(
        "{target} is not on a link of this host: the kernel routes it via {gateway} dev {interface}; ARP only reaches its own link (arping {gateway} to check the gateway, or -I IFACE to ask a link anyway)"
    )]
    OffLink {
        /// The address asked about.
        target: Ipv4Addr,
        /// The route's gateway.
        gateway: std::net::IpAddr,
        /// The route's interface.
        interface: String,
    },
    /// The kernel has no route at all, and no -I was given.
    #[error("no interface leads to {target} ({reason}); name one with -I IFACE")]
    NoRoute {
        /// The address asked about.
        target: Ipv4Addr,
        /// The route lookup's failure.
        reason: String,
    },
    /// The kernel has no IPv4 address on the interface to send from.
    #[error("interface {0} has no IPv4 address to send from: give one with -s SOURCE, or use -D")]
    NoSource(String),
    /// The packet socket could not be opened.
    #[error(transparent)]
    Socket(#[from] crate::net::SocketError),
    /// Capabilities could not be dropped after opening the socket.
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// Sending or receiving failed.
    #[error("arping on {interface}: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// The error.
        source: std::io::Error,
    },
}
