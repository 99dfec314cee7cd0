//! Raw sockets for hand-built probes: opened with socket2, options set as
//! socket options, reads bounded by poll() so nothing ever blocks forever
//! (pnet's transport-channel iterator has no timeout; netdx uses pnet only
//! for the packet views).
#![forbid(unsafe_code)]

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant, SystemTime};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use nix::{setsockopt_impl, sockopt_impl};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::echo::probe::poll_timeout;
use crate::ping::socket::{ip_of, system_time};

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

/// Room for the largest IPv4 datagram (65535 bytes).
pub const LARGEST_DATAGRAM: usize = 65_536;

/// One datagram read from a raw socket.
#[derive(Debug)]
pub struct RawPacket<'a> {
    /// The bytes: for IPv4 raw sockets the IP header onwards, for ICMPv6
    /// sockets the ICMPv6 message (the kernel keeps the IPv6 header).
    pub bytes: &'a [u8],
    /// Who sent it.
    pub from: IpAddr,
    /// Hop limit of an IPv6 packet (IPV6_RECVHOPLIMIT).
    pub hop_limit: Option<u8>,
    /// When the kernel received it.
    pub at: SystemTime,
}

/// What `try_recv` learned of one datagram: its length, sender, hop limit
/// and receive time.
struct Arrival {
    len: usize,
    from: IpAddr,
    hop_limit: Option<u8>,
    at: SystemTime,
}

/// A raw socket of one protocol, with a reusable receive buffer.
pub struct RawSocket {
    socket: Socket,
    v6: bool,
    buffer: Vec<u8>,
    cmsg: Vec<u8>,
}

impl RawSocket {
    /// Opens `SOCK_RAW` for `protocol` over IPv4 or IPv6, reading datagrams
    /// of up to `largest` bytes (longer ones are cut short); EPERM means no
    /// CAP_NET_RAW.
    pub fn open(v6: bool, protocol: Protocol, largest: usize) -> io::Result<RawSocket> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket = Socket::new(domain, Type::RAW, Some(protocol))?;
        socket.set_nonblocking(true)?;
        let fd = socket.as_fd();
        setsockopt(&fd, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)?;
        if v6 {
            setsockopt(&fd, sockopt::Ipv6RecvHopLimit, &true).map_err(io::Error::from)?;
        }
        Ok(RawSocket {
            socket,
            v6,
            buffer: vec![0; largest],
            cmsg: nix::cmsg_space!(TimeSpec, libc::c_int),
        })
    }

    /// The socket, for options socket2 sets directly.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Sets the TTL / hop limit of what is sent next.
    pub fn set_ttl(&self, ttl: u8) -> io::Result<()> {
        if self.v6 {
            self.socket.set_unicast_hops_v6(u32::from(ttl))
        } else {
            self.socket.set_ttl_v4(u32::from(ttl))
        }
    }

    /// Sets the TOS byte / traffic class.
    pub fn set_tos(&self, tos: u8) -> io::Result<()> {
        if self.v6 {
            self.socket.set_tclass_v6(u32::from(tos))
        } else {
            self.socket.set_tos_v4(u32::from(tos))
        }
    }

    /// Path-MTU discovery: `true` sets DF and refuses to fragment
    /// (IP_PMTUDISC_DO), `false` lets the packet be fragmented (IP_PMTUDISC_DONT).
    pub fn set_dont_fragment(&self, df: bool) -> io::Result<()> {
        let fd = self.socket.as_fd();
        let result = if self.v6 {
            let mode = if df {
                libc::IPV6_PMTUDISC_DO
            } else {
                libc::IPV6_PMTUDISC_DONT
            };
            setsockopt(&fd, Ipv6MtuDiscover, &mode)
        } else {
            let mode = if df {
                libc::IP_PMTUDISC_DO
            } else {
                libc::IP_PMTUDISC_DONT
            };
            setsockopt(&fd, IpMtuDiscover, &mode)
        };
        result.map_err(io::Error::from)
    }

    /// Sends `bytes` to `to`.
    pub fn send_to(&self, bytes: &[u8], to: IpAddr) -> io::Result<usize> {
        self.socket
            .send_to(bytes, &SockAddr::from(SocketAddr::new(to, 0)))
    }

    /// Waits until `deadline` for a datagram; `None` when none came in time.
    pub fn recv(&mut self, deadline: Instant) -> io::Result<Option<RawPacket<'_>>> {
        loop {
            if let Some(arrival) = self.try_recv()? {
                return Ok(Some(RawPacket {
                    bytes: &self.buffer[..arrival.len],
                    from: arrival.from,
                    hop_limit: arrival.hop_limit,
                    at: arrival.at,
                }));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !wait_readable(&[&self.socket], left)? {
                return Ok(None);
            }
        }
    }

    /// Reads one queued datagram without waiting.
    fn try_recv(&mut self) -> io::Result<Option<Arrival>> {
        let fd = self.socket.as_raw_fd();
        loop {
            let mut iov = [IoSliceMut::new(&mut self.buffer)];
            let message = match recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                Some(&mut self.cmsg),
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(message) => message,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(errno) => return Err(errno.into()),
            };
            let mut hop_limit = None;
            let mut at = None;
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    match cmsg {
                        ControlMessageOwned::ScmTimestampns(ts) => at = Some(system_time(ts)),
                        ControlMessageOwned::Ipv6HopLimit(value) => {
                            hop_limit = u8::try_from(value).ok();
                        }
                        _ => {}
                    }
                }
            }
            let from = message.address.as_ref().and_then(ip_of);
            let len = message.bytes.min(self.buffer.len());
            let Some(from) = from else { continue };
            return Ok(Some(Arrival {
                len,
                from,
                hop_limit,
                at: at.unwrap_or_else(SystemTime::now),
            }));
        }
    }
}

/// Waits up to `timeout` for any of `sockets` to be readable.
pub fn wait_readable(sockets: &[&Socket], timeout: Duration) -> io::Result<bool> {
    let mut fds: Vec<PollFd<'_>> = sockets
        .iter()
        .map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN))
        .collect();
    match nix::poll::poll(&mut fds, poll_timeout(timeout)) {
        Ok(n) => Ok(n > 0),
        Err(Errno::EINTR) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// The local address the kernel would use to reach `target` (a UDP
/// connect, which sends nothing).
pub fn source_for(target: IpAddr) -> io::Result<IpAddr> {
    let domain = if target.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let probe = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    probe.connect(&SockAddr::from(SocketAddr::new(target, 9)))?;
    probe
        .local_addr()?
        .as_socket()
        .map(|a| a.ip())
        .ok_or_else(|| io::Error::other("no local address"))
}
