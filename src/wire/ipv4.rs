//! The IPv4 header: a checked view (pnet's `Ipv4Packet`) and its parsed form.
#![forbid(unsafe_code)]

use std::net::Ipv4Addr;

use pnet_packet::ipv4::{self, Ipv4Packet};
use schemars::JsonSchema;
use serde::Serialize;

use super::{WireError, need};

/// Smallest IPv4 header (IHL 5).
pub const HEADER_MIN: usize = 20;
/// Protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// Protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// Protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// The DF bit in the 3-bit flags field.
pub const FLAG_DF: u8 = 0b010;
/// The MF bit in the 3-bit flags field.
pub const FLAG_MF: u8 = 0b001;
/// The fragment offset field counts 8-byte units.
pub const FRAGMENT_UNIT: usize = 8;
/// An Ethernet header before the IP header, in frames read off a link.
pub const ETHERNET_HEADER: usize = 14;
/// EtherType of IPv4 (ETH_P_IP), for binding a packet socket.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// Where the EtherType sits in an Ethernet header.
const ETHERTYPE_AT: usize = 12;

/// An IPv4 header as read off the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Ipv4Header {
    /// Version field (4).
    pub version: u8,
    /// Header length in 32-bit words.
    pub ihl: u8,
    /// Type of service byte (DSCP + ECN).
    pub tos: u8,
    /// Total length field.
    pub total_length: u16,
    /// Identification.
    pub identification: u16,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// More Fragments.
    pub more_fragments: bool,
    /// Fragment offset, in 8-byte units.
    pub fragment_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number.
    pub protocol: u8,
    /// Header checksum field.
    pub checksum: u16,
    /// Whether the header checksum verifies (`null` when the header was
    /// quoted inside an ICMP error: routers rewrite TTL, so it need not).
    pub checksum_ok: Option<bool>,
    /// Source address.
    pub source: Ipv4Addr,
    /// Destination address.
    pub destination: Ipv4Addr,
}

impl Ipv4Header {
    /// Where this fragment's data starts in the original datagram, in bytes.
    pub fn fragment_offset_bytes(&self) -> usize {
        usize::from(self.fragment_offset) * FRAGMENT_UNIT
    }

    /// A piece of a larger datagram: more fragments follow, or it is not the first.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }
}

/// Reads an Ethernet frame carrying IPv4 (as an AF_PACKET socket delivers
/// it): the IPv4 header and the payload it bounds. Another EtherType or a
/// cut frame is an error.
pub fn parse_frame(frame: &[u8]) -> Result<(Ipv4Header, &[u8]), WireError> {
    need(frame, ETHERNET_HEADER, "Ethernet header")?;
    let ethertype = super::be16(frame, ETHERTYPE_AT);
    if ethertype != ETHERTYPE_IPV4 {
        return Err(WireError::Malformed {
            what: "Ethernet header",
            why: format!("EtherType 0x{ethertype:04x} is not IPv4"),
        });
    }
    parse(frame.get(ETHERNET_HEADER..).unwrap_or_default())
}

/// Reads an IPv4 header off `bytes` and returns it with the payload it
/// bounds (`total_length`, or what was captured when less).
pub fn parse(bytes: &[u8]) -> Result<(Ipv4Header, &[u8]), WireError> {
    let (header, header_len) = parse_header(bytes, "IPv4 header")?;
    let total = usize::from(header.total_length);
    if total < header_len {
        return Err(WireError::Malformed {
            what: "IPv4 header",
            why: format!("total length {total} is shorter than its header ({header_len})"),
        });
    }
    let end = total.min(bytes.len());
    let view = Ipv4Packet::new(bytes).ok_or(WireError::Truncated {
        what: "IPv4 header",
        got: bytes.len(),
        need: HEADER_MIN,
    })?;
    let header = Ipv4Header {
        checksum_ok: Some(ipv4::checksum(&view) == header.checksum),
        ..header
    };
    Ok((header, bytes.get(header_len..end).unwrap_or_default()))
}

