//! ICMP and ICMPv6 messages: pnet's `IcmpPacket`/`Icmpv6Packet` views, read
//! into one parsed form that says what the message is.
#![forbid(unsafe_code)]

use pnet_packet::icmp::{self, IcmpPacket};
use schemars::JsonSchema;
use serde::Serialize;

use super::quoted::{self, Quoted};
use super::{WireError, be16, be32, names, need};

/// Type, code, checksum and the 4-byte rest of header.
pub const HEADER_LEN: usize = 8;
/// Largest echo payload over IPv4 (65535 − 20 IP − 8 ICMP).
pub const MAX_PAYLOAD_V4: usize = 65_507;
/// Largest echo payload over IPv6 (65535 − 8 ICMPv6; the IPv6 header is not counted).
pub const MAX_PAYLOAD_V6: usize = 65_527;
/// Offset of the rest-of-header word (identifier / unused / MTU / pointer).
const REST_AT: usize = 4;
/// Identifier and sequence in echo-like messages.
const IDENT_AT: usize = 4;
const SEQ_AT: usize = 6;
/// Timestamp messages: three 32-bit times after the echo-like header.
const TIMESTAMP_LEN: usize = HEADER_LEN + 12;

/// ICMPv4 type numbers netdx knows by shape.
pub mod v4 {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: u8 = 3;
    /// Source quench.
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
    /// Information request (obsolete; echo-shaped).
    pub const INFO_REQUEST: u8 = 15;
    /// Address mask request (echo-shaped).
    pub const ADDRESS_MASK_REQUEST: u8 = 17;
    /// Information request / reply, address mask request / reply: echo-shaped.
    pub const ECHO_SHAPED: [u8; 4] = [15, 16, 17, 18];
    /// Destination unreachable: protocol unreachable.
    pub const PROTOCOL_UNREACHABLE: u8 = 2;
    /// Destination unreachable: port unreachable.
    pub const PORT_UNREACHABLE: u8 = 3;
}

/// ICMPv6 type numbers netdx knows by shape.
pub mod v6 {
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: u8 = 1;
    /// Packet too big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 4;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Destination unreachable: port unreachable.
    pub const PORT_UNREACHABLE: u8 = 4;
}

/// The echo request type of ICMP (`v6 == false`) or ICMPv6.
pub fn echo_request(v6: bool) -> u8 {
    if v6 {
        v6::ECHO_REQUEST
    } else {
        v4::ECHO_REQUEST
    }
}

/// The echo reply type of ICMP (`v6 == false`) or ICMPv6.
pub fn echo_reply(v6: bool) -> u8 {
    if v6 { v6::ECHO_REPLY } else { v4::ECHO_REPLY }
}

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IcmpMessage {
    /// ICMPv6 rather than ICMP.
    pub v6: bool,
    /// Type number.
    #[serde(rename = "type")]
    pub kind: u8,
    /// The type's name (`echo-reply`, `time-exceeded`).
    pub type_name: &'static str,
    /// Code number.
    pub code: u8,
    /// The code's name where the type defines one (`port-unreachable`).
    pub code_name: Option<&'static str>,
    /// Checksum field.
    pub checksum: u16,
    /// Whether it verifies; `null` for ICMPv6, which the kernel verifies (with
    /// the pseudo-header) before any socket sees the message.
    pub checksum_ok: Option<bool>,
    /// Length of the whole message.
    pub length: usize,
    /// What follows the type/code/checksum.
    pub body: IcmpBody,
}

