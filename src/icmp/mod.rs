//! `netdx icmp`: one ICMP message built field by field, sent on a raw
//! socket, and every matching answer decoded layer by layer.
//!
//! The domain returns plain data through an observer (each probe and each
//! answer as it happens); it never prints.
#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::Serialize;

use crate::net::{self, LARGEST_DATAGRAM, ProbeSocket, SocketError};
use crate::wire::icmp::{v4, v6};
use crate::wire::ipv4::PROTO_ICMP;
use crate::wire::{self, IcmpMessage, Ipv4Header, QuotedTransport, emit};

/// What to put in the type field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Echo request (8, or 128 for ICMPv6).
    Echo,
    /// Timestamp request (13; IPv4 only).
    Timestamp,
    /// Any type number, sent with an identifier/sequence header.
    Number(u8),
}

/// One `netdx icmp` run.
#[derive(Debug, Clone)]
pub struct Request {
    /// Where to send.
    pub target: IpAddr,
    /// The message type.
    pub message: MessageType,
    /// The code field.
    pub code: u8,
    /// Identifier.
    pub ident: u16,
    /// First sequence number (each further probe adds one).
    pub seq: u16,
    /// TTL / hop limit.
    pub ttl: Option<u8>,
    /// TOS byte / traffic class.
    pub tos: Option<u8>,
    /// Set DF (IP_PMTUDISC_DO) instead of allowing fragmentation.
    pub dont_fragment: bool,
    /// The data after the ICMP header.
    pub payload: Vec<u8>,
    /// How many probes.
    pub count: u32,
    /// Between probes.
    pub interval: Duration,
    /// How long to wait for each probe's answer.
    pub timeout: Duration,
    /// Send a wrong checksum on purpose.
    pub bad_checksum: bool,
    /// Build the IPv4 header too (IP_HDRINCL).
    pub hdrincl: bool,
}

/// Why a run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum IcmpError {
    /// Opening, setting up or using the raw socket failed.
    #[error(transparent)]
    Socket(#[from] SocketError),
    /// A combination the protocol cannot carry.
    #[error("{0}")]
    Unsupported(String),
    /// Dropping capabilities failed.
    #[error("{0}")]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// The observer (the terminal) failed.
    #[error("writing output: {0}")]
    Output(io::Error),
}

/// A probe as it left.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sent {
    /// Probe number, from 1.
    pub probe: u32,
    /// Where it went.
    pub target: IpAddr,
    /// The IPv4 header netdx built (with `--hdrincl`); otherwise the kernel writes it.
    pub ip: Option<Ipv4Header>,
    /// The ICMP message as built (decoded back from the bytes sent).
    pub icmp: IcmpMessage,
    /// Bytes handed to the kernel.
    pub bytes: usize,
}

/// How an answer was tied to a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The reply carries the probe's identifier and sequence.
    IdentifierAndSequence,
    /// An ICMP error quotes the probe.
    QuotedOriginal,
}

/// An answer that matched a probe.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Answer {
    /// Probe number it answers.
    pub probe: u32,
    /// Who sent it.
    pub from: IpAddr,
    /// Round-trip time, milliseconds.
    pub rtt_ms: f64,
    /// Its IPv4 header (raw IPv4 sockets deliver it; ICMPv6 sockets do not).
    pub ip: Option<Ipv4Header>,
    /// Hop limit of an IPv6 answer.
    pub hop_limit: Option<u8>,
    /// The ICMP message.
    pub icmp: IcmpMessage,
    /// How it was matched.
    pub matched_by: MatchedBy,
}

/// What happened, in order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A probe left.
    Sent(Sent),
    /// A matching answer arrived.
    Answer(Answer),
    /// Nothing matched within the timeout.
    NoAnswer {
        /// The probe.
        probe: u32,
        /// How long netdx waited, milliseconds.
        waited_ms: f64,
    },
}

/// Totals of a run.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Summary {
    /// Probes sent.
    pub sent: u32,
    /// Probes that got a matching answer (reply or error).
    pub answered: u32,
    /// Answers that were ICMP errors.
    pub errors: u32,
    /// Packets seen that were not for us, or unreadable.
    pub ignored: u32,
}

/// The reply type a request type expects.
fn reply_type(v6: bool, sent: u8) -> Option<u8> {
    if v6 {
        return (sent == v6::ECHO_REQUEST).then_some(v6::ECHO_REPLY);
    }
    match sent {
        v4::ECHO_REQUEST => Some(v4::ECHO_REPLY),
        v4::TIMESTAMP => Some(v4::TIMESTAMP_REPLY),
        // Information and address mask replies follow their requests.
        v4::INFO_REQUEST | v4::ADDRESS_MASK_REQUEST => Some(sent + 1),
        _ => None,
    }
}

