//! The connect-scan network: one non-blocking connect() per probe, many
//! in flight, watched with epoll. No privileges.
//!
//! * connect() succeeded → open (`syn-ack`); ECONNREFUSED → closed, with
//!   `conn-refused` when an RST refused it and the ICMP reason when an ICMP
//!   error did: the kernel maps ICMP to errno (icmp_err_convert: port
//!   unreachable → ECONNREFUSED, codes 1/9/10/13 → EHOSTUNREACH or
//!   ENETUNREACH; ICMPv6 admin-prohibited → EACCES), so with IP_RECVERR
//!   the ICMP itself is read from the socket's error queue to tell them apart.
//! * Connected sockets close with SO_LINGER 0: an abort (RST) instead of a
//!   FIN, so no TIME_WAIT piles up. Only they get it: closing a socket that
//!   was refused or is still in SYN_SENT sends nothing either way, and one
//!   setsockopt fewer per port is 1 of the 8 syscalls a closed port costs.
//! * A refused socket is used again for the next probe instead of being
//!   closed and a new one opened: Linux lets a TCP socket in CLOSE connect
//!   again. The connect() that reads the outcome (a second connect() on a
//!   finished non-blocking attempt returns its result, as SO_ERROR would,
//!   and resets the socket) leaves it ready, its epoll registration
//!   (one-shot, so an idle spare never wakes the loop) is re-armed, and a
//!   closed port costs the connect, the outcome's connect, the error-queue
//!   read and the re-arm: 4 syscalls instead of socket, setsockopt,
//!   epoll_ctl, connect, getsockopt, the error-queue read and close.
//! * A socket leaves the epoll set by being closed (it is the only
//!   reference to its file), not by EPOLL_CTL_DEL.
//! * EMFILE/ENFILE/ENOBUFS/EADDRNOTAVAIL are [`Sent::Busy`]: back-pressure.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::network::{Answer, Received, ScanNetwork, Sent};
use super::{Reason, ScanError};
use crate::net::ErrorOrigin;

/// The most a banner read takes.
pub const BANNER_BYTES: usize = 256;

struct Conn {
    socket: Socket,
    /// Where it connects to (the outcome is read by connecting again).
    target: SockAddr,
    host: u32,
    port: u16,
    /// Connected, waiting for the service to speak first.
    banner: bool,
}

/// A socket whose connect() was refused, kept for the next probe.
struct Spare {
    socket: Socket,
    /// Still in the epoll set (disarmed: its one-shot event fired).
    registered: bool,
}

/// Spares kept per family at the most.
const SPARES_MAX: usize = 4096;

/// Non-blocking connects watched by epoll.
pub struct ConnectNetwork {
    epoll: Epoll,
    conns: Vec<Option<Conn>>,
    free: Vec<u32>,
    by_key: HashMap<(u32, u16), Vec<u32>>,
    /// Refused sockets ready to connect again, IPv4 and IPv6.
    spares: [Vec<Spare>; 2],
    ready: VecDeque<Received>,
    /// How long an open port is given to send its banner (None: no banners).
    banner_wait: Option<Duration>,
    banners: VecDeque<(Instant, u32)>,
    events: Vec<EpollEvent>,
}

