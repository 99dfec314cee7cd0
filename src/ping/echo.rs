//! The echo socket: an ICMP socket per address family (from the raw-socket
//! layer in `crate::net`), opened the way iputils opens it, that sends echo
//! requests and hands back only what can be an answer to them.
//!
//! Untrusted bytes are read through `crate::wire`'s checked parsers, the
//! same ones `netdx icmp` and `netdx trace` use (and the fuzz target holds
//! to never panicking).
#![forbid(unsafe_code)]

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::iface::IfaceName;
use crate::net::{ErrorOrigin, LARGEST_DATAGRAM, ProbeSocket, SocketError, SocketKind};
use crate::wire::icmp;
use crate::wire::{self, emit};

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
    /// The one peer to hear (address, IPv6 scope), for a probe of a single
    /// target among many running at once, as the exporter's are: the socket
    /// is connected to it (see [`ProbeSocket::connect_peer`]), so the kernel
    /// copies it no other host's packets and a raw socket needs no filter.
    pub peer: Option<(IpAddr, u32)>,
}

/// An echo reply, checked and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoReply {
    /// Sequence field.
    pub seq: u16,
    /// TTL from the IPv4 header (raw IPv4 sockets only).
    pub header_ttl: Option<u8>,
    /// Bytes after the echo header.
    pub data: Vec<u8>,
    /// Size of the ICMP message (header + data), what ping reports as "bytes".
    pub icmp_len: usize,
    /// Whether the ICMP checksum verified (always true where the kernel verified it).
    pub checksum_ok: bool,
}

/// One datagram read from an echo socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Sender of the datagram.
    pub from: IpAddr,
    /// TTL / hop limit from ancillary data, when the kernel sent it.
    pub ttl: Option<u8>,
    /// Kernel receive timestamp.
    pub at: Option<SystemTime>,
    /// The echo reply it carried, if it is one that can be ours (`None`:
    /// requests and other messages a raw socket sees, others' replies).
    pub reply: Option<EchoReply>,
}

/// An ICMP error (or local failure) about one of our echo requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    /// What happened.
    pub origin: ErrorOrigin,
    /// The destination of the request.
    pub target: Option<IpAddr>,
    /// The request's sequence number.
    pub seq: u16,
}

/// An open ICMP echo socket for one address family.
pub struct EchoSocket {
    socket: ProbeSocket,
    ident: u16,
    send_buf: Vec<u8>,
}

impl EchoSocket {
    /// Opens an echo socket for IPv4 (`v6 == false`) or IPv6, datagram first,
    /// raw second, and applies `options`.
    pub fn open(v6: bool, options: &SocketOptions) -> Result<Self, SocketError> {
        // Sized for the largest datagram: a reply longer than the request is
        // seen whole (and reported as longer), never cut into a bad checksum.
        let socket = ProbeSocket::icmp(v6, LARGEST_DATAGRAM)?;
        if options.rcvbuf > 0 {
            socket.request_recv_buffer(options.rcvbuf);
        }
        socket.set_recv_errors()?;
        if let Some(ttl) = options.ttl {
            socket.set_ttl(ttl)?;
        }
        match &options.source {
            Some(Source::Address(address)) => socket.bind_source(*address)?,
            Some(Source::Interface(name)) => socket.bind_device(name.as_str())?,
            None => {}
        }
        let ident = match socket.kind() {
            // Raw sockets see every ICMP packet on the host: tag ours.
            SocketKind::Raw => random_ident(),
            // Datagram sockets: the kernel assigns the identifier and filters replies.
            SocketKind::Datagram => 0,
        };
        match options.peer {
            // The identifier is still checked on every reply (`recv`), for
            // another pinger of the same peer.
            Some((peer, scope_id)) => socket.connect_peer(peer, scope_id)?,
            None => socket.keep_only_echo_replies_for(ident)?,
        }
        Ok(EchoSocket {
            socket,
            ident,
            send_buf: Vec::with_capacity(256),
        })
    }

    /// Datagram or raw.
    pub fn kind(&self) -> SocketKind {
        self.socket.kind()
    }

