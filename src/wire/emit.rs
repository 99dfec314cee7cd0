//! Building packets field by field with pnet's mutable packet types.
#![forbid(unsafe_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_packet::Packet;
use pnet_packet::icmp::{self, IcmpCode, IcmpPacket, IcmpType, MutableIcmpPacket};
use pnet_packet::ip::IpNextHeaderProtocol;
use pnet_packet::ipv4::{self, MutableIpv4Packet};
use pnet_packet::tcp::{self, MutableTcpPacket, TcpFlags};
use pnet_packet::udp::{self, MutableUdpPacket};

use super::icmp::HEADER_LEN;
use super::ipv4::{FLAG_DF, HEADER_MIN};
use super::quoted::IPV6_HEADER_LEN;

/// Length of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// Length of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;
/// The TCP window advertised by SYN probes.
const SYN_WINDOW: u16 = 64_240;

/// The rest-of-header word of echo-like messages.
pub fn ident_seq(ident: u16, seq: u16) -> [u8; 4] {
    let [a, b] = ident.to_be_bytes();
    let [c, d] = seq.to_be_bytes();
    [a, b, c, d]
}

/// An ICMPv4 message: type, code, checksum (computed, or deliberately
/// wrong with `bad_checksum`), the rest-of-header word and the data.
pub fn icmp_v4(kind: u8, code: u8, rest: [u8; 4], data: &[u8], bad_checksum: bool) -> Vec<u8> {
    let mut out = Vec::new();
    icmp_into(false, kind, code, rest, data, bad_checksum, &mut out);
    out
}

/// An ICMPv6 message; the kernel writes its checksum (RFC 3542: raw
/// ICMPv6 sockets always compute it, with the pseudo-header).
pub fn icmp_v6(kind: u8, code: u8, rest: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    icmp_into(true, kind, code, rest, data, false, &mut out);
    out
}

/// Writes an ICMP (`v6 == false`) or ICMPv6 message into `out`, reusing its
/// allocation: what [`icmp_v4`] and [`icmp_v6`] return, for senders that
/// build one message per probe at flood rate.
pub fn icmp_into(
    v6: bool,
    kind: u8,
    code: u8,
    rest: [u8; 4],
    data: &[u8],
    bad_checksum: bool,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.resize(HEADER_LEN + data.len(), 0);
    out[0] = kind;
    out[1] = code;
    out[4..8].copy_from_slice(&rest);
    out[HEADER_LEN..].copy_from_slice(data);
    if v6 {
        return;
    }
    if let Some(mut packet) = MutableIcmpPacket::new(out) {
        packet.set_icmp_type(IcmpType(kind));
        packet.set_icmp_code(IcmpCode(code));
        packet.set_checksum(0);
        let sum = IcmpPacket::new(packet.packet()).map_or(0, |view| icmp::checksum(&view));
        // Off by one on purpose: as wrong as a checksum can be while
        // everything else stays the same.
        packet.set_checksum(if bad_checksum { sum ^ 0x0001 } else { sum });
    }
}

/// The IPv4 header fields a sender chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Fields {
    /// Type of service byte.
    pub tos: u8,
    /// Identification.
    pub identification: u16,
    /// Set the DF bit.
    pub dont_fragment: bool,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number of the payload.
    pub protocol: u8,
    /// Source address.
    pub source: Ipv4Addr,
    /// Destination address.
    pub destination: Ipv4Addr,
}

/// A whole IPv4 datagram: a 20-byte header (checksum computed) and `payload`.
pub fn ipv4_header(fields: &Ipv4Fields, payload: &[u8]) -> Vec<u8> {
    let total = HEADER_MIN + payload.len();
    let mut out = vec![0u8; total];
    if let Some(mut packet) = MutableIpv4Packet::new(&mut out) {
        packet.set_version(4);
        packet.set_header_length((HEADER_MIN / 4) as u8);
        packet.set_dscp(fields.tos >> 2);
        packet.set_ecn(fields.tos & 0b11);
        packet.set_total_length(u16::try_from(total).unwrap_or(u16::MAX));
        packet.set_identification(fields.identification);
        packet.set_flags(if fields.dont_fragment { FLAG_DF } else { 0 });
        packet.set_ttl(fields.ttl);
        packet.set_next_level_protocol(IpNextHeaderProtocol(fields.protocol));
        packet.set_source(fields.source);
        packet.set_destination(fields.destination);
        packet.set_payload(payload);
        let sum = ipv4::checksum(&packet.to_immutable());
        packet.set_checksum(sum);
    }
    out
}

