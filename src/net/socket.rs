//! `ProbeSocket`: an ICMP datagram or raw socket with a reusable receive
//! buffer, the options probes need, and one receive path.
//!
//! * `SO_TIMESTAMPNS` on every socket: replies carry the kernel's receive
//!   time, so RTTs do not include the time this process took to wake up;
//! * `IP_RECVTTL` / `IPV6_RECVHOPLIMIT` where the packet's own header is not
//!   delivered; `IP_RECVERR` / `IPV6_RECVERR` for ICMP errors the kernel
//!   matched to our own datagrams (the error queue);
//! * reads never block: EINTR is retried, EAGAIN is "nothing queued".
#![forbid(unsafe_code)]

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Instant, SystemTime};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use nix::{setsockopt_impl, sockopt_impl};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{SocketError, ip_of, system_time, wait_readable};

sockopt_impl!(
    /// IP_MTU_DISCOVER: socket2 has no accessor for it.
    IpMtuDiscover,
    SetOnly,
    libc::IPPROTO_IP,
    libc::IP_MTU_DISCOVER,
    i32
);
sockopt_impl!(
    /// IPV6_MTU_DISCOVER: socket2 has no accessor for it.
    Ipv6MtuDiscover,
    SetOnly,
    libc::IPPROTO_IPV6,
    libc::IPV6_MTU_DISCOVER,
    i32
);

sockopt_impl!(
    /// SO_MAX_PACING_RATE: neither socket2 nor nix sets it. The kernel
    /// takes a u64 where the length allows (since 4.20; older ones read the
    /// low 32 bits).
    MaxPacingRate,
    SetOnly,
    libc::SOL_SOCKET,
    libc::SO_MAX_PACING_RATE,
    u64
);

/// Caps a socket's pacing at `bytes_per_second` (TCP paces itself to it,
/// with or without the fq qdisc).
pub fn set_max_pacing_rate(socket: &impl AsFd, bytes_per_second: u64) -> io::Result<()> {
    setsockopt(socket, MaxPacingRate, &bytes_per_second).map_err(io::Error::from)
}

/// A file in memory holding `bytes`: the source of a sender that hands the
/// kernel page-cache pages with sendfile(2) instead of copying a buffer in
/// on every write (iperf3's `-Z`).
pub fn memory_file(name: &str, bytes: &[u8]) -> io::Result<std::fs::File> {
    use std::io::Write;
    let fd = nix::sys::memfd::memfd_create(name, nix::sys::memfd::MFdFlags::MFD_CLOEXEC)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    Ok(file)
}

/// Sends up to `length` bytes of `file`, from its start, on `socket` with
/// sendfile(2): the socket's send timeout applies as to a write.
pub fn send_file(socket: &impl AsFd, file: &impl AsFd, length: usize) -> io::Result<usize> {
    let mut offset = 0;
    nix::sys::sendfile::sendfile(socket, file, Some(&mut offset), length).map_err(io::Error::from)
}

/// Which kind of ICMP socket: raw IPv4 sockets deliver the IP header too,
/// datagram sockets and IPv6 sockets start at the ICMP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `SOCK_DGRAM` "ping socket" (unprivileged, kernel-assigned identifier).
    Datagram,
    /// `SOCK_RAW` (CAP_NET_RAW).
    Raw,
}

impl SocketKind {
    /// Whether a socket of this kind delivers the IPv4 header in front of
    /// the message (raw IPv4 sockets do; datagram and IPv6 sockets do not).
    pub fn delivers_ip_header(self, v6: bool) -> bool {
        self == SocketKind::Raw && !v6
    }
}

/// One datagram read from a socket.
#[derive(Debug)]
pub struct Datagram<'a> {
    /// The bytes: for IPv4 raw sockets the IP header onwards, otherwise the
    /// transport message (the kernel keeps the IPv6 header).
    pub bytes: &'a [u8],
    /// Who sent it.
    pub from: IpAddr,
    /// TTL / hop limit from ancillary data, when the kernel sent it.
    pub ttl: Option<u8>,
    /// When the kernel received it.
    pub at: Option<SystemTime>,
    /// The datagram was longer than the receive buffer and was cut short.
    pub truncated: bool,
}