    /// Sends one echo request; returns the wall-clock time just before the syscall.
    pub fn send(
        &mut self,
        target: IpAddr,
        scope_id: u32,
        seq: u16,
        payload: &[u8],
    ) -> io::Result<SystemTime> {
        let v6 = self.socket.is_v6();
        let rest = emit::ident_seq(self.ident, seq);
        let request = icmp::echo_request(v6);
        emit::icmp_into(v6, request, 0, rest, payload, false, &mut self.send_buf);
        let at = SystemTime::now();
        self.socket.send_to(&self.send_buf, target, scope_id)?;
        Ok(at)
    }

    /// Reads one datagram without blocking; `None` when nothing is queued.
    pub fn recv(&mut self) -> io::Result<Option<Received>> {
        let kind = self.socket.kind();
        let v6 = self.socket.is_v6();
        let ident = self.ident;
        let Some(datagram) = self.socket.recv()? else {
            return Ok(None);
        };
        let reply = parse_reply(datagram.bytes, kind, v6)
            // A raw socket sees every echo reply on the host; the kernel
            // filters datagram sockets by their identifier itself.
            .filter(|(reply_ident, _)| kind == SocketKind::Datagram || *reply_ident == ident)
            .map(|(_, reply)| reply);
        Ok(Some(Received {
            from: datagram.from,
            ttl: datagram.ttl,
            at: datagram.at,
            reply,
        }))
    }

    /// Reads one entry of the error queue without blocking: `Ok(Some(None))`
    /// for an entry that is not about one of our requests.
    pub fn recv_error(&mut self) -> io::Result<Option<Option<ProbeError>>> {
        let kind = self.socket.kind();
        let v6 = self.socket.is_v6();
        let ident = self.ident;
        let Some(queued) = self.socket.recv_error()? else {
            return Ok(None);
        };
        let ours = quoted_request(queued.quoted, v6)
            .filter(|(quoted_ident, _)| kind == SocketKind::Datagram || *quoted_ident == ident)
            .map(|(_, seq)| ProbeError {
                origin: queued.origin,
                target: queued.target,
                seq,
            });
        Ok(Some(ours))
    }
}

impl AsFd for EchoSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// Decodes a datagram read from an echo socket of `kind`: the identifier
/// and the reply, if it is an echo reply.
pub fn parse_reply(bytes: &[u8], kind: SocketKind, v6: bool) -> Option<(u16, EchoReply)> {
    // Raw IPv4 sockets deliver the IP header (with any options) too.
    let echo = wire::echo_delivered(bytes, v6, kind.delivers_ip_header(v6)).ok()?;
    if echo.kind != icmp::echo_reply(v6) {
        return None;
    }
    Some((
        echo.ident,
        EchoReply {
            seq: echo.seq,
            header_ttl: echo.ttl,
            data: echo.data.to_vec(),
            icmp_len: echo.length,
            checksum_ok: echo.checksum_ok,
        },
    ))
}

