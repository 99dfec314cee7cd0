//! Packet formats on the wire for `netdx icmp` and `netdx trace`: checked
//! views over untrusted bytes (pnet's packet types) turned into parsed
//! representations the rest of the code matches on, and the emitters that
//! build probes field by field.
//!
//! Every parser takes arbitrary bytes and returns a [`WireError`] for
//! anything short, inconsistent or of the wrong version; none of them can
//! panic (the fuzz target in `fuzz/` holds them to that).
#![forbid(unsafe_code)]

pub mod arp;
pub mod dhcp;
pub mod dhcp_options;
pub mod dns;
pub mod dns_layout;
pub mod emit;
pub mod icmp;
pub mod ipv4;
pub mod names;
pub mod ndp;
pub mod quoted;
pub mod tcp;

use thiserror::Error;

pub use icmp::{IcmpBody, IcmpMessage};
pub use ipv4::Ipv4Header;
pub use quoted::{Quoted, QuotedTransport};

/// Why bytes could not be read as the packet they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// Fewer bytes than the smallest valid header.
    #[error("{what} truncated: {got} bytes, at least {need} needed")]
    Truncated {
        /// Which header.
        what: &'static str,
        /// Bytes present.
        got: usize,
        /// Bytes needed.
        need: usize,
    },
    /// A header field that contradicts the packet.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// Which header.
        what: &'static str,
        /// The inconsistency.
        why: String,
    },
}

/// Fails with [`WireError::Truncated`] unless `bytes` holds `need` bytes.
pub(crate) fn need(bytes: &[u8], need: usize, what: &'static str) -> Result<(), WireError> {
    if bytes.len() < need {
        return Err(WireError::Truncated {
            what,
            got: bytes.len(),
            need,
        });
    }
    Ok(())
}

/// A big-endian u16 at `at` (callers have checked the length).
pub(crate) fn be16(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
}

/// A big-endian u32 at `at` (callers have checked the length).
pub(crate) fn be32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// One datagram read from a raw IPv4 socket: its IP header and ICMP message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Ipv4Icmp {
    /// The IP header, as received.
    pub ip: Ipv4Header,
    /// The ICMP message it carries.
    pub icmp: IcmpMessage,
}

/// Parses what a raw `IPPROTO_ICMP` socket delivers: an IPv4 header and an
/// ICMP message, both checked (lengths, version, checksums).
///
/// The kernel verifies every IPv4 header checksum before it delivers a
/// packet, and then processes options in place (Record Route, Timestamp
/// gain this host's entry) without updating it: for a header with options
/// the checksum is reported as the kernel's verdict (`None`), not recomputed.
pub fn parse_ipv4_icmp(bytes: &[u8]) -> Result<Ipv4Icmp, WireError> {
    let (mut ip, payload) = ipv4::parse(bytes)?;
    if usize::from(ip.ihl) * 4 > ipv4::HEADER_MIN {
        ip.checksum_ok = None;
    }
    if ip.protocol != ipv4::PROTO_ICMP {
        return Err(WireError::Malformed {
            what: "IPv4 header",
            why: format!("protocol {} is not ICMP", ip.protocol),
        });
    }
    let icmp = icmp::parse_v4(payload)?;
    Ok(Ipv4Icmp { ip, icmp })
}

/// Parses what an ICMP socket delivers: with `ip_header` (raw IPv4
/// sockets) an IPv4 header and the ICMP message it carries, otherwise an
/// ICMP or ICMPv6 message from its own header.
pub fn parse_delivered(
    bytes: &[u8],
    v6: bool,
    ip_header: bool,
) -> Result<(Option<Ipv4Header>, IcmpMessage), WireError> {
    if ip_header && !v6 {
        let datagram = parse_ipv4_icmp(bytes)?;
        Ok((Some(datagram.ip), datagram.icmp))
    } else {
        Ok((None, icmp::parse(bytes, v6)?))
    }
}

