//! The original datagram an ICMP error quotes: its IP header and the first
//! eight bytes of what it carried, which is how an error is matched to the
//! probe that caused it.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv6Addr};

use schemars::JsonSchema;
use serde::Serialize;

use super::ipv4::{self, Ipv4Header};
use super::{WireError, be16, be32, need};

/// Bytes of the original's payload every ICMP error carries at least.
pub const TRANSPORT_MIN: usize = 8;
/// The fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Next-header numbers inside IPv6.
const NEXT_ICMPV6: u8 = 58;

/// A quoted original datagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Quoted {
    /// Source of the original.
    pub source: IpAddr,
    /// Destination of the original.
    pub destination: IpAddr,
    /// Its protocol (next header for IPv6).
    pub protocol: u8,
    /// Its TTL / hop limit as the reporting router saw it (usually 1 or 0).
    pub ttl: u8,
    /// The full IPv4 header, for IPv4 originals.
    pub ipv4: Option<Ipv4Header>,
    /// The first bytes of what the original carried.
    pub transport: QuotedTransport,
}

/// The quoted transport header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum QuotedTransport {
    /// An ICMP/ICMPv6 message: type, code, identifier, sequence.
    Icmp {
        /// Type.
        #[serde(rename = "type")]
        kind: u8,
        /// Code.
        code: u8,
        /// Identifier.
        ident: u16,
        /// Sequence.
        seq: u16,
    },
    /// A UDP header.
    Udp {
        /// Source port.
        source_port: u16,
        /// Destination port.
        destination_port: u16,
        /// Length field.
        length: u16,
        /// Checksum field.
        checksum: u16,
    },
    /// The first 8 bytes of a TCP header.
    Tcp {
        /// Source port.
        source_port: u16,
        /// Destination port.
        destination_port: u16,
        /// Sequence number.
        seq: u32,
    },
    /// Another protocol.
    Other,
}

/// Parses the quote inside an ICMPv4 error.
pub fn parse_v4(bytes: &[u8]) -> Result<Quoted, WireError> {
    let (header, header_len) = ipv4::parse_header(bytes, "quoted IPv4 header")?;
    let rest = &bytes[header_len..];
    Ok(Quoted {
        source: IpAddr::V4(header.source),
        destination: IpAddr::V4(header.destination),
        protocol: header.protocol,
        ttl: header.ttl,
        transport: transport(header.protocol, rest, ipv4::PROTO_ICMP)?,
        ipv4: Some(header),
    })
}

/// Parses the quote inside an ICMPv6 error (fixed header only: a quote whose
/// first next header is an extension header is reported as `Other`).
pub fn parse_v6(bytes: &[u8]) -> Result<Quoted, WireError> {
    need(bytes, IPV6_HEADER_LEN, "quoted IPv6 header")?;
    if bytes[0] >> 4 != 6 {
        return Err(WireError::Malformed {
            what: "quoted IPv6 header",
            why: format!("version {} is not 6", bytes[0] >> 4),
        });
    }
    let address = |at: usize| {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&bytes[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    let next = bytes[6];
    Ok(Quoted {
        source: address(8),
        destination: address(24),
        protocol: next,
        ttl: bytes[7],
        ipv4: None,
        transport: transport(next, &bytes[IPV6_HEADER_LEN..], NEXT_ICMPV6)?,
    })
}

fn transport(protocol: u8, rest: &[u8], icmp: u8) -> Result<QuotedTransport, WireError> {
    if protocol != icmp && protocol != ipv4::PROTO_UDP && protocol != ipv4::PROTO_TCP {
        return Ok(QuotedTransport::Other);
    }
    need(rest, TRANSPORT_MIN, "quoted transport header")?;
    Ok(if protocol == icmp {
        QuotedTransport::Icmp {
            kind: rest[0],
            code: rest[1],
            ident: be16(rest, 4),
            seq: be16(rest, 6),
        }
    } else if protocol == ipv4::PROTO_UDP {
        QuotedTransport::Udp {
            source_port: be16(rest, 0),
            destination_port: be16(rest, 2),
            length: be16(rest, 4),
            checksum: be16(rest, 6),
        }
    } else {
        QuotedTransport::Tcp {
            source_port: be16(rest, 0),
            destination_port: be16(rest, 2),
            seq: be32(rest, 4),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::emit;
    use std::net::Ipv4Addr;

    fn original(protocol: u8, transport: &[u8]) -> Vec<u8> {
        emit::ipv4_header(
            &emit::Ipv4Fields {
                tos: 0,
                identification: 5,
                dont_fragment: true,
                ttl: 1,
                protocol,
                source: Ipv4Addr::new(10, 0, 0, 1),
                destination: Ipv4Addr::new(10, 0, 3, 2),
            },
            transport,
        )
    }

    #[test]
    fn a_quoted_udp_probe_gives_its_ports_and_checksum() {
        let quoted = parse_v4(&original(17, &[0x82, 0x9a, 0, 53, 0, 10, 0, 7])).unwrap();
        assert_eq!(quoted.ttl, 1);
        assert_eq!(
            quoted.transport,
            QuotedTransport::Udp {
                source_port: 33434,
                destination_port: 53,
                length: 10,
                checksum: 7
            }
        );
    }

    #[test]
    fn a_quoted_tcp_probe_gives_its_sequence() {
        let quoted = parse_v4(&original(6, &[0, 80, 1, 187, 0, 0, 1, 2])).unwrap();
        assert_eq!(
            quoted.transport,
            QuotedTransport::Tcp {
                source_port: 80,
                destination_port: 443,
                seq: 258
            }
        );
    }

    #[test]
    fn a_quote_cut_inside_the_transport_header_is_an_error() {
        let bytes = original(1, &[8, 0, 0, 0, 0, 1]);
        assert!(matches!(parse_v4(&bytes), Err(WireError::Truncated { .. })));
        // Unknown protocols need no transport bytes.
        assert_eq!(
            parse_v4(&original(47, &[])).unwrap().transport,
            QuotedTransport::Other
        );
    }

    #[test]
    fn an_ipv6_quote_reads_addresses_and_the_echo_header() {
        let mut bytes = vec![0u8; 48];
        bytes[0] = 0x60;
        bytes[6] = 58;
        bytes[7] = 1;
        bytes[23] = 1;
        bytes[39] = 2;
        bytes[40..48].copy_from_slice(&[128, 0, 0, 0, 0, 3, 0, 4]);
        let quoted = parse_v6(&bytes).unwrap();
        assert_eq!(quoted.source, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            quoted.transport,
            QuotedTransport::Icmp {
                kind: 128,
                code: 0,
                ident: 3,
                seq: 4
            }
        );
        bytes[0] = 0x40;
        assert!(parse_v6(&bytes).is_err());
    }
}
