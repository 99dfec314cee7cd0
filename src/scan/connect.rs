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
//! * A socket leaves the epoll set by being closed (it is the only
//!   reference to its file), not by EPOLL_CTL_DEL: another syscall saved.
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
    host: u32,
    port: u16,
    /// Connected, waiting for the service to speak first.
    banner: bool,
}

/// Non-blocking connects watched by epoll.
pub struct ConnectNetwork {
    epoll: Epoll,
    conns: Vec<Option<Conn>>,
    free: Vec<u32>,
    by_key: HashMap<(u32, u16), Vec<u32>>,
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
            ready: VecDeque::new(),
            banner_wait,
            banners: VecDeque::new(),
            events: vec![EpollEvent::empty(); 1024],
        })
    }

    fn open(address: IpAddr, scope_id: u32) -> io::Result<(Socket, SockAddr)> {
        let target = match address {
            IpAddr::V4(_) => SocketAddr::new(address, 0),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope_id)),
        };
        let socket = Socket::new(
            Domain::for_address(target),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        if address.is_ipv6() {
            setsockopt(&socket.as_fd(), sockopt::Ipv6RecvErr, &true)?;
        } else {
            setsockopt(&socket.as_fd(), sockopt::Ipv4RecvErr, &true)?;
        }
        Ok((socket, SockAddr::from(target)))
    }

    fn close(&mut self, idx: u32) {
        if let Some(conn) = self.conns.get_mut(idx as usize).and_then(Option::take) {
            if let Some(list) = self.by_key.get_mut(&(conn.host, conn.port)) {
                list.retain(|&i| i != idx);
                if list.is_empty() {
                    self.by_key.remove(&(conn.host, conn.port));
                }
            }
            self.free.push(idx);
        }
    }

    /// What a finished connect() says.
    fn outcome(conn: &Conn) -> Reason {
        let error = match conn.socket.take_error() {
            Ok(None) => return Reason::SynAck,
            Ok(Some(error)) => error,
            Err(error) => error,
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
        {
            if let Some(reason) = Reason::from_unreachable(v6, icmp_type, code) {
                return reason;
            }
        }
        errno_reason(error.raw_os_error().unwrap_or(0))
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
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
        let reason = Self::outcome(conn);
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
                    let mut event = EpollEvent::new(EpollFlags::EPOLLIN, u64::from(idx));
                    if self.epoll.modify(conn.socket.as_fd(), &mut event).is_err() {
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
        let (socket, mut target) = match Self::open(address, scope_id) {
            Ok(opened) => opened,
            Err(e) if busy(&e) => return Ok(Sent::Busy),
            Err(source) => {
                return Err(ScanError::Io {
                    what: "socket",
                    source,
                });
            }
        };
        if let Some(mut addr) = target.as_socket() {
            addr.set_port(port);
            target = SockAddr::from(addr);
        }
        let immediate = match socket.connect(&target) {
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
        let event = EpollEvent::new(EpollFlags::EPOLLOUT, u64::from(idx));
        if immediate.is_none()
            && let Err(e) = self.epoll.add(socket.as_fd(), event)
        {
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
        self.conns[idx as usize] = Some(Conn {
            socket,
            host,
            port,
            banner: false,
        });
        self.by_key.entry((host, port)).or_default().push(idx);
        if let Some(reason) = immediate {
            if reason == Reason::SynAck {
                // Connected at once (loopback): the same path as an epoll event.
                let _ = self.conns[idx as usize]
                    .as_ref()
                    .map(|c| self.epoll.add(c.socket.as_fd(), event));
                self.on_event(idx, Instant::now());
            } else {
                self.ready.push_back(Received {
                    host,
                    port,
                    answer: Answer::Reply(reason),
                });
                self.close(idx);
            }
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
