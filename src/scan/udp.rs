//! The UDP-scan network: one datagram per port from one unconnected UDP
//! socket per family, with IP_RECVERR. Replies arrive on the socket
//! (→ open, `udp-response`); the ICMP errors our datagrams caused arrive
//! on its error queue, already matched by the kernel, with the
//! destination address and port they are about (port unreachable →
//! closed; the other unreachables → filtered). No raw socket, so no
//! privileges needed.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::network::{Answer, BatchSockets, Received, Sent, send_failed};
use super::payloads::Payloads;
use super::{Reason, ScanError, Target};
use crate::net::{self, ErrorOrigin, SocketError};

/// Receive buffer asked for: the error queue is charged against it, and
/// thousands of ICMP errors may be queued at once.
const RECV_BUFFER: usize = 8 << 20;

/// The UDP sockets of a scan.
pub struct UdpNetwork {
    v4: Option<Socket>,
    v6: Option<Socket>,
    hosts: HashMap<IpAddr, u32>,
    payloads: Payloads,
}

impl UdpNetwork {
    /// Opens a UDP socket per family the targets need, then drops every capability.
    pub fn open(targets: &[Target]) -> Result<Self, ScanError> {
        let want = |v6: bool| targets.iter().any(|t| t.address.is_ipv6() == v6);
        let v4 = if want(false) {
            Some(socket(false)?)
        } else {
            None
        };
        let v6 = if want(true) {
            Some(socket(true)?)
        } else {
            None
        };
        crate::privilege::lock_down()?;
        Ok(UdpNetwork {
            v4,
            v6,
            hosts: targets
                .iter()
                .enumerate()
                .map(|(i, t)| (t.address, i as u32))
                .collect(),
            payloads: Payloads::new(),
        })
    }
}

fn unmapped(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// Errnos that are an ICMP error's echo on the socket, not a failure.
fn answer_errno(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(
            libc::ECONNREFUSED
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EACCES
                | libc::ENOPROTOOPT
                | libc::EPROTO
        )
    )
}

fn socket(v6: bool) -> Result<Socket, ScanError> {
    let setup = |what| move |source| ScanError::Io { what, source };
    let (domain, local) = if v6 {
        (
            Domain::IPV6,
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        )
    } else {
        (
            Domain::IPV4,
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        )
    };
    let socket = Socket::new(
        domain,
        Type::DGRAM.nonblocking().cloexec(),
        Some(Protocol::UDP),
    )
    .map_err(setup("socket"))?;
    if v6 {
        socket.set_only_v6(true).map_err(setup("IPV6_V6ONLY"))?;
        setsockopt(&socket.as_fd(), sockopt::Ipv6RecvErr, &true).map_err(|e| ScanError::Io {
            what: "IPV6_RECVERR",
            source: e.into(),
        })?;
    } else {
        setsockopt(&socket.as_fd(), sockopt::Ipv4RecvErr, &true).map_err(|e| ScanError::Io {
            what: "IP_RECVERR",
            source: e.into(),
        })?;
    }
    // Past rmem_max where CAP_NET_ADMIN allows it; else as much as allowed.
    if setsockopt(&socket.as_fd(), sockopt::RcvBufForce, &RECV_BUFFER).is_err() {
        let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    }
    socket.bind(&SockAddr::from(local)).map_err(setup("bind"))?;
    Ok(socket)
}

impl BatchSockets for UdpNetwork {
    fn send(
        &mut self,
        (host, address, scope_id, port): (u32, IpAddr, u32, u16),
        _: &mut VecDeque<Received>,
    ) -> Result<Sent, ScanError> {
        let socket = if address.is_ipv6() {
            &self.v6
        } else {
            &self.v4
        };
        let Some(socket) = socket else {
            return Ok(Sent::Sent);
        };
        let payload = self.payloads.get(port);
        let to = match address {
            IpAddr::V4(_) => SocketAddr::new(address, port),
            IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope_id)),
        };
        match socket.send_to(payload, &SockAddr::from(to)) {
            Ok(_) => Ok(Sent::Sent),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::EAGAIN)) => {
                Ok(Sent::Busy)
            }
            // A pending ICMP error reported on this send: the datagram did
            // not go; send it again (the queue has the error's details).
            Err(e) if answer_errno(&e) => {
                let _ = host;
                match socket.send_to(payload, &SockAddr::from(to)) {
                    Ok(_) => Ok(Sent::Sent),
                    Err(_) => Ok(Sent::Busy),
                }
            }
            Err(source) => Err(send_failed(address, source)),
        }
    }

    fn read(&mut self, answers: &mut VecDeque<Received>) -> Result<(), ScanError> {
        for socket in [&self.v4, &self.v6].into_iter().flatten() {
            let mut buffer = [MaybeUninit::<u8>::uninit(); 1500];
            loop {
                match socket.recv_from(&mut buffer) {
                    Ok((_, from)) => {
                        if let Some(from) = from.as_socket()
                            && let Some(&host) = self.hosts.get(&unmapped(from.ip()))
                        {
                            answers.push_back(Received {
                                host,
                                port: from.port(),
                                answer: Answer::Reply(Reason::UdpResponse),
                            });
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // An ICMP error also sets the socket's pending error,
                    // reported once by the next read; the queue has the details.
                    Err(e) if answer_errno(&e) => {}
                    Err(source) => return Err(SocketError::Receive(source).into()),
                }
            }
            while let Some((origin, target)) =
                net::read_error_queue(socket.as_fd()).map_err(SocketError::Receive)?
            {
                let Some(target) = target else { continue };
                let Some(&host) = self.hosts.get(&unmapped(target.ip())) else {
                    continue;
                };
                let reason = match origin {
                    ErrorOrigin::Icmp {
                        v6,
                        icmp_type,
                        code,
                        ..
                    } => Reason::from_unreachable(v6, icmp_type, code),
                    ErrorOrigin::Local { errno, .. } if errno == libc::ENETUNREACH => {
                        Some(Reason::NetUnreach)
                    }
                    ErrorOrigin::Local { errno, .. } if errno == libc::EHOSTUNREACH => {
                        Some(Reason::HostUnreach)
                    }
                    ErrorOrigin::Local { .. } => None,
                };
                if let Some(reason) = reason {
                    answers.push_back(Received {
                        host,
                        port: target.port(),
                        answer: Answer::Reply(reason),
                    });
                }
            }
        }
        Ok(())
    }

    fn fds(&self) -> Vec<BorrowedFd<'_>> {
        [&self.v4, &self.v6]
            .into_iter()
            .flatten()
            .map(|socket| socket.as_fd())
            .collect()
    }
}