/// Milliseconds since midnight UT, the unit of ICMP timestamps.
pub fn ms_since_midnight(at: SystemTime) -> u32 {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    u32::try_from(ms % 86_400_000).unwrap_or(0)
}

struct Probe {
    v6: bool,
    kind: u8,
}

impl Request {
    fn v6(&self) -> bool {
        self.target.is_ipv6()
    }

    fn check(&self) -> Result<Probe, IcmpError> {
        let v6 = self.v6();
        let kind = match (self.message, v6) {
            (MessageType::Echo, _) => wire::icmp::echo_request(v6),
            (MessageType::Timestamp, false) => v4::TIMESTAMP,
            (MessageType::Timestamp, true) => {
                return Err(IcmpError::Unsupported(
                    "ICMPv6 has no timestamp message; use --type echo or an IPv4 target".into(),
                ));
            }
            (MessageType::Number(n), _) => n,
        };
        let limit = if v6 {
            wire::icmp::MAX_PAYLOAD_V6
        } else {
            wire::icmp::MAX_PAYLOAD_V4
        };
        if self.payload.len() > limit {
            return Err(IcmpError::Unsupported(format!(
                "{} data bytes do not fit one {} datagram: at most {limit}",
                self.payload.len(),
                net::family_name(v6)
            )));
        }
        if v6 && self.bad_checksum {
            return Err(IcmpError::Unsupported(
                "--bad-checksum works over IPv4 only: the kernel always computes ICMPv6 checksums (RFC 3542)".into(),
            ));
        }
        if v6 && self.hdrincl {
            return Err(IcmpError::Unsupported(
                "--hdrincl builds an IPv4 header; IPv6 raw sockets have no IP_HDRINCL".into(),
            ));
        }
        Ok(Probe { v6, kind })
    }

    /// The ICMP message of probe `n` (0-based), sent at `at`.
    fn message(&self, probe: &Probe, n: u32, at: SystemTime) -> Vec<u8> {
        let seq = self.seq.wrapping_add(n as u16);
        let rest = emit::ident_seq(self.ident, seq);
        if probe.v6 {
            return emit::icmp_v6(probe.kind, self.code, rest, &self.payload);
        }
        let data = if probe.kind == v4::TIMESTAMP {
            let mut times = Vec::with_capacity(12);
            times.extend_from_slice(&ms_since_midnight(at).to_be_bytes());
            times.extend_from_slice(&[0; 8]);
            times
        } else {
            self.payload.clone()
        };
        emit::icmp_v4(probe.kind, self.code, rest, &data, self.bad_checksum)
    }
}

/// A raw socket opened and configured for one request, with every
/// capability already dropped.
pub struct Session {
    socket: ProbeSocket,
    probe: Probe,
    /// With `--hdrincl`: the source address written into the IPv4 header.
    source_address: Option<Ipv4Addr>,
}

/// Checks `request`, opens and configures the socket, drops privileges.
pub fn open(request: &Request) -> Result<Session, IcmpError> {
    let probe = request.check()?;
    let socket = ProbeSocket::raw_icmp(probe.v6, LARGEST_DATAGRAM, "icmp")?;
    let source_address = if request.hdrincl {
        socket.set_header_included()?;
        match net::source_for(request.target) {
            Ok(IpAddr::V4(address)) => Some(address),
            _ => Some(Ipv4Addr::UNSPECIFIED),
        }
    } else {
        if let Some(ttl) = request.ttl {
            socket.set_ttl(ttl)?;
        }
        if let Some(tos) = request.tos {
            socket.set_tos(tos)?;
        }
        socket.set_dont_fragment(request.dont_fragment)?;
        None
    };
    // Everything privileged is done: the socket is open and configured.
    crate::privilege::lock_down()?;
    Ok(Session {
        socket,
        probe,
        source_address,
    })
}