/// The body of an ICMP message, by shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum IcmpBody {
    /// Echo request/reply and other identifier/sequence messages.
    Echo {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Data after the header, in lowercase hex.
        #[serde(serialize_with = "hex")]
        #[schemars(with = "String", extend("pattern" = "^([0-9a-f]{2})*$"))]
        payload: Vec<u8>,
    },
    /// Timestamp request/reply (RFC 792): milliseconds since midnight UT.
    Timestamp {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// When the request left its sender.
        originate: u32,
        /// When the replier received it.
        receive: u32,
        /// When the replier sent the reply.
        transmit: u32,
    },
    /// An error about a datagram, which it quotes.
    Error {
        /// The rest-of-header word: next-hop MTU (fragmentation needed,
        /// packet too big), pointer (parameter problem), gateway (redirect).
        info: u32,
        /// The quoted original datagram.
        quoted: Quoted,
    },
    /// Any other message: its rest-of-header word and data.
    Other {
        /// Rest of header.
        rest: u32,
        /// Data after the header, in lowercase hex.
        #[serde(serialize_with = "hex")]
        #[schemars(with = "String", extend("pattern" = "^([0-9a-f]{2})*$"))]
        payload: Vec<u8>,
    },
}

impl IcmpMessage {
    /// Identifier and sequence, for echo-shaped and timestamp messages.
    pub fn ident_seq(&self) -> Option<(u16, u16)> {
        match &self.body {
            IcmpBody::Echo { ident, seq, .. } | IcmpBody::Timestamp { ident, seq, .. } => {
                Some((*ident, *seq))
            }
            _ => None,
        }
    }

    /// The quoted original of an error message.
    pub fn quoted(&self) -> Option<&Quoted> {
        match &self.body {
            IcmpBody::Error { quoted, .. } => Some(quoted),
            _ => None,
        }
    }

    /// Whether the message is an error (quotes a datagram).
    pub fn is_error(&self) -> bool {
        matches!(self.body, IcmpBody::Error { .. })
    }
}

fn hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.serialize_str(&text)
}

/// Parses an ICMP (`v6 == false`) or ICMPv6 message that starts at its
/// own header.
pub fn parse(bytes: &[u8], v6: bool) -> Result<IcmpMessage, WireError> {
    if v6 { parse_v6(bytes) } else { parse_v4(bytes) }
}

/// Parses an ICMPv4 message and verifies its checksum.
pub fn parse_v4(bytes: &[u8]) -> Result<IcmpMessage, WireError> {
    need(bytes, HEADER_LEN, "ICMP header")?;
    let view = IcmpPacket::new(bytes).ok_or(WireError::Truncated {
        what: "ICMP header",
        got: bytes.len(),
        need: HEADER_LEN,
    })?;
    let kind = view.get_icmp_type().0;
    let code = view.get_icmp_code().0;
    let checksum = view.get_checksum();
    let checksum_ok = Some(icmp::checksum(&view) == checksum);
    let body = match kind {
        v4::ECHO_REPLY | v4::ECHO_REQUEST => echo(bytes),
        k if v4::ECHO_SHAPED.contains(&k) => echo(bytes),
        v4::TIMESTAMP | v4::TIMESTAMP_REPLY => timestamp(bytes)?,
        v4::DEST_UNREACHABLE
        | v4::SOURCE_QUENCH
        | v4::REDIRECT
        | v4::TIME_EXCEEDED
        | v4::PARAMETER_PROBLEM => IcmpBody::Error {
            info: be32(bytes, REST_AT),
            quoted: quoted::parse_v4(&bytes[HEADER_LEN..])?,
        },
        _ => other(bytes),
    };
    Ok(IcmpMessage {
        v6: false,
        kind,
        type_name: names::icmp_type(kind),
        code,
        code_name: names::icmp_code(kind, code),
        checksum,
        checksum_ok,
        length: bytes.len(),
        body,
    })
}

/// Parses an ICMPv6 message as an ICMPv6 raw socket delivers it (no IPv6
/// header; the kernel has verified the checksum).
pub fn parse_v6(bytes: &[u8]) -> Result<IcmpMessage, WireError> {
    need(bytes, HEADER_LEN, "ICMPv6 header")?;
    let kind = bytes[0];
    let code = bytes[1];
    let body = match kind {
        v6::ECHO_REQUEST | v6::ECHO_REPLY => echo(bytes),
        v6::DEST_UNREACHABLE | v6::PACKET_TOO_BIG | v6::TIME_EXCEEDED | v6::PARAMETER_PROBLEM => {
            IcmpBody::Error {
                info: be32(bytes, REST_AT),
                quoted: quoted::parse_v6(&bytes[HEADER_LEN..])?,
            }
        }
        _ => other(bytes),
    };
    Ok(IcmpMessage {
        v6: true,
        kind,
        type_name: names::icmpv6_type(kind),
        code,
        code_name: names::icmpv6_code(kind, code),
        checksum: be16(bytes, 2),
        checksum_ok: None,
        length: bytes.len(),
        body,
    })
}

