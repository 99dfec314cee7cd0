//! What the engine needs of the network — send a probe to a host's port,
//! read the answers that came back (each tied to its host and port), wait
//! with a deadline, give up on a probe — implemented by the connect, SYN
//! and UDP networks and, in tests, by a scripted one (`sim.rs`).
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Instant;

use super::{Reason, ScanError};

/// Whether a probe went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// It is on its way.
    Sent,
    /// Out of descriptors, local ports or buffer (EMFILE, ENFILE,
    /// EADDRNOTAVAIL, ENOBUFS): try again once a probe in flight is done.
    Busy,
}

/// What came back about a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The port answered for itself (SYN-ACK, RST, a UDP reply, …) or an
    /// ICMP error answered for it.
    Reply(Reason),
    /// What an open port sent first (`--banner`; empty: nothing in time).
    Banner(Vec<u8>),
}

/// An answer tied to the probe it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The host's index in the scan.
    pub host: u32,
    /// The port probed.
    pub port: u16,
    /// What it said.
    pub answer: Answer,
}

/// The network as a scan uses it.
pub trait ScanNetwork {
    /// Sends one probe to `port` on host `host` at `address`.
    fn send(
        &mut self,
        host: u32,
        address: IpAddr,
        scope_id: u32,
        port: u16,
    ) -> Result<Sent, ScanError>;
    /// The next answer already queued, without waiting (whatever is not
    /// about one of our probes is read and dropped).
    fn recv(&mut self) -> Result<Option<Received>, ScanError>;
    /// Waits until `deadline` for something to read; `false` when the
    /// deadline passed with nothing.
    fn wait(&mut self, deadline: Instant) -> Result<bool, ScanError>;
    /// Gives up on every probe to `port` of `host` (a connect scan closes
    /// their sockets); a later answer to it may still be read.
    fn forget(&mut self, host: u32, port: u16);
}
