//! The SYN-scan network: SYNs built here (`wire::emit`) and sent on a raw
//! TCP socket from `crate::net`, answers read from it (SYN-ACK → open,
//! RST → closed) and ICMP errors quoting a SYN from a raw ICMP socket.
//!
//! Every SYN leaves from one fixed source port, held by a bound TCP socket
//! so nothing local takes it; its sequence number is derived from a secret,
//! the host and the port, and an answer must acknowledge exactly that, so
//! stray segments never count. The kernel answers a SYN-ACK with its own
//! RST (no connection exists on our side): the flow is never completed,
//! and that RST is outbound, never read as an answer.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::network::{Answer, BatchSockets, Received, Sent, send_failed};
use super::{Reason, ScanError, Target};
use crate::net::{self, ProbeSocket, SocketError};
use crate::wire::{self, QuotedTransport, emit, ipv4, tcp};

/// Bytes read per answer: an ICMP error quotes at most 1280 bytes.
const ANSWER_BUFFER: usize = 1500;
/// Receive buffers large enough for a burst of thousands of answers.
const RECV_BUFFER: usize = 8 << 20;

struct Family {
    tcp: ProbeSocket,
    icmp: ProbeSocket,
    source_port: u16,
    _holder: Socket,
}

/// Raw sockets of each family the targets need.
pub struct SynNetwork {
    v4: Option<Family>,
    v6: Option<Family>,
    /// Each host's address and the local address its probes leave from.
    sources: Vec<(IpAddr, IpAddr)>,
    hosts: HashMap<IpAddr, u32>,
    secret: u32,
}

impl SynNetwork {
    /// Opens the raw sockets for `targets` and drops every capability.
    pub fn open(targets: &[Target]) -> Result<Self, ScanError> {
        let mut sources = Vec::with_capacity(targets.len());
        for target in targets {
            let source = net::source_for(target.address).map_err(|source| SocketError::Send {
                target: target.address,
                source,
            })?;
            sources.push((target.address, source));
        }
        let want = |v6: bool| targets.iter().any(|t| t.address.is_ipv6() == v6);
        let v4 = if want(false) {
            Some(family(false)?)
        } else {
            None
        };
        let v6 = if want(true) {
            Some(family(true)?)
        } else {
            None
        };
        crate::privilege::lock_down()?;
        let hosts = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.address, i as u32))
            .collect();
        Ok(SynNetwork {
            v4,
            v6,
            sources,
            hosts,
            secret: secret(),
        })
    }

    fn seq(&self, host: u32, port: u16) -> u32 {
        let mixed = (u32::from(port) << 16 | (host & 0xffff)).wrapping_mul(0x9e37_79b1);
        mixed ^ self.secret
    }

    fn family(&self, v6: bool) -> Option<&Family> {
        if v6 {
            self.v6.as_ref()
        } else {
            self.v4.as_ref()
        }
    }

    /// A TCP segment from the raw socket: an answer if it acknowledges one of our SYNs.
    fn tcp_answer(
        &self,
        from: IpAddr,
        bytes: &[u8],
        v6: bool,
        source_port: u16,
    ) -> Option<Received> {
        let (from, segment) = if v6 {
            (from, bytes)
        } else {
            let (header, payload) = ipv4::parse(bytes).ok()?;
            if header.protocol != ipv4::PROTO_TCP {
                return None;
            }
            (IpAddr::V4(header.source), payload)
        };
        let header = tcp::parse(segment).ok()?;
        let host = *self.hosts.get(&from)?;
        if header.destination_port != source_port
            || header.ack.wrapping_sub(1) != self.seq(host, header.source_port)
        {
            return None;
        }
        let reason = if header.has(tcp::RST) {
            Reason::Reset
        } else if header.has(tcp::SYN | tcp::ACK_FLAG) {
            Reason::SynAck
        } else {
            return None;
        };
        Some(Received {
            host,
            port: header.source_port,
            answer: Answer::Reply(reason),
        })
    }

    /// An ICMP error quoting one of our SYNs.
    fn icmp_answer(
        &self,
        bytes: &[u8],
        v6: bool,
        ip_header: bool,
        source_port: u16,
    ) -> Option<Received> {
        let (_, icmp) = wire::parse_delivered(bytes, v6, ip_header).ok()?;
        if icmp.checksum_ok == Some(false) {
            return None;
        }
        let reason = Reason::from_unreachable(v6, icmp.kind, icmp.code)?;
        let quoted = icmp.quoted()?;
        let host = *self.hosts.get(&quoted.destination)?;
        match quoted.transport {
            QuotedTransport::Tcp {
                source_port: sport,
                destination_port,
                seq,
            } if sport == source_port && seq == self.seq(host, destination_port) => {
                Some(Received {
                    host,
                    port: destination_port,
                    answer: Answer::Reply(reason),
                })
            }
            _ => None,
        }
    }
}