fn echo(bytes: &[u8]) -> IcmpBody {
    IcmpBody::Echo {
        ident: be16(bytes, IDENT_AT),
        seq: be16(bytes, SEQ_AT),
        payload: bytes[HEADER_LEN..].to_vec(),
    }
}

fn timestamp(bytes: &[u8]) -> Result<IcmpBody, WireError> {
    need(bytes, TIMESTAMP_LEN, "ICMP timestamp message")?;
    Ok(IcmpBody::Timestamp {
        ident: be16(bytes, IDENT_AT),
        seq: be16(bytes, SEQ_AT),
        originate: be32(bytes, HEADER_LEN),
        receive: be32(bytes, HEADER_LEN + 4),
        transmit: be32(bytes, HEADER_LEN + 8),
    })
}

fn other(bytes: &[u8]) -> IcmpBody {
    IcmpBody::Other {
        rest: be32(bytes, REST_AT),
        payload: bytes[HEADER_LEN..].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::emit;

    #[test]
    fn an_echo_request_built_by_emit_parses_with_a_good_checksum() {
        let bytes = emit::icmp_v4(v4::ECHO_REQUEST, 0, emit::ident_seq(7, 9), b"hi", false);
        let message = parse_v4(&bytes).unwrap();
        assert_eq!(message.type_name, "echo-request");
        assert_eq!(message.checksum_ok, Some(true));
        assert_eq!(message.ident_seq(), Some((7, 9)));
    }

    #[test]
    fn bad_checksum_on_purpose_is_seen_as_bad() {
        let bytes = emit::icmp_v4(v4::ECHO_REQUEST, 0, emit::ident_seq(7, 9), b"hi", true);
        assert_eq!(parse_v4(&bytes).unwrap().checksum_ok, Some(false));
    }

    #[test]
    fn a_timestamp_reply_reads_its_three_times() {
        let mut data = Vec::new();
        for t in [1u32, 2, 3] {
            data.extend_from_slice(&t.to_be_bytes());
        }
        let bytes = emit::icmp_v4(v4::TIMESTAMP_REPLY, 0, emit::ident_seq(1, 2), &data, false);
        let message = parse_v4(&bytes).unwrap();
        assert_eq!(
            message.body,
            IcmpBody::Timestamp {
                ident: 1,
                seq: 2,
                originate: 1,
                receive: 2,
                transmit: 3
            }
        );
        assert!(matches!(
            parse_v4(&bytes[..12]),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn short_messages_are_truncated_errors_never_panics() {
        for len in 0..HEADER_LEN {
            assert!(parse_v4(&vec![3; len]).is_err());
            assert!(parse_v6(&vec![1; len]).is_err());
        }
        // An error message whose quote is cut short.
        assert!(parse_v4(&[11, 0, 0, 0, 0, 0, 0, 0, 0x45, 0]).is_err());
        assert!(parse_v6(&[3, 0, 0, 0, 0, 0, 0, 0, 0x60]).is_err());
    }

    #[test]
    fn unknown_types_keep_their_bytes() {
        let bytes = emit::icmp_v4(42, 1, [1, 2, 3, 4], b"xyz", false);
        let message = parse_v4(&bytes).unwrap();
        assert_eq!(message.type_name, "unknown");
        assert_eq!(
            message.body,
            IcmpBody::Other {
                rest: 0x0102_0304,
                payload: b"xyz".to_vec()
            }
        );
    }
}
