//! Echo packets on the wire: building requests, and checked views of what
//! the echo socket reads back.
//!
//! Untrusted bytes are only read through length-checked views: pnet's packet
//! types for the headers and the checksum, surge-ping's decoder
//! (`Icmpv4Packet::decode` / `Icmpv6Packet::decode`) to classify the
//! message and read its identifier and sequence.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::Packet;
use pnet_packet::icmp::{self, IcmpPacket, IcmpTypes, echo_request::MutableEchoRequestPacket};
use pnet_packet::icmpv6::{
    Icmpv6Types, echo_request::MutableEchoRequestPacket as MutableEchoRequestPacketV6,
};
use pnet_packet::ipv4::Ipv4Packet;
use socket2::Type;
use surge_ping::{Icmpv4Packet, Icmpv6Packet};

/// Length of an ICMP echo header: type, code, checksum, identifier, sequence.
pub const ECHO_HEADER_LEN: usize = 8;
/// Smallest IPv4 header.
pub const IPV4_HEADER_MIN: usize = 20;
/// Largest echo payload over IPv4 (65535 − 20 IP − 8 ICMP).
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// Largest echo payload over IPv6 (65535 − 8 ICMPv6; the IPv6 header is not counted).
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// Which kind of socket the bytes came from: raw IPv4 sockets deliver the IP
/// header too, ICMP datagram sockets and IPv6 sockets start at the ICMP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `SOCK_DGRAM` "ping socket" (unprivileged, kernel-assigned identifier).
    Datagram,
    /// `SOCK_RAW` (CAP_NET_RAW).
    Raw,
}

impl SocketKind {
    fn socket_type(self) -> Type {
        match self {
            SocketKind::Datagram => Type::DGRAM,
            SocketKind::Raw => Type::RAW,
        }
    }
}

/// Writes an echo request (header + `payload`) into `out`.
///
/// IPv4 carries its checksum computed here; for ICMPv6 the kernel computes it
/// (RFC 3542), and on datagram sockets the kernel also sets the identifier.
pub fn build_echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.resize(ECHO_HEADER_LEN + payload.len(), 0);
    if v6 {
        if let Some(mut packet) = MutableEchoRequestPacketV6::new(out) {
            packet.set_icmpv6_type(Icmpv6Types::EchoRequest);
            packet.set_identifier(ident);
            packet.set_sequence_number(seq);
            packet.set_payload(payload);
        }
    } else if let Some(mut packet) = MutableEchoRequestPacket::new(out) {
        packet.set_icmp_type(IcmpTypes::EchoRequest);
        packet.set_identifier(ident);
        packet.set_sequence_number(seq);
        packet.set_payload(payload);
        let sum = IcmpPacket::new(packet.packet()).map_or(0, |view| icmp::checksum(&view));
        packet.set_checksum(sum);
    }
}

/// An echo reply read from the socket, checked and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoReply<'a> {
    /// Identifier field.
    pub ident: u16,
    /// Sequence field.
    pub seq: u16,
    /// TTL from the IPv4 header (raw IPv4 sockets only).
    pub header_ttl: Option<u8>,
    /// Bytes after the echo header.
    pub data: &'a [u8],
    /// Size of the ICMP message (header + data), what ping reports as "bytes".
    pub icmp_len: usize,
    /// Whether the ICMP checksum verified (always true where the kernel verified it).
    pub checksum_ok: bool,
}

/// What one datagram from the echo socket was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// An echo reply (maybe ours, maybe another process's on a raw socket).
    EchoReply(EchoReply<'a>),
    /// Anything else: requests seen on a raw socket, errors (handled through
    /// the error queue), neighbour discovery, and packets too broken to read.
    Ignored(&'static str),
}

/// Decodes a datagram read from an echo socket of `kind`, sent by `from` to `to`.
pub fn parse<'a>(bytes: &'a [u8], kind: SocketKind, from: IpAddr, to: IpAddr) -> Incoming<'a> {
    match (from, to) {
        (IpAddr::V4(from), IpAddr::V4(to)) => parse_v4(bytes, kind, from, to),
        (IpAddr::V6(from), _) => parse_v6(bytes, from),
        _ => Incoming::Ignored("address family mismatch"),
    }
}