/// One's-complement addition of two 16-bit words.
fn ones_add(a: u16, b: u16) -> u16 {
    let sum = u32::from(a) + u32::from(b);
    ((sum & 0xffff) + (sum >> 16)) as u16
}

fn udp_checksum(bytes: &[u8], source: Ipv4Addr, destination: Ipv4Addr) -> u16 {
    udp::UdpPacket::new(bytes).map_or(0, |view| udp::ipv4_checksum(&view, &source, &destination))
}

fn udp_checksum_v6(bytes: &[u8], source: Ipv6Addr, destination: Ipv6Addr) -> u16 {
    udp::UdpPacket::new(bytes).map_or(0, |view| udp::ipv6_checksum(&view, &source, &destination))
}

/// A UDP datagram whose checksum is `checksum` (1..=0xfffe): the first two
/// payload bytes are chosen to make it so. This is Paris traceroute's way
/// of telling probes apart without touching the ports, which per-flow load
/// balancers hash; the checksum comes back in the quote of any ICMP error.
pub fn udp_probe(
    source: (Ipv4Addr, u16),
    destination: (Ipv4Addr, u16),
    checksum: u16,
    payload_len: usize,
) -> Vec<u8> {
    udp_probe_with((source.1, destination.1), checksum, payload_len, |bytes| {
        udp_checksum(bytes, source.0, destination.0)
    })
}

/// [`udp_probe`] over IPv6: the checksum covers the IPv6 pseudo-header
/// (raw IPv6 sockets leave it to the sender).
pub fn udp_probe_v6(
    source: (Ipv6Addr, u16),
    destination: (Ipv6Addr, u16),
    checksum: u16,
    payload_len: usize,
) -> Vec<u8> {
    udp_probe_with((source.1, destination.1), checksum, payload_len, |bytes| {
        udp_checksum_v6(bytes, source.0, destination.0)
    })
}

fn udp_probe_with(
    (source_port, destination_port): (u16, u16),
    checksum: u16,
    payload_len: usize,
    sum_of: impl Fn(&[u8]) -> u16,
) -> Vec<u8> {
    let payload_len = payload_len.max(2);
    let mut out = vec![0u8; UDP_HEADER_LEN + payload_len];
    if let Some(mut packet) = MutableUdpPacket::new(&mut out) {
        packet.set_source(source_port);
        packet.set_destination(destination_port);
        packet.set_length(u16::try_from(UDP_HEADER_LEN + payload_len).unwrap_or(u16::MAX));
    }
    // checksum = !(S + w) in one's complement, so w = !checksum - S.
    let base = !sum_of(&out);
    let word = ones_add(!checksum, !base);
    out[UDP_HEADER_LEN..UDP_HEADER_LEN + 2].copy_from_slice(&word.to_be_bytes());
    let sum = sum_of(&out);
    out[6..8].copy_from_slice(&sum.to_be_bytes());
    out
}

/// A TCP SYN segment (no options) with sequence number `seq`.
pub fn tcp_syn(source: (Ipv4Addr, u16), destination: (Ipv4Addr, u16), seq: u32) -> Vec<u8> {
    tcp_syn_with((source.1, destination.1), seq, |packet| {
        tcp::ipv4_checksum(packet, &source.0, &destination.0)
    })
}

/// [`tcp_syn`] over IPv6 (checksum with the IPv6 pseudo-header).
pub fn tcp_syn_v6(source: (Ipv6Addr, u16), destination: (Ipv6Addr, u16), seq: u32) -> Vec<u8> {
    tcp_syn_with((source.1, destination.1), seq, |packet| {
        tcp::ipv6_checksum(packet, &source.0, &destination.0)
    })
}

fn tcp_syn_with(
    (source_port, destination_port): (u16, u16),
    seq: u32,
    sum_of: impl Fn(&tcp::TcpPacket<'_>) -> u16,
) -> Vec<u8> {
    let mut out = vec![0u8; TCP_HEADER_LEN];
    if let Some(mut packet) = MutableTcpPacket::new(&mut out) {
        packet.set_source(source_port);
        packet.set_destination(destination_port);
        packet.set_sequence(seq);
        packet.set_data_offset((TCP_HEADER_LEN / 4) as u8);
        packet.set_flags(TcpFlags::SYN);
        packet.set_window(SYN_WINDOW);
        let sum = sum_of(&packet.to_immutable());
        packet.set_checksum(sum);
    }
    out
}

/// The IPv6 header fields a sender chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Fields {
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Next header: the payload's protocol.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub source: Ipv6Addr,
    /// Destination address.
    pub destination: Ipv6Addr,
}