/// Identifier and sequence of an echo request quoted back to us (the payload
/// of an error-queue message is the request we sent).
pub fn quoted_request(bytes: &[u8], v6: bool) -> Option<(u16, u16)> {
    let message = icmp::parse(bytes, v6).ok()?;
    (message.kind == icmp::echo_request(v6)).then(|| message.ident_seq())?
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::icmp::{v4, v6};
    use std::net::Ipv4Addr;

    const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    /// An IPv4 packet around `icmp`, TTL 61, with `options` (a multiple of 4 bytes).
    fn ipv4(icmp: &[u8], options: &[u8]) -> Vec<u8> {
        let fields = emit::Ipv4Fields {
            tos: 0,
            identification: 7,
            dont_fragment: false,
            ttl: 61,
            protocol: wire::ipv4::PROTO_ICMP,
            source: PEER,
            destination: US,
        };
        let plain = emit::ipv4_header(&fields, icmp);
        if options.is_empty() {
            return plain;
        }
        // Splice the options in and fix IHL, total length and checksum.
        let mut bytes = plain[..20].to_vec();
        bytes.extend_from_slice(options);
        bytes.extend_from_slice(icmp);
        bytes[0] = 0x40 | ((20 + options.len()) / 4) as u8;
        let total = bytes.len() as u16;
        bytes[2..4].copy_from_slice(&total.to_be_bytes());
        bytes[10..12].copy_from_slice(&[0, 0]);
        let view = pnet_packet::ipv4::Ipv4Packet::new(&bytes).unwrap();
        let sum = pnet_packet::ipv4::checksum(&view);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    fn reply(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
        emit::icmp_v4(
            v4::ECHO_REPLY,
            0,
            emit::ident_seq(ident, seq),
            payload,
            false,
        )
    }

    #[test]
    fn a_raw_reply_yields_ident_seq_ttl_and_data() {
        let packet = ipv4(&reply(0xbeef, 3, b"0123456789"), &[]);
        let (ident, reply) = parse_reply(&packet, SocketKind::Raw, false).unwrap();
        assert_eq!((ident, reply.seq), (0xbeef, 3));
        assert_eq!(reply.header_ttl, Some(61));
        assert_eq!(reply.data, b"0123456789");
        assert_eq!(reply.icmp_len, 18);
        assert!(reply.checksum_ok);
    }

    #[test]
    fn a_reply_carrying_ip_options_is_still_a_reply() {
        // Record Route with room for two addresses, padded to 12 bytes.
        let options = [7, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0];
        let packet = ipv4(&reply(9, 4, b"opts"), &options);
        let (ident, reply) = parse_reply(&packet, SocketKind::Raw, false).unwrap();
        assert_eq!(
            (ident, reply.seq, reply.data.as_slice()),
            (9, 4, &b"opts"[..])
        );
        assert!(reply.checksum_ok);
    }

    #[test]
    fn a_datagram_reply_starts_at_the_icmp_header() {
        let (_, reply) = parse_reply(&reply(1, 9, b"xyz"), SocketKind::Datagram, false).unwrap();
        assert_eq!(reply.seq, 9);
        assert_eq!(reply.header_ttl, None);
    }

    #[test]
    fn a_corrupted_checksum_is_flagged_not_dropped() {
        let mut icmp = reply(1, 1, b"payload!");
        icmp[2] ^= 0xff;
        let (_, reply) = parse_reply(&ipv4(&icmp, &[]), SocketKind::Raw, false).unwrap();
        assert!(!reply.checksum_ok);
    }

    #[test]
    fn truncated_and_malformed_packets_are_ignored_without_panicking() {
        let full = ipv4(&reply(1, 1, b"0123456789abcdef"), &[]);
        for len in 0..full.len() {
            let _ = parse_reply(&full[..len], SocketKind::Raw, false);
            let _ = parse_reply(&full[..len], SocketKind::Datagram, false);
            let _ = parse_reply(&full[..len], SocketKind::Raw, true);
        }
        assert!(parse_reply(&full[..24], SocketKind::Raw, false).is_none());
        let mut v6ish = full;
        v6ish[0] = 0x65;
        assert!(parse_reply(&v6ish, SocketKind::Raw, false).is_none());
    }

    #[test]
    fn link_padding_beyond_the_total_length_is_not_data() {
        let mut packet = ipv4(&reply(1, 2, b"abcd"), &[]);
        packet.extend_from_slice(&[0xee; 6]);
        let (_, reply) = parse_reply(&packet, SocketKind::Raw, false).unwrap();
        assert_eq!(reply.data, b"abcd");
        assert!(reply.checksum_ok);
    }

    #[test]
    fn requests_seen_on_a_raw_socket_are_not_replies() {
        let request = emit::icmp_v4(v4::ECHO_REQUEST, 0, emit::ident_seq(1, 1), b"abc", false);
        assert!(parse_reply(&ipv4(&request, &[]), SocketKind::Raw, false).is_none());
    }

    #[test]
    fn an_icmpv6_reply_is_decoded() {
        let bytes = emit::icmp_v6(
            v6::ECHO_REPLY,
            0,
            emit::ident_seq(0x0102, 0x0304),
            b"v6data",
        );
        let (ident, reply) = parse_reply(&bytes, SocketKind::Raw, true).unwrap();
        assert_eq!((ident, reply.seq), (0x0102, 0x0304));
        assert_eq!(reply.data, b"v6data");
        assert!(reply.checksum_ok);
    }

    #[test]
    fn a_quoted_request_gives_its_ident_and_seq() {
        let bytes = emit::icmp_v4(
            v4::ECHO_REQUEST,
            0,
            emit::ident_seq(0xabcd, 42),
            b"x",
            false,
        );
        assert_eq!(quoted_request(&bytes, false), Some((0xabcd, 42)));
        assert_eq!(quoted_request(&bytes[..5], false), None);
        assert_eq!(quoted_request(&bytes, true), None);
    }
}