fn parse_v4(bytes: &[u8], kind: SocketKind, from: Ipv4Addr, to: Ipv4Addr) -> Incoming<'_> {
    // The ICMP message, bounded by the IP header's own length fields.
    let (icmp_bytes, header_ttl) = match kind {
        SocketKind::Datagram => (bytes, None),
        SocketKind::Raw => {
            let Some(ip) = Ipv4Packet::new(bytes) else {
                return Incoming::Ignored("shorter than an IPv4 header");
            };
            let header_len = usize::from(ip.get_header_length()) * 4;
            let total_len = usize::from(ip.get_total_length()).min(bytes.len());
            if ip.get_version() != 4 || header_len < IPV4_HEADER_MIN || header_len > total_len {
                return Incoming::Ignored("malformed IPv4 header");
            }
            (&bytes[header_len..total_len], Some(ip.get_ttl()))
        }
    };
    if icmp_bytes.len() < ECHO_HEADER_LEN {
        return Incoming::Ignored("shorter than an ICMP echo header");
    }
    let Some(view) = IcmpPacket::new(icmp_bytes) else {
        return Incoming::Ignored("shorter than an ICMP header");
    };
    if view.get_icmp_type() != IcmpTypes::EchoReply {
        return Incoming::Ignored("not an echo reply");
    }
    let checksum_ok = icmp::checksum(&view) == view.get_checksum();
    let decoded = match kind {
        SocketKind::Datagram => Icmpv4Packet::decode(icmp_bytes, kind.socket_type(), from, to),
        SocketKind::Raw => Icmpv4Packet::decode(bytes, kind.socket_type(), from, to),
    };
    let Ok(decoded) = decoded else {
        return Incoming::Ignored("undecodable echo reply");
    };
    Incoming::EchoReply(EchoReply {
        ident: decoded.get_identifier().0,
        seq: decoded.get_sequence().0,
        header_ttl,
        data: &icmp_bytes[ECHO_HEADER_LEN..],
        icmp_len: icmp_bytes.len(),
        checksum_ok,
    })
}

fn parse_v6(bytes: &[u8], from: Ipv6Addr) -> Incoming<'_> {
    if bytes.len() < ECHO_HEADER_LEN {
        return Incoming::Ignored("shorter than an ICMPv6 echo header");
    }
    if bytes[0] != Icmpv6Types::EchoReply.0 {
        return Incoming::Ignored("not an echo reply");
    }
    let Ok(decoded) = Icmpv6Packet::decode(bytes, from) else {
        return Incoming::Ignored("undecodable echo reply");
    };
    Incoming::EchoReply(EchoReply {
        ident: decoded.get_identifier().0,
        seq: decoded.get_sequence().0,
        header_ttl: None,
        data: &bytes[ECHO_HEADER_LEN..],
        icmp_len: bytes.len(),
        // The kernel verifies ICMPv6 checksums before any socket sees the packet.
        checksum_ok: true,
    })
}

