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
