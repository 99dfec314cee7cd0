//! Ctrl-C and SIGQUIT, readable two ways: as file descriptors a poll loop can
//! wait on (no race between checking and sleeping), and as flags a busy loop
//! can check without a system call.
#![forbid(unsafe_code)]

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGQUIT};
use signal_hook::low_level::pipe;

/// Pending interrupt requests.
pub struct Interrupts {
    stop: Signal,
    status: Signal,
}

/// One signal: a flag, and a socket that becomes readable when it fires.
struct Signal {
    fired: Arc<AtomicBool>,
    wake: UnixStream,
}

impl Signal {
    fn install(number: i32) -> io::Result<Self> {
        let (wake, wake_tx) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let fired = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(number, Arc::clone(&fired))?;
        pipe::register(number, wake_tx)?;
        Ok(Signal { fired, wake })
    }

    fn never() -> io::Result<Self> {
        let (wake, _) = UnixStream::pair()?;
        Ok(Signal {
            fired: Arc::new(AtomicBool::new(false)),
            wake,
        })
    }

    fn take(&self) -> bool {
        if !self.fired.swap(false, Ordering::SeqCst) {
            return false;
        }
        let mut buf = [0u8; 16];
        while let Ok(n) = (&self.wake).read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        true
    }
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
        Ok(Interrupts {
            stop: Signal::install(SIGINT)?,
            status: Signal::install(SIGQUIT)?,
        })
    }

    /// Interrupts that never arrive (no handlers installed): for engines run
    /// in simulation.
    pub fn never() -> io::Result<Self> {
        Ok(Interrupts {
            stop: Signal::never()?,
            status: Signal::never()?,
        })
    }

    /// The descriptors to poll for readability.
    pub fn fds(&self) -> [BorrowedFd<'_>; 2] {
        [self.stop.wake.as_fd(), self.status.wake.as_fd()]
    }

    /// Collects (and clears) the signals that arrived; no system call unless one did.
    pub fn take(&self) -> Requests {
        Requests {
            stop: self.stop.take(),
            status: self.status.take(),
        }
    }
}
