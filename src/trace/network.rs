//! What a walk needs of the network — send probe N with a TTL, read the
//! answers that came back (matched to their probes, with the kernel's
//! receive time), wait with a deadline — and the real network: raw sockets
//! of the target's family. Scenario tests give the walk a scripted network
//! instead (`sim.rs`).
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;
use std::time::{Instant, SystemTime};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::answer::Answer;
use super::probe::{self, Method};
use super::{Request, TraceError};
use crate::net::{self, ProbeSocket, SocketError};
use crate::wire;

/// Bytes read per answer: ICMP errors quote at most 576 bytes (RFC 1812),
/// ICMPv6 errors at most 1280 (RFC 4443), TCP answers to a SYN carry no
/// data; more is never needed.
const ANSWER_BUFFER: usize = 1500;

/// An answer tied to the probe it answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Received {
    /// The probe's id.
    pub id: u16,
    /// Who answered.
    pub from: IpAddr,
    /// When the kernel received it (None: not stamped).
    pub at: Option<SystemTime>,
    /// What it said.
    pub answer: Answer,
}

/// The network as a walk uses it.
pub trait TraceNetwork {
    /// The local address probes leave from.
    fn source(&self) -> IpAddr;
    /// Sends probe `id` with `ttl`.
    fn send(&mut self, ttl: u8, id: u16) -> Result<(), TraceError>;
    /// The next answer to one of our probes already queued, without
    /// waiting (what is not about our probes is read and dropped).
    fn recv(&mut self) -> Result<Option<Received>, TraceError>;
    /// Waits until `deadline` for something to read; `false` when the
    /// deadline passed with nothing.
    fn wait(&mut self, deadline: Instant) -> Result<bool, TraceError>;
}

/// The sockets of a trace, opened before privileges are dropped.
pub struct Sockets {
    icmp: ProbeSocket,
    sender: Option<ProbeSocket>,
    /// Holds our port so no local connection takes it mid-walk.
    _port: Option<Socket>,
    flow: probe::Flow,
    scope_id: u32,
    /// The TTL the sender has now: probes of one hop go out back to back,
    /// so most need no setsockopt.
    ttl: Option<u8>,
}

impl Sockets {
    /// Opens the raw sockets for `request` and drops every capability.
    pub fn open(request: &Request) -> Result<Sockets, TraceError> {
        let sockets = Sockets::open_keeping_privilege(request)?;
        crate::privilege::lock_down()?;
        Ok(sockets)
    }

    /// Opens the raw sockets for `request` and keeps the capabilities: for
    /// a server (the exporter) that opens new sockets for every trace.
    pub fn open_keeping_privilege(request: &Request) -> Result<Sockets, TraceError> {
        let v6 = request.target.is_ipv6();
        let icmp = ProbeSocket::raw_icmp(v6, ANSWER_BUFFER, "trace")?;
        let setup = |what| move |source| TraceError::Setup { what, source };
        let unspecified = if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        let source = match net::source_for(request.target) {
            Ok(address) if address.is_ipv6() == v6 => address,
            Ok(_) => unspecified,
            Err(source) => {
                return Err(SocketError::Send {
                    target: request.target,
                    source,
                }
                .into());
            }
        };
        let (sender, port, source_port) = match request.method {
            Method::Icmp => (None, None, (std::process::id() as u16) | 0x8000),
            Method::Udp | Method::Tcp => {
                let (ty, protocol) = if request.method == Method::Udp {
                    (Type::DGRAM, Protocol::UDP)
                } else {
                    (Type::STREAM, Protocol::TCP)
                };
                let local = SocketAddr::new(source, 0);
                let holder = Socket::new(Domain::for_address(local), ty, Some(protocol))
                    .map_err(setup("socket"))?;
                holder.bind(&SockAddr::from(local)).map_err(setup("bind"))?;
                let port = holder
                    .local_addr()
                    .ok()
                    .and_then(|a| a.as_socket())
                    .map_or(0, |a| a.port());
                let raw = ProbeSocket::raw(v6, protocol, ANSWER_BUFFER, "trace")?;
                (Some(raw), Some(holder), port)
            }
        };
        Ok(Sockets {
            icmp,
            sender,
            _port: port,
            flow: probe::Flow {
                method: request.method,
                source,
                target: request.target,
                source_port,
                port: request.port,
            },
            scope_id: request.scope_id,
            ttl: None,
        })
    }
}

impl TraceNetwork for Sockets {
    fn source(&self) -> IpAddr {
        self.flow.source
    }

    fn send(&mut self, ttl: u8, id: u16) -> Result<(), TraceError> {
        let sender = self.sender.as_ref().unwrap_or(&self.icmp);
        if self.ttl != Some(ttl) {
            sender.set_ttl(ttl)?;
            self.ttl = Some(ttl);
        }
        let bytes = self.flow.build(id);
        let target = self.flow.target;
        sender
            .send_to(&bytes, target, self.scope_id)
            .map_err(|source| SocketError::Send { target, source })?;
        Ok(())
    }

    fn recv(&mut self) -> Result<Option<Received>, TraceError> {
        let (v6, ip_header) = (self.icmp.is_v6(), self.icmp.delivers_ip_header());
        while let Some(packet) = self.icmp.recv().map_err(SocketError::Receive)? {
            if let Ok((_, icmp)) = wire::parse_delivered(packet.bytes, v6, ip_header)
                && let Some((id, answer)) = self.flow.match_icmp(packet.from, &icmp)
            {
                return Ok(Some(Received {
                    id,
                    from: packet.from,
                    at: packet.at,
                    answer,
                }));
            }
        }
        // TCP answers arrive on the raw TCP socket, everything else on ICMP.
        if self.flow.method == Method::Tcp
            && let Some(sender) = self.sender.as_mut()
        {
            while let Some(packet) = sender.recv().map_err(SocketError::Receive)? {
                if let Some(id) = self.flow.match_tcp(packet.from, packet.bytes) {
                    return Ok(Some(Received {
                        id,
                        from: packet.from,
                        at: packet.at,
                        answer: Answer::Reached,
                    }));
                }
            }
        }
        Ok(None)
    }

    fn wait(&mut self, deadline: Instant) -> Result<bool, TraceError> {
        let mut readable = vec![self.icmp.as_fd()];
        if self.flow.method == Method::Tcp
            && let Some(sender) = &self.sender
        {
            readable.push(sender.as_fd());
        }
        Ok(net::wait_readable(&readable, deadline).map_err(SocketError::Poll)?)
    }
}