/// An echo-shaped ICMP message read in place from what an ICMP socket
/// delivers: what ping needs of each reply at flood rate, without building
/// the full [`IcmpMessage`] (names, an owned copy of the data) or checking
/// the IPv4 header checksum the kernel has already verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoView<'a> {
    /// ICMP type.
    pub kind: u8,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// TTL of the IPv4 header, when one was delivered.
    pub ttl: Option<u8>,
    /// Whether the ICMP checksum verifies (ICMPv6: the kernel verified it).
    pub checksum_ok: bool,
    /// Length of the ICMP message.
    pub length: usize,
    /// The data after the echo header.
    pub data: &'a [u8],
}

/// Reads `bytes` as [`parse_delivered`] does, as an echo-shaped message;
/// the same length and header checks, never a panic.
pub fn echo_delivered(bytes: &[u8], v6: bool, ip_header: bool) -> Result<EchoView<'_>, WireError> {
    let (message, ttl) = if ip_header && !v6 {
        let (header, header_len) = ipv4::parse_header(bytes, "IPv4 header")?;
        let end = usize::from(header.total_length).min(bytes.len());
        if end < header_len || header.protocol != ipv4::PROTO_ICMP {
            return Err(WireError::Malformed {
                what: "IPv4 header",
                why: "not an ICMP datagram within its total length".into(),
            });
        }
        (&bytes[header_len..end], Some(header.ttl))
    } else {
        (bytes, None)
    };
    need(message, icmp::HEADER_LEN, "ICMP echo header")?;
    let checksum_ok = v6
        || pnet_packet::icmp::IcmpPacket::new(message)
            .is_some_and(|view| pnet_packet::icmp::checksum(&view) == view.get_checksum());
    Ok(EchoView {
        kind: message[0],
        ident: be16(message, 4),
        seq: be16(message, 6),
        ttl,
        checksum_ok,
        length: message.len(),
        data: &message[icmp::HEADER_LEN..],
    })
}

/// Bytes from a hex dump, for tests that replay captured packets.
#[cfg(test)]
pub(crate) fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[cfg(test)]
mod received_options {
    use super::*;

    #[test]
    fn the_echo_view_reads_what_the_full_parse_reads_and_never_panics() {
        let reply = emit::icmp_v4(
            icmp::v4::ECHO_REPLY,
            0,
            emit::ident_seq(7, 9),
            b"abcdef",
            false,
        );
        let fields = emit::Ipv4Fields {
            tos: 0,
            identification: 1,
            dont_fragment: false,
            ttl: 61,
            protocol: ipv4::PROTO_ICMP,
            source: std::net::Ipv4Addr::new(10, 0, 0, 2),
            destination: std::net::Ipv4Addr::new(10, 0, 0, 1),
        };
        let datagram = emit::ipv4_header(&fields, &reply);
        let view = echo_delivered(&datagram, false, true).unwrap();
        let (ip, full) = parse_delivered(&datagram, false, true).unwrap();
        assert_eq!(
            (view.kind, Some((view.ident, view.seq))),
            (full.kind, full.ident_seq())
        );
        assert_eq!((view.ttl, view.length), (ip.map(|h| h.ttl), full.length));
        assert_eq!(view.data, b"abcdef");
        assert!(view.checksum_ok);
        for len in 0..datagram.len() {
            let _ = echo_delivered(&datagram[..len], false, true);
            let _ = echo_delivered(&datagram[..len], true, false);
        }
        for at in 0..datagram.len() {
            let mut bad = datagram.clone();
            bad[at] ^= 0x5a;
            let _ = echo_delivered(&bad, false, true);
        }
    }

    #[test]
    fn a_reply_whose_record_route_the_kernel_filled_in_is_not_rejected() {
        // Captured in a test namespace: an echo reply with Record Route whose
        // pointer the receiving kernel advanced after checking the header.
        let hex = "4800002c3ea84000400186770a4d00020a4d0001070b0c0a4d00020a4d00010000003aeb004d000161626364";
        let bytes = from_hex(hex);
        let datagram = parse_ipv4_icmp(&bytes).unwrap();
        assert_eq!((datagram.ip.ihl, datagram.ip.checksum_ok), (8, None));
        assert_eq!(datagram.icmp.ident_seq(), Some((77, 1)));
        assert_eq!(datagram.icmp.checksum_ok, Some(true));
    }
}