/// Reads the fields of an IPv4 header (no checksum verdict); returns the
/// header length in bytes too.
pub fn parse_header(bytes: &[u8], what: &'static str) -> Result<(Ipv4Header, usize), WireError> {
    need(bytes, HEADER_MIN, what)?;
    let view = Ipv4Packet::new(bytes).ok_or(WireError::Truncated {
        what,
        got: bytes.len(),
        need: HEADER_MIN,
    })?;
    if view.get_version() != 4 {
        return Err(WireError::Malformed {
            what,
            why: format!("version {} is not 4", view.get_version()),
        });
    }
    let header_len = usize::from(view.get_header_length()) * 4;
    if header_len < HEADER_MIN {
        return Err(WireError::Malformed {
            what,
            why: format!("IHL {} is below 5", view.get_header_length()),
        });
    }
    need(bytes, header_len, what)?;
    let flags = view.get_flags();
    Ok((
        Ipv4Header {
            version: 4,
            ihl: view.get_header_length(),
            tos: (view.get_dscp() << 2) | view.get_ecn(),
            total_length: view.get_total_length(),
            identification: view.get_identification(),
            dont_fragment: flags & FLAG_DF != 0,
            more_fragments: flags & FLAG_MF != 0,
            fragment_offset: view.get_fragment_offset(),
            ttl: view.get_ttl(),
            protocol: view.get_next_level_protocol().0,
            checksum: view.get_checksum(),
            checksum_ok: None,
            source: view.get_source(),
            destination: view.get_destination(),
        },
        header_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::emit;

    #[test]
    fn a_header_built_by_emit_reads_back_with_a_good_checksum() {
        let bytes = emit::ipv4_header(
            &emit::Ipv4Fields {
                tos: 0x10,
                identification: 0x1234,
                dont_fragment: true,
                ttl: 9,
                protocol: PROTO_ICMP,
                source: Ipv4Addr::new(10, 0, 0, 1),
                destination: Ipv4Addr::new(10, 0, 0, 2),
            },
            &[8, 0, 0, 0, 0, 0, 0, 0],
        );
        let (header, payload) = parse(&bytes).unwrap();
        assert_eq!(header.ttl, 9);
        assert_eq!(header.tos, 0x10);
        assert!(header.dont_fragment && !header.more_fragments);
        assert_eq!(header.identification, 0x1234);
        assert_eq!(header.checksum_ok, Some(true));
        assert_eq!(payload.len(), 8);
    }

    #[test]
    fn a_flipped_bit_makes_the_header_checksum_bad() {
        let mut bytes = emit::ipv4_header(
            &emit::Ipv4Fields {
                tos: 0,
                identification: 1,
                dont_fragment: false,
                ttl: 64,
                protocol: PROTO_ICMP,
                source: Ipv4Addr::LOCALHOST,
                destination: Ipv4Addr::LOCALHOST,
            },
            &[],
        );
        bytes[8] ^= 1;
        assert_eq!(parse(&bytes).unwrap().0.checksum_ok, Some(false));
    }

    /// The second fragment of a 1473-byte UDP datagram over a 1500-byte
    /// MTU, as a packet socket captured it: 1 byte of data at offset 1480.
    fn second_fragment() -> Vec<u8> {
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend_from_slice(&[
            0x45, 0, 0, 21, 0xbe, 0xef, 0x00, 185, 64, PROTO_UDP, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
            b'x',
        ]);
        frame.resize(60, 0); // the Ethernet minimum: padding after the datagram
        frame
    }

    #[test]
    fn a_captured_fragment_reads_with_its_identification_flags_and_offset() {
        let frame = second_fragment();
        let (header, payload) = parse_frame(&frame).unwrap();
        assert_eq!(header.identification, 0xbeef);
        assert!(!header.more_fragments && !header.dont_fragment);
        assert_eq!(header.fragment_offset, 185);
        assert_eq!(header.fragment_offset_bytes(), 1480);
        assert!(header.is_fragment());
        assert_eq!(header.total_length, 21);
        assert_eq!(payload, b"x", "the padding is not payload");
        let mut first = frame.clone();
        first[ETHERNET_HEADER + 6] = 0x20; // MF, offset 0
        first[ETHERNET_HEADER + 7] = 0;
        let (header, _) = parse_frame(&first).unwrap();
        assert!(header.more_fragments && header.is_fragment());
        assert_eq!(header.fragment_offset_bytes(), 0);
    }

    #[test]
    fn frames_cut_anywhere_or_of_another_ethertype_are_errors() {
        let frame = second_fragment();
        for len in 0..ETHERNET_HEADER + HEADER_MIN {
            assert!(parse_frame(&frame[..len]).is_err(), "{len} bytes");
        }
        let mut arp = frame.clone();
        arp[ETHERTYPE_AT + 1] = 0x06;
        assert!(matches!(
            parse_frame(&arp),
            Err(WireError::Malformed { .. })
        ));
        for at in 0..frame.len() {
            let mut noise = frame.clone();
            noise[at] ^= 0xa5;
            let _ = parse_frame(&noise);
        }
    }

    #[test]
    fn short_wrong_version_and_bad_lengths_are_errors() {
        assert!(matches!(
            parse(&[0x45; 19]),
            Err(WireError::Truncated { .. })
        ));
        let mut v6 = [0u8; 20];
        v6[0] = 0x65;
        assert!(matches!(parse(&v6), Err(WireError::Malformed { .. })));
        let mut ihl4 = [0u8; 20];
        ihl4[0] = 0x44;
        assert!(matches!(parse(&ihl4), Err(WireError::Malformed { .. })));
        let mut ihl15 = [0u8; 24];
        ihl15[0] = 0x4f;
        assert!(matches!(parse(&ihl15), Err(WireError::Truncated { .. })));
        let mut short_total = [0u8; 28];
        short_total[0] = 0x45;
        short_total[3] = 10;
        assert!(matches!(
            parse(&short_total),
            Err(WireError::Malformed { .. })
        ));
    }
}