impl ConnectNetwork {
    /// A network for connect probes; `banner_wait` reads banners from open ports.
    pub fn new(banner_wait: Option<Duration>) -> Result<Self, ScanError> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(|e| ScanError::Io {
            what: "epoll_create",
            source: e.into(),
        })?;
        Ok(ConnectNetwork {
            epoll,
            conns: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            spares: [Vec::new(), Vec::new()],
            ready: VecDeque::new(),
            banner_wait,
            banners: VecDeque::new(),
            events: vec![EpollEvent::empty(); 1024],
        })
    }

    fn open(target: &SocketAddr) -> io::Result<Socket> {
        let socket = Socket::new(
            Domain::for_address(*target),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        if target.is_ipv6() {
            setsockopt(&socket.as_fd(), sockopt::Ipv6RecvErr, &true)?;
        } else {
            setsockopt(&socket.as_fd(), sockopt::Ipv4RecvErr, &true)?;
        }
        Ok(socket)
    }

    /// Takes conn `idx` out of the table (the socket is the caller's).
    fn remove(&mut self, idx: u32) -> Option<Conn> {
        let conn = self.conns.get_mut(idx as usize).and_then(Option::take)?;
        if let Some(list) = self.by_key.get_mut(&(conn.host, conn.port)) {
            list.retain(|&i| i != idx);
            if list.is_empty() {
                self.by_key.remove(&(conn.host, conn.port));
            }
        }
        self.free.push(idx);
        Some(conn)
    }

    /// Keeps a refused socket for the next probe (it is reset: its
    /// outcome was read by connecting again, its error queue drained).
    fn keep(&mut self, idx: u32) {
        let Some(conn) = self.remove(idx) else {
            return;
        };
        while let Ok(Some(_)) = crate::net::read_error_queue(conn.socket.as_fd()) {}
        self.spare(conn, true);
    }

    /// Puts `conn`'s socket with the spares of its family, if there is room.
    fn spare(&mut self, conn: Conn, registered: bool) {
        let spares = &mut self.spares[usize::from(conn.target.is_ipv6())];
        if spares.len() < SPARES_MAX {
            spares.push(Spare {
                socket: conn.socket,
                registered,
            });
        }
    }

    fn close(&mut self, idx: u32) {
        drop(self.remove(idx));
    }

    /// What a finished connect() says, read by connecting again (which
    /// returns the attempt's result and resets a refused socket), and
    /// whether the socket is reset for the next probe; `None` when it is
    /// still under way (a wake-up with nothing to report).
    ///
    /// An ICMP error can wake the socket (its error queue) before TCP has
    /// closed the attempt: connecting again says EALREADY, the queue has
    /// the answer, and the socket, still in SYN_SENT, is closed, not kept.
    fn outcome(conn: &Conn) -> Option<(Reason, bool)> {
        let (error, reset) = match conn.socket.connect(&conn.target) {
            Ok(()) => return Some((Reason::SynAck, false)),
            Err(e) if e.raw_os_error() == Some(libc::EISCONN) => {
                return Some((Reason::SynAck, false));
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EALREADY | libc::EINPROGRESS)) => {
                (None, false)
            }
            Err(error) => (Some(error), true),
        };
        if let Ok(Some((
            ErrorOrigin::Icmp {
                v6,
                icmp_type,
                code,
                ..
            },
            _,
        ))) = crate::net::read_error_queue(conn.socket.as_fd())
            && let Some(reason) = Reason::from_unreachable(v6, icmp_type, code)
        {
            return Some((reason, reset));
        }
        error.map(|error| (errno_reason(error.raw_os_error().unwrap_or(0)), reset))
    }

    /// Re-arms conn `idx`'s one-shot registration for `flags`.
    fn rearm(&self, idx: u32, flags: EpollFlags) -> bool {
        let Some(conn) = self.conns.get(idx as usize).and_then(Option::as_ref) else {
            return false;
        };
        let mut event = EpollEvent::new(flags | EpollFlags::EPOLLONESHOT, u64::from(idx));
        self.epoll.modify(conn.socket.as_fd(), &mut event).is_ok()
    }

    fn on_event(&mut self, idx: u32, now: Instant) {
        let Some(conn) = self.conns.get(idx as usize).and_then(Option::as_ref) else {
            return;
        };
        let (host, port) = (conn.host, conn.port);
        if conn.banner {
            let mut buffer = [0u8; BANNER_BYTES];
            let bytes = match io::Read::read(&mut &conn.socket, &mut buffer) {
                Ok(n) => buffer[..n].to_vec(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !self.rearm(idx, EpollFlags::EPOLLIN) {
                        self.close(idx);
                    }
                    return;
                }
                Err(_) => Vec::new(),
            };
            self.ready.push_back(Received {
                host,
                port,
                answer: Answer::Banner(bytes),
            });
            self.close(idx);
            return;
        }
        let Some((reason, reusable)) = Self::outcome(conn) else {
            if !self.rearm(idx, EpollFlags::EPOLLOUT) {
                self.close(idx);
            }
            return;
        };
        if reason == Reason::SynAck {
            let _ = conn.socket.set_linger(Some(Duration::ZERO));
        }
        self.ready.push_back(Received {
            host,
            port,
            answer: Answer::Reply(reason),
        });
        match self.banner_wait {
            Some(wait) if reason == Reason::SynAck => {
                if let Some(conn) = self.conns[idx as usize].as_mut() {
                    conn.banner = true;
                    if !self.rearm(idx, EpollFlags::EPOLLIN) {
                        self.ready.push_back(Received {
                            host,
                            port,
                            answer: Answer::Banner(Vec::new()),
                        });
                        self.close(idx);
                        return;
                    }
                }
                self.banners.push_back((now + wait, idx));
            }
            _ if reusable => self.keep(idx),
            _ => self.close(idx),
        }
    }

    fn poll(&mut self, timeout: EpollTimeout) -> Result<(), ScanError> {
        let n = match self.epoll.wait(&mut self.events, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => 0,
            Err(e) => {
                return Err(ScanError::Io {
                    what: "epoll_wait",
                    source: e.into(),
                });
            }
        };
        let now = Instant::now();
        let ready: Vec<u32> = self.events[..n].iter().map(|e| e.data() as u32).collect();
        for idx in ready {
            self.on_event(idx, now);
        }
        self.expire_banners(now);
        Ok(())
    }

    fn expire_banners(&mut self, now: Instant) {
        while let Some(&(until, idx)) = self.banners.front() {
            if until > now {
                break;
            }
            self.banners.pop_front();
            let Some(conn) = self.conns.get(idx as usize).and_then(Option::as_ref) else {
                continue;
            };
            if !conn.banner {
                continue;
            }
            self.ready.push_back(Received {
                host: conn.host,
                port: conn.port,
                answer: Answer::Banner(Vec::new()),
            });
            self.close(idx);
        }
    }
}

