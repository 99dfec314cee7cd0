//! The echo socket: an ICMP socket per address family, opened the way
//! iputils opens it, with the options that make replies truthful.
//!
//! * an unprivileged ICMP datagram socket where `net.ipv4.ping_group_range`
//!   admits the user's group, otherwise a raw socket (CAP_NET_RAW);
//! * `SO_TIMESTAMPNS`: the kernel's receive time, so RTTs do not include
//!   the time it took this process to wake up;
//! * `IP_RECVTTL` / `IPV6_RECVHOPLIMIT`: the reply's TTL on datagram sockets;
//! * `IP_RECVERR` / `IPV6_RECVERR`: ICMP errors about our requests
//!   (unreachable, time exceeded) on the error queue, matched by the kernel.
#![forbid(unsafe_code)]

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::wire::{self, Incoming, SocketKind};
use super::{IcmpErrorKind, PingError};
use crate::iface::IfaceName;

/// Where probes leave from (`-I`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Bind to this local address.
    Address(IpAddr),
    /// Send through this interface (SO_BINDTODEVICE).
    Interface(IfaceName),
}

/// Socket settings chosen on the command line.
#[derive(Debug, Clone, Default)]
pub struct SocketOptions {
    /// IP TTL / IPv6 hop limit of outgoing probes.
    pub ttl: Option<u8>,
    /// Source address or interface.
    pub source: Option<Source>,
    /// Receive buffer to ask for (bytes), so bursts of replies are not dropped.
    pub rcvbuf: usize,
    /// Payload bytes per probe (sizes the read buffer).
    pub payload: usize,
}

/// One datagram read from the socket.
#[derive(Debug)]
pub struct Received<'a> {
    /// Sender of the datagram.
    pub from: IpAddr,
    /// TTL / hop limit from ancillary data, when the kernel sent it.
    pub ttl: Option<u8>,
    /// Kernel receive timestamp.
    pub at: Option<SystemTime>,
    /// The decoded contents.
    pub incoming: Incoming<'a>,
}

/// An entry from the socket's error queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedError {
    /// What happened.
    pub origin: IcmpErrorKind,
    /// The destination of the request it is about.
    pub target: Option<IpAddr>,
    /// Identifier and sequence of that request, when it was quoted back.
    pub request: Option<(u16, u16)>,
}

/// Room beyond the probe's own size: the largest IPv4 header (60) and
/// enough spare that an echo longer than what was sent is seen as longer.
const RECV_SLACK: usize = 60 + 8 + 1024;

/// An open ICMP echo socket for one address family.
pub struct EchoSocket {
    socket: Socket,
    kind: SocketKind,
    v6: bool,
    ident: u16,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
    cmsg_buf: Vec<u8>,
}

/// Why one socket type could not be opened.
fn open_error_text(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(libc::EACCES) => "not permitted for this group".into(),
        Some(libc::EPERM) => "operation not permitted".into(),
        _ => err.to_string(),
    }
}

