//! What the ping engine needs of the network — send an echo request, read
//! what came back, read the error queue, wait — and the real network: one
//! echo socket per address family. Scenario tests give the engine a
//! scripted network instead (see the engine's tests).
#![forbid(unsafe_code)]

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::time::TimeSpec;

use super::echo::{EchoSocket, ProbeError, Received};
use super::target::Target;
use crate::signals::Interrupts;

/// Index of the IPv4 socket.
pub const V4: usize = 0;
/// Index of the IPv6 socket.
pub const V6: usize = 1;

/// Which sockets have something to read after a wait, by family index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Datagrams are queued.
    pub readable: [bool; 2],
    /// The error queue has entries.
    pub errored: [bool; 2],
}

/// The echo sockets of a run, as the engine uses them.
pub trait EchoNetwork {
    /// Whether a socket of this family (`V4`, `V6`) is open.
    fn has(&self, family: usize) -> bool;
    /// Sends one echo request to `target`; the wall-clock time just before it left.
    fn send(&mut self, target: &Target, seq: u16, payload: &[u8]) -> io::Result<SystemTime>;
    /// The next datagram queued on the family's socket, without waiting.
    fn recv(&mut self, family: usize) -> io::Result<Option<Received>>;
    /// The next error-queue entry (`Some(None)`: one not about our probes).
    fn recv_error(&mut self, family: usize) -> io::Result<Option<Option<ProbeError>>>;
    /// Waits up to `timeout` (`None`: until something happens) for a
    /// datagram or error on the sockets — or, with `sockets == false`, only
    /// for a signal — and says which sockets are ready.
    fn wait(
        &mut self,
        sockets: bool,
        timeout: Option<Duration>,
        interrupts: &Interrupts,
    ) -> io::Result<Readiness>;
}

/// The real network: an echo socket per family that the run needs.
pub struct Sockets {
    sockets: [Option<EchoSocket>; 2],
}

impl Sockets {
    /// The sockets of a run.
    pub fn new(v4: Option<EchoSocket>, v6: Option<EchoSocket>) -> Self {
        Sockets { sockets: [v4, v6] }
    }

    fn socket(&mut self, family: usize) -> io::Result<&mut EchoSocket> {
        self.sockets
            .get_mut(family)
            .and_then(Option::as_mut)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl EchoNetwork for Sockets {
    fn has(&self, family: usize) -> bool {
        self.sockets.get(family).is_some_and(Option::is_some)
    }

    fn send(&mut self, target: &Target, seq: u16, payload: &[u8]) -> io::Result<SystemTime> {
        let family = usize::from(target.address.is_ipv6());
        self.socket(family)?
            .send(target.address, target.scope_id, seq, payload)
    }

    fn recv(&mut self, family: usize) -> io::Result<Option<Received>> {
        match self.sockets.get_mut(family).and_then(Option::as_mut) {
            Some(socket) => socket.recv(),
            None => Ok(None),
        }
    }

    fn recv_error(&mut self, family: usize) -> io::Result<Option<Option<ProbeError>>> {
        match self.sockets.get_mut(family).and_then(Option::as_mut) {
            Some(socket) => socket.recv_error(),
            None => Ok(None),
        }
    }

    fn wait(
        &mut self,
        sockets: bool,
        timeout: Option<Duration>,
        interrupts: &Interrupts,
    ) -> io::Result<Readiness> {
        let timeout = timeout.map(TimeSpec::from_duration);
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(4);
        let mut families = Vec::with_capacity(2);
        if sockets {
            for (family, socket) in self.sockets.iter().enumerate() {
                if let Some(socket) = socket {
                    fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLIN));
                    families.push(family);
                }
            }
        }
        for fd in interrupts.fds() {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        match ppoll(&mut fds, timeout, None) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        let mut ready = Readiness::default();
        for (slot, family) in families.iter().enumerate() {
            let revents = fds[slot].revents().unwrap_or(PollFlags::empty());
            ready.readable[*family] = revents.contains(PollFlags::POLLIN);
            ready.errored[*family] = revents.contains(PollFlags::POLLERR);
        }
        Ok(ready)
    }
}
