//! The real dialer: one non-blocking TCP socket per probe, watched with
//! poll() together with the interrupt pipe.
//!
//! * SO_LINGER {on, 0} is set before connect(): when the handshake
//!   completes the socket is closed at once, which sends an RST instead of
//!   a FIN — no TIME_WAIT on our side, and the server's accepted (or still
//!   queued) connection is aborted instead of left in CLOSE_WAIT.
//! * The handshake time is the kernel's: after the first RTT sample,
//!   TCP_INFO's tcpi_rtt is that sample exactly (the SYN's departure to the
//!   SYN-ACK's arrival, µs). The kernel takes no sample from a
//!   retransmitted SYN (Karn), so then only connect()'s own time is shown.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, poll};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::engine::{Dialer, Finished, Handshake};
use crate::net::poll_timeout;
use crate::signals::Interrupts;
use crate::sockets::tcp_info::TcpInfoView;

struct Pending {
    socket: Socket,
    started: Instant,
}

/// Handshakes to one address over real sockets.
pub struct SocketDialer {
    target: SockAddr,
    domain: Domain,
    pending: HashMap<u64, Pending>,
    done: VecDeque<Finished>,
    interrupts: Interrupts,
    stop: bool,
}

impl SocketDialer {
    /// A dialer to `target`; `interrupts` end waits early.
    pub fn new(target: SocketAddr, interrupts: Interrupts) -> SocketDialer {
        SocketDialer {
            target: SockAddr::from(target),
            domain: Domain::for_address(target),
            pending: HashMap::new(),
            done: VecDeque::new(),
            interrupts,
            stop: false,
        }
    }

    /// Reads the outcome of probe `seq`, whose socket poll() reported.
    fn finish(&mut self, seq: u64) {
        let Some(pending) = self.pending.remove(&seq) else {
            return;
        };
        let elapsed = pending.started.elapsed();
        let handshake = match pending.socket.take_error() {
            Ok(None) => connected(&pending.socket),
            Ok(Some(err)) | Err(err) => failure(&err),
        };
        // Dropping the socket closes it: an RST after a handshake (linger 0).
        drop(pending);
        self.done.push_back(Finished {
            seq,
            handshake,
            elapsed,
        });
    }
}

/// What a completed handshake's socket tells: the kernel's RTT sample, SYN
/// retransmissions, our port.
fn connected(socket: &Socket) -> Handshake {
    let bytes = crate::net::tcp_info::read(socket).unwrap_or_default();
    let info = TcpInfoView::new(&bytes).map(|view| view.parse(None));
    let retransmits = info.as_ref().and_then(|i| i.total_retrans);
    // tcpi_rtt is whole microseconds; the view gives it in milliseconds.
    let kernel_rtt = info
        .as_ref()
        .filter(|_| retransmits == Some(0))
        .and_then(|i| i.rtt_ms)
        .filter(|ms| *ms > 0.0)
        .map(|ms| Duration::from_micros((ms * 1000.0).round() as u64));
    Handshake::Connected {
        kernel_rtt,
        syn_retransmits: retransmits,
        local_port: socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|a| a.port()),
    }
}

fn failure(err: &io::Error) -> Handshake {
    if err.raw_os_error() == Some(libc::ECONNREFUSED) {
        Handshake::Refused
    } else {
        Handshake::Failed(errno_text(err))
    }
}

/// The kernel's words and the errno's name: "No route to host (EHOSTUNREACH)".
fn errno_text(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => {
            let errno = nix::errno::Errno::from_raw(code);
            format!("{} ({errno:?})", errno.desc())
        }
        None => err.to_string(),
    }
}

impl Dialer for SocketDialer {
    fn start(&mut self, seq: u64) -> io::Result<Option<Finished>> {
        let socket = Socket::new(self.domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
        socket.set_linger(Some(Duration::ZERO))?;
        let started = Instant::now();
        match socket.connect(&self.target) {
            Ok(()) => {
                self.pending.insert(seq, Pending { socket, started });
                self.finish(seq);
                Ok(self.done.pop_back())
            }
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {
                self.pending.insert(seq, Pending { socket, started });
                Ok(None)
            }
            // Local failures (no route, no address, no ports left) end the
            // probe at once; the run goes on, as ping's does.
            Err(err) => Ok(Some(Finished {
                seq,
                handshake: failure(&err),
                elapsed: started.elapsed(),
            })),
        }
    }

    fn wait(&mut self, deadline: Instant) -> io::Result<Option<Finished>> {
        if let Some(done) = self.done.pop_front() {
            return Ok(Some(done));
        }
        let seqs: Vec<u64> = self.pending.keys().copied().collect();
        let interrupt_fds = self.interrupts.fds();
        let mut fds: Vec<PollFd<'_>> = seqs
            .iter()
            .map(|seq| PollFd::new(self.pending[seq].socket.as_fd(), PollFlags::POLLOUT))
            .collect();
        fds.extend(
            interrupt_fds
                .iter()
                .map(|fd| PollFd::new(*fd, PollFlags::POLLIN)),
        );
        let timeout = poll_timeout(deadline.saturating_duration_since(Instant::now()));
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(None),
            Err(err) => return Err(err.into()),
        }
        let ready: Vec<u64> = seqs
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(seq, _)| *seq)
            .collect();
        let interrupted = fds[seqs.len()..]
            .iter()
            .any(|fd| fd.revents().is_some_and(|r| !r.is_empty()));
        drop(fds);
        if interrupted {
            self.stop |= self.interrupts.take().stop;
        }
        for seq in ready {
            self.finish(seq);
        }
        Ok(self.done.pop_front())
    }

    fn abandon(&mut self, seq: u64) {
        // A socket still in SYN_SENT closes without sending anything.
        self.pending.remove(&seq);
    }

    fn stopped(&mut self) -> bool {
        self.stop |= self.interrupts.take().stop;
        self.stop
    }
}