/// Sends `request.count` probes on `session`, reporting each event to `observe`.
pub fn run(
    session: Session,
    request: &Request,
    observe: &mut dyn FnMut(&Event) -> io::Result<()>,
) -> Result<Summary, IcmpError> {
    let Session {
        mut socket,
        probe,
        source_address,
    } = session;
    let mut summary = Summary::default();
    let expected_reply = reply_type(probe.v6, probe.kind);
    let ip_header = socket.delivers_ip_header();
    for n in 0..request.count {
        if n > 0 {
            std::thread::sleep(request.interval);
        }
        let sent_at = SystemTime::now();
        let sent_mono = Instant::now();
        let message = request.message(&probe, n, sent_at);
        let seq = request.seq.wrapping_add(n as u16);
        let decoded = decode_own(&message, probe.v6)?;
        let (bytes, ip) = match source_address {
            Some(source) => {
                let fields = emit::Ipv4Fields {
                    tos: request.tos.unwrap_or(0),
                    identification: request.ident ^ seq,
                    dont_fragment: request.dont_fragment,
                    ttl: request.ttl.unwrap_or(64),
                    protocol: PROTO_ICMP,
                    source,
                    destination: match request.target {
                        IpAddr::V4(v4) => v4,
                        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
                    },
                };
                let datagram = emit::ipv4_header(&fields, &message);
                let header = wire::ipv4::parse(&datagram).ok().map(|(h, _)| h);
                (datagram, header)
            }
            None => (message, None),
        };
        socket
            .send_to(&bytes, request.target, 0)
            .map_err(|source| SocketError::Send {
                target: request.target,
                source,
            })?;
        let started = Instant::now();
        summary.sent += 1;
        observe(&Event::Sent(Sent {
            probe: n + 1,
            target: request.target,
            ip,
            icmp: decoded,
            bytes: bytes.len(),
        }))
        .map_err(IcmpError::Output)?;
        let deadline = started + request.timeout;
        let answer = loop {
            let Some(packet) = socket.recv_until(deadline).map_err(SocketError::Receive)? else {
                break None;
            };
            let decoded = wire::parse_delivered(packet.bytes, probe.v6, ip_header);
            // Nothing in a packet that fails its checks is trusted.
            let Ok((ip, icmp)) = decoded else {
                summary.ignored += 1;
                continue;
            };
            if icmp.checksum_ok == Some(false)
                || ip.as_ref().is_some_and(|h| h.checksum_ok == Some(false))
            {
                summary.ignored += 1;
                continue;
            }
            let Some(matched_by) =
                matches(request, &probe, expected_reply, seq, packet.from, &icmp)
            else {
                summary.ignored += 1;
                continue;
            };
            // The kernel's stamp, unless the wall clock stepped meanwhile.
            let rtt = net::round_trip(packet.at, sent_at, sent_mono.elapsed());
            break Some(Answer {
                probe: n + 1,
                from: packet.from,
                rtt_ms: rtt.as_secs_f64() * 1000.0,
                ip,
                hop_limit: packet.ttl,
                icmp,
                matched_by,
            });
        };
        match answer {
            Some(answer) => {
                summary.answered += 1;
                if answer.icmp.is_error() {
                    summary.errors += 1;
                }
                observe(&Event::Answer(answer)).map_err(IcmpError::Output)?;
            }
            None => observe(&Event::NoAnswer {
                probe: n + 1,
                waited_ms: request.timeout.as_secs_f64() * 1000.0,
            })
            .map_err(IcmpError::Output)?,
        }
    }
    Ok(summary)
}

/// Decodes the message netdx is about to send (it must parse: it was built here).
fn decode_own(message: &[u8], v6: bool) -> Result<IcmpMessage, IcmpError> {
    wire::icmp::parse(message, v6).map_err(|err| {
        IcmpError::Unsupported(format!("the message as built does not parse: {err}"))
    })
}

/// Whether `icmp` from `from` answers the probe with sequence `seq`.
fn matches(
    request: &Request,
    probe: &Probe,
    expected_reply: Option<u8>,
    seq: u16,
    from: IpAddr,
    icmp: &IcmpMessage,
) -> Option<MatchedBy> {
    if let Some(quoted) = icmp.quoted() {
        let ours = quoted.destination == request.target
            && matches!(quoted.transport,
                QuotedTransport::Icmp { kind, ident, seq: quoted_seq, .. }
                    if kind == probe.kind && ident == request.ident && quoted_seq == seq);
        return ours.then_some(MatchedBy::QuotedOriginal);
    }
    if from != request.target || icmp.kind == probe.kind {
        return None;
    }
    if let Some(expected) = expected_reply
        && icmp.kind != expected
    {
        return None;
    }
    (icmp.ident_seq() == Some((request.ident, seq))).then_some(MatchedBy::IdentifierAndSequence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_expect_their_reply_types() {
        assert_eq!(reply_type(false, 8), Some(0));
        assert_eq!(reply_type(false, 13), Some(14));
        assert_eq!(reply_type(false, 17), Some(18));
        assert_eq!(reply_type(true, 128), Some(129));
        assert_eq!(reply_type(false, 42), None);
    }

    #[test]
    fn midnight_wraps_timestamps() {
        let at = UNIX_EPOCH + Duration::from_millis(86_400_000 * 3 + 1234);
        assert_eq!(ms_since_midnight(at), 1234);
    }
}