/// Where an error-queue entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorOrigin {
    /// An ICMP error message from a router or the target.
    Icmp {
        /// Its sender.
        from: Option<IpAddr>,
        /// ICMPv6 (else ICMPv4) numbering.
        v6: bool,
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Next-hop MTU or parameter-problem pointer.
        info: u32,
    },
    /// The local stack refused the datagram (no route, neighbour failed).
    Local {
        /// The errno.
        errno: i32,
        /// Extra information (the MTU for EMSGSIZE).
        info: u32,
    },
}

/// An entry of the socket's error queue: what happened to one of our datagrams.
#[derive(Debug)]
pub struct QueuedError<'a> {
    /// What happened.
    pub origin: ErrorOrigin,
    /// The destination of the datagram it is about.
    pub target: Option<IpAddr>,
    /// The start of that datagram, as we sent it (from its transport header).
    pub quoted: &'a [u8],
}

/// Reads one entry of `fd`'s error queue without waiting (IP_RECVERR /
/// IPV6_RECVERR set): where it came from, and the destination (address and
/// port) of the datagram or connection it is about. For sockets that are
/// not [`ProbeSocket`]s: a connecting TCP socket, a UDP scan socket.
pub fn read_error_queue(
    fd: BorrowedFd<'_>,
) -> io::Result<Option<(ErrorOrigin, Option<SocketAddr>)>> {
    let mut buffer = [0u8; 64];
    let mut cmsg = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
    loop {
        let mut iov = [IoSliceMut::new(&mut buffer)];
        let message = match recvmsg::<SockaddrStorage>(
            fd.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(message) => message,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(errno) => return Err(errno.into()),
        };
        let target = message.address.as_ref().and_then(super::socket_addr_of);
        let origin = message
            .cmsgs()
            .ok()
            .and_then(|mut cmsgs| cmsgs.find_map(error_origin));
        if let Some(origin) = origin {
            return Ok(Some((origin, target)));
        }
    }
}

/// A socket2 setter of an integer option.
type SetU32 = fn(&Socket, u32) -> io::Result<()>;

/// What one read learned, before the bytes are lent out.
struct Arrival {
    len: usize,
    /// The sender of a datagram; the destination an error-queue entry is about.
    address: Option<IpAddr>,
    ttl: Option<u8>,
    at: Option<SystemTime>,
    truncated: bool,
    origin: Option<ErrorOrigin>,
}

/// A probe socket of one family and protocol.
pub struct ProbeSocket {
    socket: Socket,
    kind: SocketKind,
    v6: bool,
    buffer: Vec<u8>,
    cmsg: Vec<u8>,
}