/// A whole IPv6 packet: the fixed 40-byte header and `payload` (what
/// ICMPv6 errors quote, for tests and fixtures).
pub fn ipv6_header(fields: &Ipv6Fields, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; IPV6_HEADER_LEN + payload.len()];
    let word =
        (6u32 << 28) | (u32::from(fields.traffic_class) << 20) | (fields.flow_label & 0xf_ffff);
    out[0..4].copy_from_slice(&word.to_be_bytes());
    let length = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    out[4..6].copy_from_slice(&length.to_be_bytes());
    out[6] = fields.next_header;
    out[7] = fields.hop_limit;
    out[8..24].copy_from_slice(&fields.source.octets());
    out[24..40].copy_from_slice(&fields.destination.octets());
    out[IPV6_HEADER_LEN..].copy_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 2);

    /// Every checksum asked of `probe` (ports 40000 → 33434) is the one it
    /// carries, and `verify` (the checksum over the probe with the field
    /// zeroed) agrees.
    fn carries_the_checksum_asked_for(
        probe: impl Fn(u16) -> Vec<u8>,
        verify: impl Fn(&[u8]) -> u16,
    ) {
        for wanted in (1..=2000u16).chain([0x7fff, 0xfffe]) {
            let bytes = probe(wanted);
            let field = u16::from_be_bytes([bytes[6], bytes[7]]);
            assert_eq!(field, wanted, "asked for {wanted}");
            let mut zeroed = bytes.clone();
            zeroed[6] = 0;
            zeroed[7] = 0;
            assert_eq!(verify(&zeroed), field, "verifies for {wanted}");
            assert_eq!(&bytes[0..4], &[0x9c, 0x40, 0x82, 0x9a], "ports unchanged");
        }
    }

    #[test]
    fn udp_probes_carry_the_checksum_asked_for_and_it_verifies() {
        carries_the_checksum_asked_for(
            |wanted| udp_probe((A, 40000), (B, 33434), wanted, 32),
            |bytes| udp_checksum(bytes, A, B),
        );
    }

    #[test]
    fn a_syn_has_only_the_syn_flag_and_a_valid_checksum() {
        let bytes = tcp_syn((A, 40000), (B, 80), 77);
        let view = tcp::TcpPacket::new(&bytes).unwrap();
        assert_eq!(view.get_flags(), TcpFlags::SYN);
        assert_eq!(view.get_sequence(), 77);
        assert_eq!(tcp::ipv4_checksum(&view, &A, &B), view.get_checksum());
    }

    const A6: Ipv6Addr = Ipv6Addr::new(0xfd0a, 0, 0, 0, 0, 0, 0, 1);
    const B6: Ipv6Addr = Ipv6Addr::new(0xfd0c, 0, 0, 0, 0, 0, 0, 2);

    #[test]
    fn ipv6_udp_probes_carry_the_checksum_asked_for_and_it_verifies_with_the_pseudo_header() {
        carries_the_checksum_asked_for(
            |wanted| udp_probe_v6((A6, 40000), (B6, 33434), wanted, 32),
            |bytes| udp_checksum_v6(bytes, A6, B6),
        );
    }

    #[test]
    fn an_ipv6_syn_checksums_with_the_ipv6_pseudo_header() {
        let bytes = tcp_syn_v6((A6, 40000), (B6, 80), 77);
        let view = tcp::TcpPacket::new(&bytes).unwrap();
        assert_eq!(view.get_flags(), TcpFlags::SYN);
        assert_eq!(tcp::ipv6_checksum(&view, &A6, &B6), view.get_checksum());
    }

    #[test]
    fn an_ipv6_header_reads_back_through_the_quote_parser() {
        let fields = Ipv6Fields {
            traffic_class: 0,
            flow_label: 0x12345,
            next_header: 17,
            hop_limit: 1,
            source: A6,
            destination: B6,
        };
        let packet = ipv6_header(&fields, &udp_probe_v6((A6, 40000), (B6, 33434), 9, 32));
        let quoted = super::super::quoted::parse_v6(&packet).unwrap();
        assert_eq!(quoted.destination, std::net::IpAddr::V6(B6));
        assert_eq!(quoted.ttl, 1);
        assert_eq!(u16::from_be_bytes([packet[4], packet[5]]), 40);
    }
}
