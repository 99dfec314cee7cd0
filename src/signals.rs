//! Ctrl-C and SIGQUIT, readable two ways: as file descriptors a poll loop can
//! wait on (no race between checking and sleeping), and as flags a busy loop
//! can check without a system call.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
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
    /// The other end of `wake`, for firing it without the signal.
    wake_tx: Option<UnixStream>,
}

impl Signal {
    fn install(number: i32) -> io::Result<Self> {
        let (wake, wake_tx) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let fired = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(number, Arc::clone(&fired))?;
        let ours = wake_tx.try_clone()?;
        ours.set_nonblocking(true)?;
        pipe::register(number, wake_tx)?;
        Ok(Signal {
            fired,
            wake,
            wake_tx: Some(ours),
        })
    }

    fn never() -> io::Result<Self> {
        let (wake, _) = UnixStream::pair()?;
        Ok(Signal {
            fired: Arc::new(AtomicBool::new(false)),
            wake,
            wake_tx: None,
        })
    }

    /// A signal no handler fires, only a [`Stopper`]: its wake socket's
    /// other end stays open, so a poll on it sleeps until stopped.
    fn detached() -> io::Result<Self> {
        let (wake, wake_tx) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        Ok(Signal {
            fired: Arc::new(AtomicBool::new(false)),
            wake,
            wake_tx: Some(wake_tx),
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

/// Asks a run to stop as Ctrl-C does, from any thread: for when the
/// reader of its output has gone and nothing it prints can be seen.
pub struct Stopper {
    fired: Arc<AtomicBool>,
    wake: Option<UnixStream>,
}

impl Stopper {
    /// Requests the stop; the run's next look at its interrupts sees it.
    pub fn stop(&self) {
        self.fired.store(true, Ordering::SeqCst);
        if let Some(wake) = &self.wake {
            // A full socket already wakes the loop; nothing more to do then.
            let _ = (&*wake).write(&[1]);
        }
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

/// Makes Ctrl-C end the process at once with the shell's code for it (130),
/// even when it was started with SIGINT ignored (a background job of a
/// script): for runs whose whole state is in the kernel and goes with the
/// process, such as a lab's namespaces and sockets.
pub fn end_on_interrupt() -> io::Result<()> {
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::new(AtomicBool::new(true)))
        .map(drop)
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

    /// One set of interrupts that nothing ever fires, shared by every run
    /// that asks: a server's probes end when their deadlines say, and
    /// opening (and closing) two socket pairs for each of them is ten
    /// system calls on every probe's path.
    pub fn unfired() -> io::Result<&'static Interrupts> {
        static UNFIRED: std::sync::OnceLock<Interrupts> = std::sync::OnceLock::new();
        if let Some(interrupts) = UNFIRED.get() {
            return Ok(interrupts);
        }
        let made = Interrupts::detached()?;
        Ok(UNFIRED.get_or_init(|| made))
    }

    /// Interrupts without signal handlers that a [`Stopper`] can still
    /// fire: for engines run inside a server (the exporter), where Ctrl-C
    /// belongs to the server and a run ends when its caller says so.
    pub fn detached() -> io::Result<Self> {
        Ok(Interrupts {
            stop: Signal::detached()?,
            status: Signal::detached()?,
        })
    }

    /// A handle that requests the stop SIGINT requests.
    pub fn stopper(&self) -> io::Result<Stopper> {
        Ok(Stopper {
            fired: Arc::clone(&self.stop.fired),
            wake: match &self.stop.wake_tx {
                Some(wake) => Some(wake.try_clone()?),
                None => None,
            },
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

#[cfg(test)]
mod tests {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

    use super::*;

    #[test]
    fn a_stopper_on_another_thread_requests_the_stop_and_wakes_the_poll_loop() {
        let interrupts = Interrupts::install().unwrap();
        let stopper = interrupts.stopper().unwrap();
        std::thread::spawn(move || stopper.stop()).join().unwrap();
        let [stop, _] = interrupts.fds();
        let mut fds = [PollFd::new(stop, PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::ZERO), Ok(1), "the loop wakes");
        assert_eq!(
            interrupts.take(),
            Requests {
                stop: true,
                status: false
            }
        );
        assert!(!interrupts.take().stop, "taken once");
    }
}