impl ProbeSocket {
    /// An ICMP (v4 or v6) socket: an unprivileged datagram socket where
    /// `net.ipv4.ping_group_range` allows it, a raw socket otherwise.
    pub fn icmp(v6: bool, largest: usize) -> Result<ProbeSocket, SocketError> {
        let (domain, protocol) = family(v6, Protocol::ICMPV4, Protocol::ICMPV6);
        match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(socket) => Self::configure(socket, SocketKind::Datagram, v6, largest),
            Err(datagram) => match Socket::new(domain, Type::RAW, Some(protocol)) {
                Ok(socket) => Self::configure(socket, SocketKind::Raw, v6, largest),
                Err(raw) => Err(SocketError::NoIcmpSocket {
                    family: super::family_name(v6),
                    datagram,
                    raw,
                }),
            },
        }
    }

    /// A raw ICMP (v4) or ICMPv6 socket (CAP_NET_RAW), for commands that
    /// build their own messages; `command` names the netdx command in the
    /// error that says so.
    pub fn raw_icmp(
        v6: bool,
        largest: usize,
        command: &'static str,
    ) -> Result<ProbeSocket, SocketError> {
        let (_, protocol) = family(v6, Protocol::ICMPV4, Protocol::ICMPV6);
        Self::raw(v6, protocol, largest, command)
    }

    /// A raw socket for `protocol` (CAP_NET_RAW); `command` names the netdx
    /// command in the error that says so.
    pub fn raw(
        v6: bool,
        protocol: Protocol,
        largest: usize,
        command: &'static str,
    ) -> Result<ProbeSocket, SocketError> {
        let (domain, _) = family(v6, protocol, protocol);
        match Socket::new(domain, Type::RAW, Some(protocol)) {
            Ok(socket) => Self::configure(socket, SocketKind::Raw, v6, largest),
            Err(source) => Err(SocketError::NeedRaw {
                family: protocol_name(v6, protocol),
                command,
                source,
            }),
        }
    }

    fn configure(
        socket: Socket,
        kind: SocketKind,
        v6: bool,
        largest: usize,
    ) -> Result<ProbeSocket, SocketError> {
        socket.set_nonblocking(true).map_err(option("O_NONBLOCK"))?;
        setsockopt(&socket.as_fd(), sockopt::ReceiveTimestampns, &true)
            .map_err(nix_option("SO_TIMESTAMPNS"))?;
        if v6 {
            // The kernel keeps the IPv6 header: the hop limit comes as ancillary data.
            setsockopt(&socket.as_fd(), sockopt::Ipv6RecvHopLimit, &true)
                .map_err(nix_option("IPV6_RECVHOPLIMIT"))?;
        } else if kind == SocketKind::Datagram {
            // Raw IPv4 sockets read the TTL from the header they deliver.
            setsockopt(&socket.as_fd(), sockopt::Ipv4RecvTtl, &true)
                .map_err(nix_option("IP_RECVTTL"))?;
        }
        Ok(ProbeSocket {
            socket,
            kind,
            v6,
            buffer: vec![0; largest.max(1)],
            cmsg: nix::cmsg_space!(
                libc::sock_extended_err,
                libc::sockaddr_in6,
                TimeSpec,
                libc::c_int,
                libc::c_int
            ),
        })
    }

    /// Datagram or raw.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// On a raw ICMP socket, has the kernel drop echo replies whose
    /// identifier is not `ident` before they are queued, as iputils ping's
    /// filter does: a raw socket is handed every ICMP packet the host
    /// receives, so without it each of N probes running at once wakes for
    /// every one of the others' replies. Errors (unreachable, time
    /// exceeded) and every other type still pass.
    pub fn keep_only_echo_replies_for(&self, ident: u16) -> Result<(), SocketError> {
        if self.kind != SocketKind::Raw {
            return Ok(());
        }
        const LD: u16 = 0x00;
        const LDX: u16 = 0x01;
        const JMP: u16 = 0x05;
        const RET: u16 = 0x06;
        const B: u16 = 0x10;
        const H: u16 = 0x08;
        const ABS: u16 = 0x20;
        const IND: u16 = 0x40;
        const MSH: u16 = 0xa0;
        const JEQ: u16 = 0x10;
        const PASS: u32 = u32::MAX;
        use socket2::SockFilter as F;
        let ident = u32::from(ident);
        let program: Vec<F> = if self.v6 {
            // An ICMPv6 raw socket delivers the message without the IPv6 header.
            vec![
                F::new(LD | H | ABS, 0, 0, 4),
                F::new(JMP | JEQ, 0, 1, ident),
                F::new(RET, 0, 0, PASS),
                F::new(LD | B | ABS, 0, 0, 0),
                F::new(JMP | JEQ, 1, 0, 129),
                F::new(RET, 0, 0, PASS),
                F::new(RET, 0, 0, 0),
            ]
        } else {
            // X = the IPv4 header's length, from its first byte.
            vec![
                F::new(LDX | B | MSH, 0, 0, 0),
                F::new(LD | H | IND, 0, 0, 4),
                F::new(JMP | JEQ, 0, 1, ident),
                F::new(RET, 0, 0, PASS),
                F::new(LD | B | IND, 0, 0, 0),
                F::new(JMP | JEQ, 1, 0, 0),
                F::new(RET, 0, 0, PASS),
                F::new(RET, 0, 0, 0),
            ]
        };
        self.socket
            .attach_filter(&program)
            .map_err(option("SO_ATTACH_FILTER"))
    }

    /// IPv6 rather than IPv4.
    pub fn is_v6(&self) -> bool {
        self.v6
    }

    /// Whether what this socket delivers starts with an IPv4 header.
    pub fn delivers_ip_header(&self) -> bool {
        self.kind.delivers_ip_header(self.v6)
    }

    /// The socket, for options set directly with socket2.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Sets the TTL / hop limit of what is sent next.
    pub fn set_ttl(&self, ttl: u8) -> Result<(), SocketError> {
        self.per_family(
            u32::from(ttl),
            ("IP_TTL", Socket::set_ttl_v4),
            ("IPV6_UNICAST_HOPS", Socket::set_unicast_hops_v6),
        )
    }

    /// Sets the TOS byte / traffic class.
    pub fn set_tos(&self, tos: u8) -> Result<(), SocketError> {
        self.per_family(
            u32::from(tos),
            ("IP_TOS", Socket::set_tos_v4),
            ("IPV6_TCLASS", Socket::set_tclass_v6),
        )
    }

    /// Sets an integer option through socket2, the IPv4 or the IPv6 one.
    fn per_family(
        &self,
        value: u32,
        v4: (&'static str, SetU32),
        v6: (&'static str, SetU32),
    ) -> Result<(), SocketError> {
        let (name, set) = if self.v6 { v6 } else { v4 };
        set(&self.socket, value).map_err(option(name))
    }

    /// Path-MTU discovery: `true` sets DF and refuses to fragment
    /// (IP_PMTUDISC_DO), `false` lets the packet be fragmented (IP_PMTUDISC_DONT).
    pub fn set_dont_fragment(&self, df: bool) -> Result<(), SocketError> {
        let fd = self.socket.as_fd();
        if self.v6 {
            let mode = if df {
                libc::IPV6_PMTUDISC_DO
            } else {
                libc::IPV6_PMTUDISC_DONT
            };
            setsockopt(&fd, Ipv6MtuDiscover, &mode).map_err(nix_option("IPV6_MTU_DISCOVER"))
        } else {
            let mode = if df {
                libc::IP_PMTUDISC_DO
            } else {
                libc::IP_PMTUDISC_DONT
            };
            setsockopt(&fd, IpMtuDiscover, &mode).map_err(nix_option("IP_MTU_DISCOVER"))
        }
    }

    /// Queues ICMP errors about our datagrams on the error queue (IP_RECVERR).
    pub fn set_recv_errors(&self) -> Result<(), SocketError> {
        let fd = self.socket.as_fd();
        if self.v6 {
            setsockopt(&fd, sockopt::Ipv6RecvErr, &true).map_err(nix_option("IPV6_RECVERR"))
        } else {
            setsockopt(&fd, sockopt::Ipv4RecvErr, &true).map_err(nix_option("IP_RECVERR"))
        }
    }

    /// The process writes the IPv4 header itself (IP_HDRINCL).
    pub fn set_header_included(&self) -> Result<(), SocketError> {
        self.socket
            .set_header_included_v4(true)
            .map_err(option("IP_HDRINCL"))
    }

    /// Asks for a receive buffer of `bytes` (best effort: the kernel caps it
    /// at net.core.rmem_max).
    pub fn request_recv_buffer(&self, bytes: usize) {
        let _ = self.socket.set_recv_buffer_size(bytes);
    }

    /// Sends from `address` (it must be one of this host's).
    pub fn bind_source(&self, address: IpAddr) -> Result<(), SocketError> {
        self.socket
            .bind(&SockAddr::from(SocketAddr::new(address, 0)))
            .map_err(|source| SocketError::Bind { address, source })
    }

    /// Sends through interface `name` only (SO_BINDTODEVICE).
    pub fn bind_device(&self, name: &str) -> Result<(), SocketError> {
        self.socket
            .bind_device(Some(name.as_bytes()))
            .map_err(|source| SocketError::Device {
                name: name.to_string(),
                source,
            })
    }

    /// Ties the socket to one peer: the kernel then delivers to it only
    /// what comes from `peer`. For a raw socket that is the difference
    /// between one copy of an incoming ICMP packet and one per raw socket
    /// open on the host: raw_v4_input and raw_v6_input compare a connected
    /// socket's peer before they clone the packet and run its filter.
    pub fn connect_peer(&self, peer: IpAddr, scope_id: u32) -> Result<(), SocketError> {
        let address = match peer {
            IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), 0),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope_id)),
        };
        self.socket
            .connect(&SockAddr::from(address))
            .map_err(|source| SocketError::Connect { peer, source })
    }

    /// Sends `bytes` to `to` (`scope_id` for link-local IPv6 addresses).
    pub fn send_to(&self, bytes: &[u8], to: IpAddr, scope_id: u32) -> io::Result<usize> {
        let address = match to {
            IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), 0),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, 0, 0, scope_id)),
        };
        self.socket.send_to(bytes, &SockAddr::from(address))
    }

    /// Reads one queued datagram without waiting; `None` when nothing is queued.
    pub fn recv(&mut self) -> io::Result<Option<Datagram<'_>>> {
        Ok(self.read_datagram()?.map(|arrival| self.datagram(arrival)))
    }

    /// Waits until `deadline` for a datagram; `None` when none came in time.
    pub fn recv_until(&mut self, deadline: Instant) -> io::Result<Option<Datagram<'_>>> {
        loop {
            if let Some(arrival) = self.read_datagram()? {
                return Ok(Some(self.datagram(arrival)));
            }
            if !wait_readable(&[self.socket.as_fd()], deadline)? {
                return Ok(None);
            }
        }
    }

    /// Reads one entry of the error queue without waiting.
    pub fn recv_error(&mut self) -> io::Result<Option<QueuedError<'_>>> {
        loop {
            let Some(arrival) = self.read(MsgFlags::MSG_ERRQUEUE)? else {
                return Ok(None);
            };
            // Only extended errors are queued there; skip anything else.
            if let Some(origin) = arrival.origin {
                return Ok(Some(QueuedError {
                    origin,
                    target: arrival.address,
                    quoted: &self.buffer[..arrival.len.min(self.buffer.len())],
                }));
            }
        }
    }

    /// The next datagram with a sender (nothing can be matched to one without).
    fn read_datagram(&mut self) -> io::Result<Option<Arrival>> {
        loop {
            match self.read(MsgFlags::empty())? {
                Some(arrival) if arrival.address.is_none() => continue,
                other => return Ok(other),
            }
        }
    }

    fn datagram(&self, arrival: Arrival) -> Datagram<'_> {
        Datagram {
            bytes: &self.buffer[..arrival.len.min(self.buffer.len())],
            from: arrival.address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            ttl: arrival.ttl,
            at: arrival.at,
            truncated: arrival.truncated,
        }
    }

    /// The one receive loop, for datagrams and the error queue alike: never
    /// blocks, retries EINTR, and reads EAGAIN as "nothing queued".
    fn read(&mut self, flags: MsgFlags) -> io::Result<Option<Arrival>> {
        let fd = self.socket.as_raw_fd();
        loop {
            let mut iov = [IoSliceMut::new(&mut self.buffer)];
            let message = match recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                Some(&mut self.cmsg),
                flags | MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(message) => message,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(errno) => return Err(errno.into()),
            };
            let mut arrival = Arrival {
                len: message.bytes,
                address: message.address.as_ref().and_then(ip_of),
                ttl: None,
                at: None,
                truncated: message.flags.contains(MsgFlags::MSG_TRUNC),
                origin: None,
            };
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    match cmsg {
                        ControlMessageOwned::ScmTimestampns(ts) => {
                            arrival.at = Some(system_time(ts));
                        }
                        ControlMessageOwned::Ipv4Ttl(value)
                        | ControlMessageOwned::Ipv6HopLimit(value) => {
                            arrival.ttl = u8::try_from(value).ok();
                        }
                        other => arrival.origin = error_origin(other).or(arrival.origin),
                    }
                }
            }
            return Ok(Some(arrival));
        }
    }
}