impl EchoSocket {
    /// Opens an echo socket for IPv4 (`v6 == false`) or IPv6, datagram first,
    /// raw second, and applies `options`.
    pub fn open(v6: bool, options: &SocketOptions) -> Result<Self, PingError> {
        let (domain, protocol) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let (socket, kind) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(socket) => (socket, SocketKind::Datagram),
            Err(dgram) => match Socket::new(domain, Type::RAW, Some(protocol)) {
                Ok(socket) => (socket, SocketKind::Raw),
                Err(raw) => {
                    return Err(PingError::NoSocket {
                        family: if v6 { "IPv6" } else { "IPv4" },
                        datagram: open_error_text(&dgram),
                        raw: open_error_text(&raw),
                    });
                }
            },
        };
        let mut echo = EchoSocket {
            socket,
            kind,
            v6,
            ident: 0,
            send_buf: Vec::with_capacity(256),
            recv_buf: vec![0; options.payload + RECV_SLACK],
            cmsg_buf: nix::cmsg_space!(
                libc::sock_extended_err,
                libc::sockaddr_in6,
                TimeSpec,
                libc::c_int,
                libc::c_int
            ),
        };
        echo.configure(options)?;
        Ok(echo)
    }

    fn configure(&mut self, options: &SocketOptions) -> Result<(), PingError> {
        let fail = |option: &'static str| {
            move |source: io::Error| PingError::SocketOption { option, source }
        };
        let nix_fail = |option: &'static str| {
            move |errno: Errno| PingError::SocketOption {
                option,
                source: io::Error::from(errno),
            }
        };
        self.socket
            .set_nonblocking(true)
            .map_err(fail("O_NONBLOCK"))?;
        if options.rcvbuf > 0 {
            // Best effort: the kernel caps it at net.core.rmem_max.
            let _ = self.socket.set_recv_buffer_size(options.rcvbuf);
        }
        let fd = self.socket.as_fd();
        setsockopt(&fd, sockopt::ReceiveTimestampns, &true).map_err(nix_fail("SO_TIMESTAMPNS"))?;
        if self.v6 {
            setsockopt(&fd, sockopt::Ipv6RecvErr, &true).map_err(nix_fail("IPV6_RECVERR"))?;
            setsockopt(&fd, sockopt::Ipv6RecvHopLimit, &true)
                .map_err(nix_fail("IPV6_RECVHOPLIMIT"))?;
        } else {
            setsockopt(&fd, sockopt::Ipv4RecvErr, &true).map_err(nix_fail("IP_RECVERR"))?;
            // Raw sockets read the TTL from the IP header they deliver.
            if self.kind == SocketKind::Datagram {
                setsockopt(&fd, sockopt::Ipv4RecvTtl, &true).map_err(nix_fail("IP_RECVTTL"))?;
            }
        }
        if let Some(ttl) = options.ttl {
            if self.v6 {
                self.socket
                    .set_unicast_hops_v6(u32::from(ttl))
                    .map_err(fail("IPV6_UNICAST_HOPS"))?;
            } else {
                self.socket
                    .set_ttl_v4(u32::from(ttl))
                    .map_err(fail("IP_TTL"))?;
            }
        }
        match &options.source {
            Some(Source::Address(address)) => {
                let local = SocketAddr::new(*address, 0);
                self.socket
                    .bind(&SockAddr::from(local))
                    .map_err(|source| PingError::Bind {
                        address: *address,
                        source,
                    })?;
            }
            Some(Source::Interface(name)) => {
                self.socket
                    .bind_device(Some(name.as_str().as_bytes()))
                    .map_err(|source| PingError::Device {
                        name: name.to_string(),
                        source,
                    })?;
            }
            None => {}
        }
        self.ident = match self.kind {
            // Raw sockets see every ICMP packet on the host: tag ours.
            SocketKind::Raw => random_ident(),
            // Datagram sockets: the kernel assigns the identifier and filters replies.
            SocketKind::Datagram => 0,
        };
        Ok(())
    }

    /// Datagram or raw.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// The identifier our requests carry (raw sockets; 0 = kernel-chosen).
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// Sends one echo request; returns the wall-clock time just before the syscall.
    pub fn send(
        &mut self,
        target: IpAddr,
        scope_id: u32,
        seq: u16,
        payload: &[u8],
    ) -> io::Result<SystemTime> {
        wire::build_echo_request(self.v6, self.ident, seq, payload, &mut self.send_buf);
        let address = match target {
            IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), 0),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope_id)),
        };
        let at = SystemTime::now();
        self.socket
            .send_to(&self.send_buf, &SockAddr::from(address))?;
        Ok(at)
    }

    /// Reads one datagram without blocking; `None` when nothing is queued.
    pub fn recv(&mut self) -> io::Result<Option<Received<'_>>> {
        let fd = self.socket.as_raw_fd();
        let (bytes, from, ttl, at) = {
            let mut iov = [IoSliceMut::new(&mut self.recv_buf)];
            let message = match recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                Some(&mut self.cmsg_buf),
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(message) => message,
                Err(Errno::EAGAIN | Errno::EINTR) => return Ok(None),
                Err(errno) => return Err(errno.into()),
            };
            let mut ttl = None;
            let mut at = None;
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    match cmsg {
                        ControlMessageOwned::ScmTimestampns(ts) => at = Some(system_time(ts)),
                        ControlMessageOwned::Ipv4Ttl(value) => ttl = u8::try_from(value).ok(),
                        ControlMessageOwned::Ipv6HopLimit(value) => ttl = u8::try_from(value).ok(),
                        _ => {}
                    }
                }
            }
            let from = message.address.as_ref().and_then(ip_of);
            (message.bytes.min(self.recv_buf.len()), from, ttl, at)
        };
        let Some(from) = from else {
            return Ok(Some(Received {
                from: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                ttl,
                at,
                incoming: Incoming::Ignored("no sender address"),
            }));
        };
        let local = if self.v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        let incoming = wire::parse(&self.recv_buf[..bytes], self.kind, from, local);
        Ok(Some(Received {
            from,
            ttl,
            at,
            incoming,
        }))
    }

    /// Reads one entry of the error queue without blocking.
    pub fn recv_error(&mut self) -> io::Result<Option<QueuedError>> {
        let fd = self.socket.as_raw_fd();
        let capacity = self.recv_buf.len();
        let (bytes, target, origin) = {
            let mut iov = [IoSliceMut::new(&mut self.recv_buf)];
            let message = match recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                Some(&mut self.cmsg_buf),
                MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(message) => message,
                Err(Errno::EAGAIN | Errno::EINTR) => return Ok(None),
                Err(errno) => return Err(errno.into()),
            };
            let target = message.address.as_ref().and_then(ip_of);
            let mut origin = None;
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    if let Some(found) = error_origin(cmsg) {
                        origin = Some(found);
                    }
                }
            }
            (message.bytes.min(capacity), target, origin)
        };
        let Some(origin) = origin else {
            return Ok(None);
        };
        Ok(Some(QueuedError {
            origin,
            target,
            request: wire::quoted_request(&self.recv_buf[..bytes], self.v6),
        }))
    }
}