/// The reason an errno from connect() gives when no ICMP was queued.
fn errno_reason(errno: i32) -> Reason {
    match errno {
        libc::ECONNREFUSED => Reason::ConnRefused,
        libc::ENETUNREACH => Reason::NetUnreach,
        libc::EACCES | libc::EPERM => Reason::AdminProhibited,
        libc::ENOPROTOOPT => Reason::ProtoUnreach,
        _ => Reason::HostUnreach,
    }
}

impl ScanNetwork for ConnectNetwork {
    fn send(
        &mut self,
        host: u32,
        address: IpAddr,
        scope_id: u32,
        port: u16,
    ) -> Result<Sent, ScanError> {
        let target = match address {
            IpAddr::V4(_) => SocketAddr::new(address, port),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope_id)),
        };
        let family = usize::from(target.is_ipv6());
        if self.spares[family].is_empty() && !self.spares[1 - family].is_empty() {
            // The other family's spares must not hold every descriptor the
            // limit allows while this one waits for its first socket.
            self.spares[1 - family].pop();
        }
        let spare = match self.spares[family].pop() {
            Some(spare) => spare,
            None => match Self::open(&target) {
                Ok(socket) => Spare {
                    socket,
                    registered: false,
                },
                Err(e) if busy(&e) => return Ok(Sent::Busy),
                Err(source) => {
                    return Err(ScanError::Io {
                        what: "socket",
                        source,
                    });
                }
            },
        };
        let target = SockAddr::from(target);
        let immediate = match spare.socket.connect(&target) {
            Ok(()) => Some(Reason::SynAck),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => None,
            Err(e) if busy(&e) => return Ok(Sent::Busy),
            Err(e) => Some(errno_reason(e.raw_os_error().unwrap_or(0))),
        };
        let idx = match self.free.pop() {
            Some(idx) => idx,
            None => {
                self.conns.push(None);
                (self.conns.len() - 1) as u32
            }
        };
        let mut event = EpollEvent::new(
            EpollFlags::EPOLLOUT | EpollFlags::EPOLLONESHOT,
            u64::from(idx),
        );
        let registered = if matches!(immediate, None | Some(Reason::SynAck)) {
            let fd = spare.socket.as_fd();
            let armed = if spare.registered {
                self.epoll.modify(fd, &mut event)
            } else {
                self.epoll.add(fd, event)
            };
            if let Err(e) = armed {
                self.free.push(idx);
                let e = io::Error::from(e);
                if busy(&e) {
                    return Ok(Sent::Busy);
                }
                return Err(ScanError::Io {
                    what: "epoll_ctl",
                    source: e,
                });
            }
            true
        } else {
            spare.registered
        };
        self.conns[idx as usize] = Some(Conn {
            socket: spare.socket,
            target,
            host,
            port,
            banner: false,
        });
        self.by_key.entry((host, port)).or_default().push(idx);
        match immediate {
            // Connected at once (loopback): the same path as an epoll event.
            Some(Reason::SynAck) => self.on_event(idx, Instant::now()),
            Some(reason) => {
                self.ready.push_back(Received {
                    host,
                    port,
                    answer: Answer::Reply(reason),
                });
                // Refused at once: nothing to read back; ready for the next probe.
                if let Some(conn) = self.remove(idx) {
                    self.spare(conn, registered);
                }
            }
            None => {}
        }
        Ok(Sent::Sent)
    }

    fn recv(&mut self) -> Result<Option<Received>, ScanError> {
        if self.ready.is_empty() {
            self.poll(EpollTimeout::ZERO)?;
        }
        Ok(self.ready.pop_front())
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool, ScanError> {
        if !self.ready.is_empty() {
            return Ok(true);
        }
        let until = self
            .banners
            .front()
            .map_or(deadline, |&(at, _)| at.min(deadline));
        let left = until.saturating_duration_since(Instant::now());
        // Round up: a 0.4 ms wait must not become a busy loop of zero waits.
        let ms = u16::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u16::MAX);
        self.poll(EpollTimeout::from(ms))?;
        Ok(!self.ready.is_empty())
    }

    fn forget(&mut self, host: u32, port: u16) {
        if let Some(list) = self.by_key.remove(&(host, port)) {
            for idx in list {
                self.close(idx);
            }
        }
    }
}

/// Out of descriptors, buffers or local ports: wait for a probe to finish.
fn busy(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL)
    )
}