fn family(v6: bool) -> Result<Family, ScanError> {
    let tcp = ProbeSocket::raw(v6, Protocol::TCP, ANSWER_BUFFER, "scan --syn")?;
    let icmp = ProbeSocket::raw_icmp(v6, ANSWER_BUFFER, "scan --syn")?;
    tcp.request_recv_buffer(RECV_BUFFER);
    icmp.request_recv_buffer(RECV_BUFFER);
    let unspecified = if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let local = SocketAddr::new(unspecified, 0);
    let setup = |what| move |source| ScanError::Io { what, source };
    let holder = Socket::new(
        Domain::for_address(local),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(setup("socket"))?;
    holder.bind(&SockAddr::from(local)).map_err(setup("bind"))?;
    let source_port = holder
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map_or(0, |a| a.port());
    Ok(Family {
        tcp,
        icmp,
        source_port,
        _holder: holder,
    })
}

/// A per-run secret for sequence numbers, from the clock and the pid.
fn secret() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

impl BatchSockets for SynNetwork {
    fn send(
        &mut self,
        (host, address, scope_id, port): (u32, IpAddr, u32, u16),
        answers: &mut VecDeque<Received>,
    ) -> Result<Sent, ScanError> {
        let seq = self.seq(host, port);
        let Some(&(_, source)) = self.sources.get(host as usize) else {
            return Ok(Sent::Sent);
        };
        let Some(family) = self.family(address.is_ipv6()) else {
            return Ok(Sent::Sent);
        };
        let bytes = match (source, address) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                emit::tcp_syn((s, family.source_port), (d, port), seq)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                emit::tcp_syn_v6((s, family.source_port), (d, port), seq)
            }
            _ => return Ok(Sent::Sent),
        };
        match family.tcp.send_to(&bytes, address, scope_id) {
            Ok(_) => Ok(Sent::Sent),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::EAGAIN)) => {
                Ok(Sent::Busy)
            }
            // No route, neighbour failed: the host is unreachable from here.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EHOSTUNREACH | libc::ENETUNREACH)
                ) =>
            {
                let reason = if e.raw_os_error() == Some(libc::ENETUNREACH) {
                    Reason::NetUnreach
                } else {
                    Reason::HostUnreach
                };
                answers.push_back(Received {
                    host,
                    port,
                    answer: Answer::Reply(reason),
                });
                Ok(Sent::Sent)
            }
            Err(source) => Err(send_failed(address, source)),
        }
    }

    fn read(&mut self, answers: &mut VecDeque<Received>) -> Result<(), ScanError> {
        for v6 in [false, true] {
            let Some(mut family) = (if v6 { self.v6.take() } else { self.v4.take() }) else {
                continue;
            };
            let port = family.source_port;
            let result = (|| -> Result<(), ScanError> {
                while let Some(packet) = family.tcp.recv().map_err(SocketError::Receive)? {
                    if let Some(received) = self.tcp_answer(packet.from, packet.bytes, v6, port) {
                        answers.push_back(received);
                    }
                }
                let ip_header = family.icmp.delivers_ip_header();
                while let Some(packet) = family.icmp.recv().map_err(SocketError::Receive)? {
                    if let Some(received) = self.icmp_answer(packet.bytes, v6, ip_header, port) {
                        answers.push_back(received);
                    }
                }
                Ok(())
            })();
            if v6 {
                self.v6 = Some(family);
            } else {
                self.v4 = Some(family);
            }
            result?;
        }
        Ok(())
    }

    fn fds(&self) -> Vec<BorrowedFd<'_>> {
        [&self.v4, &self.v6]
            .into_iter()
            .flatten()
            .flat_map(|family| [family.tcp.as_fd(), family.icmp.as_fd()])
            .collect()
    }
}