/// The origin of an IP_RECVERR / IPV6_RECVERR control message.
fn error_origin(cmsg: ControlMessageOwned) -> Option<IcmpErrorKind> {
    let (ee, offender, v6) = match cmsg {
        ControlMessageOwned::Ipv4RecvErr(ee, offender) => (
            ee,
            offender.map(|sa| IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)))),
            false,
        ),
        ControlMessageOwned::Ipv6RecvErr(ee, offender) => (
            ee,
            offender.map(|sa| IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr))),
            true,
        ),
        _ => return None,
    };
    Some(match ee.ee_origin {
        libc::SO_EE_ORIGIN_ICMP | libc::SO_EE_ORIGIN_ICMP6 => IcmpErrorKind::Icmp {
            from: offender,
            v6,
            icmp_type: ee.ee_type,
            code: ee.ee_code,
            info: ee.ee_info,
        },
        _ => IcmpErrorKind::Local {
            errno: i32::try_from(ee.ee_errno).unwrap_or(i32::MAX),
            info: ee.ee_info,
        },
    })
}

impl AsFd for EchoSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// The IP address of a socket address (None for other families).
pub(crate) fn ip_of(address: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// A kernel timestamp (SO_TIMESTAMPNS) as wall-clock time.
pub(crate) fn system_time(ts: TimeSpec) -> SystemTime {
    let nanos = u32::try_from(ts.tv_nsec()).unwrap_or(0);
    match u64::try_from(ts.tv_sec()) {
        Ok(secs) => UNIX_EPOCH + Duration::new(secs, nanos),
        Err(_) => UNIX_EPOCH,
    }
}

/// An identifier for raw-socket probes: the low bits of the PID mixed with
/// the clock, so two netdx runs on one host rarely collide.
fn random_ident() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mixed = std::process::id().wrapping_mul(0x9e37_79b9) ^ nanos;
    (mixed ^ (mixed >> 16)) as u16
}
