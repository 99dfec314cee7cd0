//! What the engine needs of the network — send a probe to a host's port,
//! read the answers that came back (each tied to its host and port), wait
//! with a deadline, give up on a probe — implemented by the connect, SYN
//! and UDP networks and, in tests, by a scripted one (`sim.rs`).
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::net::IpAddr;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use super::{Reason, ScanError};
use crate::net::{self, SocketError};

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

/// Sockets read in batches whose answers queue until the engine asks (the
/// SYN and UDP scans: one socket per family, answers matched by what they
/// quote, nothing to close when a probe is given up on).
pub trait BatchSockets {
    /// Sends one probe; an answer known at once (a local "unreachable") is
    /// queued on `answers`.
    fn send(
        &mut self,
        probe: (u32, IpAddr, u32, u16),
        answers: &mut VecDeque<Received>,
    ) -> Result<Sent, ScanError>;
    /// Reads everything the sockets have queued, about our probes, into `answers`.
    fn read(&mut self, answers: &mut VecDeque<Received>) -> Result<(), ScanError>;
    /// The sockets to wait on.
    fn fds(&self) -> Vec<BorrowedFd<'_>>;
}

/// A [`ScanNetwork`] over [`BatchSockets`].
pub struct Batched<S> {
    sockets: S,
    answers: VecDeque<Received>,
}

impl<S: BatchSockets> Batched<S> {
    /// The network of `sockets`, nothing queued yet.
    pub fn new(sockets: S) -> Self {
        Batched {
            sockets,
            answers: VecDeque::new(),
        }
    }
}

impl<S: BatchSockets> ScanNetwork for Batched<S> {
    fn send(
        &mut self,
        host: u32,
        address: IpAddr,
        scope_id: u32,
        port: u16,
    ) -> Result<Sent, ScanError> {
        let probe = (host, address, scope_id, port);
        self.sockets.send(probe, &mut self.answers)
    }

    fn recv(&mut self) -> Result<Option<Received>, ScanError> {
        if self.answers.is_empty() {
            self.sockets.read(&mut self.answers)?;
        }
        Ok(self.answers.pop_front())
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool, ScanError> {
        if !self.answers.is_empty() {
            return Ok(true);
        }
        Ok(net::wait_readable(&self.sockets.fds(), deadline).map_err(SocketError::Poll)?)
    }

    fn forget(&mut self, _: u32, _: u16) {}
}

/// A send that failed for a reason that is not an answer.
pub fn send_failed(target: IpAddr, source: std::io::Error) -> ScanError {
    SocketError::Send { target, source }.into()
}
