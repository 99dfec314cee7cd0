//! Ctrl-C and SIGQUIT as readable file descriptors, so a poll loop can wait
//! for packets and signals at once without a race.
#![forbid(unsafe_code)]

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use signal_hook::consts::{SIGINT, SIGQUIT};
use signal_hook::low_level::pipe;

/// Pending interrupt requests, each signalled by a byte on a socket pair.
pub struct Interrupts {
    stop: UnixStream,
    status: UnixStream,
}

/// What the user asked for with a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requests {
    /// SIGINT: print the summary and stop.
    pub stop: bool,
    /// SIGQUIT: print interim statistics and carry on.
    pub status: bool,
}

impl Interrupts {
    /// Installs handlers for SIGINT (stop) and SIGQUIT (status).
    pub fn install() -> io::Result<Self> {
        let (stop, stop_tx) = UnixStream::pair()?;
        let (status, status_tx) = UnixStream::pair()?;
        for socket in [&stop, &status] {
            socket.set_nonblocking(true)?;
        }
        pipe::register(SIGINT, stop_tx)?;
        pipe::register(SIGQUIT, status_tx)?;
        Ok(Interrupts { stop, status })
    }

    /// The descriptors to poll for readability.
    pub fn fds(&self) -> [BorrowedFd<'_>; 2] {
        [self.stop.as_fd(), self.status.as_fd()]
    }

    /// Collects (and clears) the signals that arrived.
    pub fn take(&self) -> Requests {
        Requests {
            stop: drain(&self.stop),
            status: drain(&self.status),
        }
    }
}

fn drain(mut socket: &UnixStream) -> bool {
    let mut buf = [0u8; 16];
    let mut any = false;
    while let Ok(n) = socket.read(&mut buf) {
        if n == 0 {
            break;
        }
        any = true;
    }
    any
}