impl AsFd for ProbeSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

fn family(v6: bool, v4_protocol: Protocol, v6_protocol: Protocol) -> (Domain, Protocol) {
    if v6 {
        (Domain::IPV6, v6_protocol)
    } else {
        (Domain::IPV4, v4_protocol)
    }
}

fn protocol_name(v6: bool, protocol: Protocol) -> &'static str {
    match (v6, i32::from(protocol)) {
        (false, libc::IPPROTO_ICMP) => "ICMP",
        (true, libc::IPPROTO_ICMPV6) => "ICMPv6",
        (_, libc::IPPROTO_UDP) => "UDP",
        (_, libc::IPPROTO_TCP) => "TCP",
        _ => "IP",
    }
}

fn option(option: &'static str) -> impl Fn(io::Error) -> SocketError {
    move |source| SocketError::Option { option, source }
}

fn nix_option(option: &'static str) -> impl Fn(Errno) -> SocketError {
    move |errno| SocketError::Option {
        option,
        source: errno.into(),
    }
}

/// The origin of an IP_RECVERR / IPV6_RECVERR control message.
fn error_origin(cmsg: ControlMessageOwned) -> Option<ErrorOrigin> {
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
        libc::SO_EE_ORIGIN_ICMP | libc::SO_EE_ORIGIN_ICMP6 => ErrorOrigin::Icmp {
            from: offender,
            v6,
            icmp_type: ee.ee_type,
            code: ee.ee_code,
            info: ee.ee_info,
        },
        _ => ErrorOrigin::Local {
            errno: i32::try_from(ee.ee_errno).unwrap_or(i32::MAX),
            info: ee.ee_info,
        },
    })
}