/// Identifier and sequence of an echo request quoted back to us (the payload
/// of an error-queue message is the request we sent).
pub fn quoted_request(bytes: &[u8], v6: bool) -> Option<(u16, u16)> {
    if bytes.len() < ECHO_HEADER_LEN {
        return None;
    }
    let expected = if v6 {
        Icmpv6Types::EchoRequest.0
    } else {
        IcmpTypes::EchoRequest.0
    };
    if bytes[0] != expected {
        return None;
    }
    let ident = u16::from_be_bytes([bytes[4], bytes[5]]);
    let seq = u16::from_be_bytes([bytes[6], bytes[7]]);
    Some((ident, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    /// An IPv4 packet around `icmp`, TTL 61.
    fn ipv4(icmp: &[u8]) -> Vec<u8> {
        let total = (20 + icmp.len()) as u16;
        let mut bytes = vec![0x45, 0];
        bytes.extend_from_slice(&total.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0, 61, 1, 0, 0]);
        bytes.extend_from_slice(&PEER.octets());
        bytes.extend_from_slice(&US.octets());
        bytes.extend_from_slice(icmp);
        bytes
    }

    /// A correct echo reply with `payload`.
    fn reply(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        build_echo_request(false, ident, seq, payload, &mut bytes);
        // Turn the request into a reply and fix the checksum the way a host does.
        bytes[0] = 0;
        bytes[2] = 0;
        bytes[3] = 0;
        let sum = icmp::checksum(&IcmpPacket::new(&bytes).unwrap());
        bytes[2..4].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    fn expect_reply<'a>(incoming: Incoming<'a>) -> EchoReply<'a> {
        match incoming {
            Incoming::EchoReply(reply) => reply,
            other => panic!("expected an echo reply, got {other:?}"),
        }
    }

    #[test]
    fn request_checksum_verifies() {
        let mut bytes = Vec::new();
        build_echo_request(false, 0x1234, 7, b"abcdefgh", &mut bytes);
        let view = IcmpPacket::new(&bytes).unwrap();
        assert_eq!(icmp::checksum(&view), view.get_checksum());
        assert_eq!(&bytes[4..8], &[0x12, 0x34, 0, 7]);
    }

    #[test]
    fn raw_reply_yields_ident_seq_ttl_and_data() {
        let packet = ipv4(&reply(0xbeef, 3, b"0123456789"));
        let reply = expect_reply(parse(&packet, SocketKind::Raw, PEER.into(), US.into()));
        assert_eq!((reply.ident, reply.seq), (0xbeef, 3));
        assert_eq!(reply.header_ttl, Some(61));
        assert_eq!(reply.data, b"0123456789");
        assert_eq!(reply.icmp_len, 18);
        assert!(reply.checksum_ok);
    }

    #[test]
    fn datagram_reply_starts_at_the_icmp_header() {
        let bytes = reply(1, 9, b"xyz");
        let reply = expect_reply(parse(&bytes, SocketKind::Datagram, PEER.into(), US.into()));
        assert_eq!(reply.seq, 9);
        assert_eq!(reply.header_ttl, None);
    }

    #[test]
    fn corrupted_checksum_is_flagged() {
        let mut icmp = reply(1, 1, b"payload!");
        icmp[2] ^= 0xff;
        let packet = ipv4(&icmp);
        let reply = expect_reply(parse(&packet, SocketKind::Raw, PEER.into(), US.into()));
        assert!(!reply.checksum_ok);
    }

    #[test]
    fn truncated_and_malformed_packets_are_ignored_without_panicking() {
        let full = ipv4(&reply(1, 1, b"0123456789abcdef"));
        for len in 0..full.len() {
            // Every prefix parses to something; none panics.
            let _ = parse(&full[..len], SocketKind::Raw, PEER.into(), US.into());
        }
        assert!(matches!(
            parse(&full[..24], SocketKind::Raw, PEER.into(), US.into()),
            Incoming::Ignored(_)
        ));
        // A header length field pointing past the packet.
        let mut bad = full.clone();
        bad[0] = 0x4f;
        assert!(matches!(
            parse(&bad[..40], SocketKind::Raw, PEER.into(), US.into()),
            Incoming::Ignored(_)
        ));
        // Not IPv4 at all.
        let mut v6ish = full;
        v6ish[0] = 0x65;
        assert!(matches!(
            parse(&v6ish, SocketKind::Raw, PEER.into(), US.into()),
            Incoming::Ignored(_)
        ));
    }

    #[test]
    fn total_length_bounds_the_icmp_message() {
        // Trailing bytes beyond the IP total length (link padding) are not data.
        let mut packet = ipv4(&reply(1, 2, b"abcd"));
        packet.extend_from_slice(&[0xee; 6]);
        let reply = expect_reply(parse(&packet, SocketKind::Raw, PEER.into(), US.into()));
        assert_eq!(reply.data, b"abcd");
        assert!(reply.checksum_ok);
    }

    #[test]
    fn requests_seen_on_a_raw_socket_are_not_replies() {
        let mut request = Vec::new();
        build_echo_request(false, 1, 1, b"abc", &mut request);
        let packet = ipv4(&request);
        assert!(matches!(
            parse(&packet, SocketKind::Raw, PEER.into(), US.into()),
            Incoming::Ignored(_)
        ));
    }

    #[test]
    fn icmpv6_reply_is_decoded() {
        let mut bytes = Vec::new();
        build_echo_request(true, 0x0102, 0x0304, b"v6data", &mut bytes);
        bytes[0] = 129;
        let from: Ipv6Addr = "fd00::2".parse().unwrap();
        let to: Ipv6Addr = "fd00::1".parse().unwrap();
        let reply = expect_reply(parse(&bytes, SocketKind::Raw, from.into(), to.into()));
        assert_eq!((reply.ident, reply.seq), (0x0102, 0x0304));
        assert_eq!(reply.data, b"v6data");
    }

    #[test]
    fn quoted_request_reads_ident_and_seq() {
        let mut bytes = Vec::new();
        build_echo_request(false, 0xabcd, 42, b"x", &mut bytes);
        assert_eq!(quoted_request(&bytes, false), Some((0xabcd, 42)));
        assert_eq!(quoted_request(&bytes[..5], false), None);
        assert_eq!(quoted_request(&bytes, true), None);
    }
}