#[cfg(test)]
mod captured {
    //! Packets captured off a raw ICMP socket in the test chain
    //! (client 10.9.10.1 → router A 10.9.10.2 → router B → target 10.9.12.2).
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    /// Router A's Time Exceeded about a UDP probe with TTL 1.
    const TIME_EXCEEDED: &str = "45c00058963c00004001bb940a090a020a090a010b001f4e000000004500003c89b540000111c5e70a090a010a090c02ccfb829a0028000185f2000000000000000000000000000000000000000000000000000000000000";
    /// The target's port unreachable about a UDP probe.
    const PORT_UNREACHABLE: &str = "45c0005837e600003e0119eb0a090c020a090a010303274b000000004500003c89b740000111c5e50a090a010a090c02ccfb829a0028000385f0000000000000000000000000000000000000000000000000000000000000";
    /// The target's timestamp reply.
    const TIMESTAMP_REPLY: &str =
        "4500002837f400003e011acd0a090c020a090a010e0071875ce0000100e9604900e9604900e96049";

    #[test]
    fn a_captured_time_exceeded_decodes_with_its_quoted_udp_probe() {
        let packet = parse_ipv4_icmp(&from_hex(TIME_EXCEEDED)).unwrap();
        assert_eq!(packet.ip.source, Ipv4Addr::new(10, 9, 10, 2));
        assert_eq!(packet.ip.ttl, 64);
        assert_eq!(
            packet.ip.tos, 0xc0,
            "routers send errors as network control"
        );
        assert_eq!(packet.ip.checksum_ok, Some(true));
        assert_eq!(packet.icmp.type_name, "time-exceeded");
        assert_eq!(packet.icmp.checksum_ok, Some(true));
        let quoted = packet.icmp.quoted().unwrap();
        assert_eq!(quoted.destination, IpAddr::V4(Ipv4Addr::new(10, 9, 12, 2)));
        assert_eq!(quoted.ttl, 1);
        assert_eq!(
            quoted.transport,
            QuotedTransport::Udp {
                source_port: 52475,
                destination_port: 33434,
                length: 40,
                checksum: 1
            }
        );
    }

    #[test]
    fn a_captured_port_unreachable_and_timestamp_reply_decode() {
        let packet = parse_ipv4_icmp(&from_hex(PORT_UNREACHABLE)).unwrap();
        assert_eq!(packet.icmp.code_name, Some("port-unreachable"));
        assert_eq!(packet.ip.ttl, 62);
        let packet = parse_ipv4_icmp(&from_hex(TIMESTAMP_REPLY)).unwrap();
        assert_eq!(packet.icmp.type_name, "timestamp-reply");
        assert!(matches!(
            packet.icmp.body,
            IcmpBody::Timestamp {
                originate: 0x00e9_6049,
                ..
            }
        ));
    }

    #[test]
    fn every_truncation_and_single_byte_corruption_is_an_error_or_a_value_never_a_panic() {
        for hex in [TIME_EXCEEDED, PORT_UNREACHABLE, TIMESTAMP_REPLY] {
            let packet = from_hex(hex);
            for len in 0..packet.len() {
                let _ = parse_ipv4_icmp(&packet[..len]);
                let _ = icmp::parse_v6(&packet[..len]);
            }
            for at in 0..packet.len() {
                for value in [0x00, 0x01, 0x0f, 0x40, 0x4f, 0x80, 0xff] {
                    let mut bent = packet.clone();
                    bent[at] = value;
                    let _ = parse_ipv4_icmp(&bent);
                    let _ = icmp::parse_v6(&bent[20..]);
                }
            }
        }
        // Cut inside the quote: the error says what is missing.
        let cut = from_hex(TIME_EXCEEDED);
        assert!(matches!(
            parse_ipv4_icmp(&cut[..30]),
            Err(WireError::Truncated { .. })
        ));
    }
}
