//! DNS messages (RFC 1035) for netdx's own resolver: the one-question query
//! it sends, and a checked reading of the reply into the records it needs.
//!
//! Replies are untrusted: every offset is checked before it is read, name
//! compression pointers may only point backwards (so they cannot loop) and a
//! name may not exceed 255 bytes, and anything short or inconsistent is a
//! [`WireError`], never a panic.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{WireError, be16, be32, need};

/// The fixed header: id, flags and the four section counts.
pub const HEADER_LEN: usize = 12;
const ID_AT: usize = 0;
const FLAGS_AT: usize = 2;
const QDCOUNT_AT: usize = 4;
const ANCOUNT_AT: usize = 6;
/// Flag bits of the second header word.
const FLAG_QR: u16 = 0x8000;
const OPCODE_MASK: u16 = 0x7800;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const RCODE_MASK: u16 = 0x000f;
/// Type, class (and in records: TTL and data length) after a name.
const QUESTION_TAIL: usize = 4;
const RECORD_TAIL: usize = 10;
/// The longest name on the wire, length bytes included.
pub const MAX_NAME: usize = 255;
/// The longest label.
pub const MAX_LABEL: usize = 63;
/// The top two bits of a length byte mark a compression pointer.
const POINTER: u8 = 0xc0;
/// Class IN.
pub const CLASS_IN: u16 = 1;

/// The record types netdx asks for or follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordType(pub u16);

impl RecordType {
    /// An IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// An alias for another name.
    pub const CNAME: RecordType = RecordType(5);
    /// The name of an address (under in-addr.arpa / ip6.arpa).
    pub const PTR: RecordType = RecordType(12);
    /// An IPv6 address.
    pub const AAAA: RecordType = RecordType(28);
}

/// The reply codes netdx tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rcode(pub u8);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// The server could not read the query.
    pub const FORMERR: Rcode = Rcode(1);
    /// The server failed (often: it could not reach the authorities).
    pub const SERVFAIL: Rcode = Rcode(2);
    /// The name does not exist.
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// The server refused to answer.
    pub const REFUSED: Rcode = Rcode(5);

    /// The mnemonic of RFC 1035 / 2136, as dig prints it.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            _ => "an unknown error",
        }
    }
}

/// The question of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked about, dotted, without the root's trailing dot.
    pub name: String,
    /// The type asked for.
    pub kind: RecordType,
    /// The class (IN).
    pub class: u16,
}

impl Question {
    /// Whether `other` asks the same (names compared without regard to case).
    pub fn matches(&self, other: &Question) -> bool {
        self.kind == other.kind
            && self.class == other.class
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

/// What a record of the answer section says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The owner is an alias of this name.
    Cname(String),
    /// The owner (an address's reverse name) is named this.
    Ptr(String),
    /// A type or class netdx does not use.
    Other(RecordType),
}

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Whose record it is.
    pub owner: String,
    /// How long it may be cached, seconds.
    pub ttl: u32,
    /// What it says.
    pub data: RecordData,
}

/// A reply, as far as netdx reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The query id it answers.
    pub id: u16,
    /// The reply code.
    pub rcode: Rcode,
    /// The server cut the reply short (TC): ask again over TCP.
    pub truncated: bool,
    /// The question it repeats (servers may leave it out of errors).
    pub question: Option<Question>,
    /// The answer section (as much of it as arrived, when truncated).
    pub answers: Vec<Record>,
}

/// Builds a recursive query for `name` (dotted, trailing dot optional).
pub fn emit_query(id: u16, name: &str, kind: RecordType) -> Result<Vec<u8>, WireError> {
    let mut message = Vec::with_capacity(HEADER_LEN + name.len() + 2 + QUESTION_TAIL);
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&FLAG_RD.to_be_bytes());
    message.extend_from_slice(&1u16.to_be_bytes()); // one question
    message.extend_from_slice(&[0; 6]); // no answers, authorities, additionals
    let name = name.strip_suffix('.').unwrap_or(name);
    let malformed = |why: String| WireError::Malformed {
        what: "DNS name",
        why,
    };
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > MAX_LABEL {
                return Err(malformed(format!(
                    "'{name}' has a label of {} bytes (1 to {MAX_LABEL})",
                    label.len()
                )));
            }
            message.push(label.len() as u8);
            message.extend_from_slice(label.as_bytes());
        }
    }
    message.push(0);
    if message.len() - HEADER_LEN > MAX_NAME {
        return Err(malformed(format!(
            "'{name}' is longer than {MAX_NAME} bytes"
        )));
    }
    message.extend_from_slice(&kind.0.to_be_bytes());
    message.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(message)
}

/// Reads a reply. A reply cut short with TC set keeps the records that
/// arrived whole; without TC, a short reply is an error.
pub fn parse_reply(message: &[u8]) -> Result<Reply, WireError> {
    need(message, HEADER_LEN, "DNS header")?;
    let flags = be16(message, FLAGS_AT);
    let malformed = |why: &str| WireError::Malformed {
        what: "DNS reply",
        why: why.into(),
    };
    if flags & FLAG_QR == 0 {
        return Err(malformed("a query, not a response"));
    }
    if flags & OPCODE_MASK != 0 {
        return Err(malformed("not a standard query's response"));
    }
    let truncated = flags & FLAG_TC != 0;
    let mut reply = Reply {
        id: be16(message, ID_AT),
        rcode: Rcode((flags & RCODE_MASK) as u8),
        truncated,
        question: None,
        answers: Vec::new(),
    };
    let mut at = HEADER_LEN;
    match be16(message, QDCOUNT_AT) {
        0 => {}
        1 => {
            let (name, end) = read_name(message, at)?;
            need(message, end + QUESTION_TAIL, "DNS question")?;
            reply.question = Some(Question {
                name,
                kind: RecordType(be16(message, end)),
                class: be16(message, end + 2),
            });
            at = end + QUESTION_TAIL;
        }
        _ => return Err(malformed("more than one question")),
    }
    for _ in 0..be16(message, ANCOUNT_AT) {
        match read_record(message, at) {
            Ok((record, end)) => {
                reply.answers.push(record);
                at = end;
            }
            Err(WireError::Truncated { .. }) if truncated => break,
            Err(err) => return Err(err),
        }
    }
    Ok(reply)
}

/// One resource record at `at`; returns it and where the next one starts.
fn read_record(message: &[u8], at: usize) -> Result<(Record, usize), WireError> {
    let (owner, end) = read_name(message, at)?;
    need(message, end + RECORD_TAIL, "DNS record")?;
    let kind = RecordType(be16(message, end));
    let class = be16(message, end + 2);
    let ttl = be32(message, end + 4);
    let length = usize::from(be16(message, end + 8));
    let start = end + RECORD_TAIL;
    let stop = start + length;
    need(message, stop, "DNS record data")?;
    let rdata = message.get(start..stop).unwrap_or_default();
    let bad_length = |what: &str| WireError::Malformed {
        what: "DNS record",
        why: format!("{what} record of {length} bytes"),
    };
    let data = match kind {
        _ if class != CLASS_IN => RecordData::Other(kind),
        RecordType::A => {
            let octets: [u8; 4] = rdata.try_into().map_err(|_| bad_length("an A"))?;
            RecordData::A(Ipv4Addr::from(octets))
        }
        RecordType::AAAA => {
            let octets: [u8; 16] = rdata.try_into().map_err(|_| bad_length("an AAAA"))?;
            RecordData::Aaaa(Ipv6Addr::from(octets))
        }
        RecordType::CNAME | RecordType::PTR => {
            let (name, name_end) = read_name(message, start)?;
            if name_end != stop {
                return Err(bad_length("a name"));
            }
            if kind == RecordType::CNAME {
                RecordData::Cname(name)
            } else {
                RecordData::Ptr(name)
            }
        }
        other => RecordData::Other(other),
    };
    Ok((Record { owner, ttl, data }, stop))
}

/// The name at `at` (following compression pointers) in presentation form,
/// and the offset just past it where it starts. Bytes other than letters,
/// digits, `-` and `_` are written `\DDD`, as dig does, so a hostile name
/// cannot carry dots or terminal controls.
pub fn read_name(message: &[u8], at: usize) -> Result<(String, usize), WireError> {
    let mut name = String::new();
    let mut position = at;
    let mut end = None;
    let mut wire_length = 0usize;
    let truncated = || WireError::Truncated {
        what: "DNS name",
        got: message.len(),
        need: message.len() + 1,
    };
    let malformed = |why: &str| WireError::Malformed {
        what: "DNS name",
        why: why.into(),
    };
    loop {
        let length = *message.get(position).ok_or_else(truncated)?;
        match length & POINTER {
            0 if length == 0 => {
                return Ok((name, end.unwrap_or(position + 1)));
            }
            0 => {
                let label = message
                    .get(position + 1..position + 1 + usize::from(length))
                    .ok_or_else(truncated)?;
                wire_length += 1 + label.len();
                if wire_length + 1 > MAX_NAME {
                    return Err(malformed("longer than 255 bytes"));
                }
                if !name.is_empty() {
                    name.push('.');
                }
                for &byte in label {
                    if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
                        name.push(char::from(byte));
                    } else {
                        let _ = write!(name, "\\{byte:03}");
                    }
                }
                position += 1 + label.len();
            }
            POINTER => {
                let low = *message.get(position + 1).ok_or_else(truncated)?;
                let target = usize::from(u16::from_be_bytes([length & !POINTER, low]));
                // Only backwards: every jump makes progress towards the start, so no loop.
                if target >= position {
                    return Err(malformed("a compression pointer that does not point back"));
                }
                end.get_or_insert(position + 2);
                position = target;
            }
            _ => return Err(malformed("an extended label type")),
        }
    }
}

/// The reverse-lookup name of an address: `4.3.2.1.in-addr.arpa`, or the
/// 32 nibbles of an IPv6 address under `ip6.arpa`.
pub fn reverse_name(address: &std::net::IpAddr) -> String {
    match address {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        std::net::IpAddr::V6(v6) => {
            let mut name = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                let _ = write!(name, "{:x}.{:x}.", byte & 0x0f, byte >> 4);
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A reply as a recursive server sends it: www.example.test is a CNAME
    /// for web.example.test (compressed against the question), which has an
    /// A and an AAAA record, and a record of a type netdx skips.
    pub(crate) fn cname_reply(id: u16) -> Vec<u8> {
        let mut m = emit_query(id, "www.example.test", RecordType::A).unwrap();
        m[2] = 0x81; // QR, RD
        m[3] = 0x80; // RA
        m[7] = 4; // four answers
        // www.example.test CNAME web.(example.test at offset 16)
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6]);
        let web_at = m.len() as u8;
        m.extend_from_slice(&[3, b'w', b'e', b'b', 0xc0, 16]);
        // web.example.test A 192.0.2.7
        m.extend_from_slice(&[0xc0, web_at, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
        // web.example.test AAAA 2001:db8::7
        m.extend_from_slice(&[0xc0, web_at, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
        m.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
        // web.example.test TXT "x"
        m.extend_from_slice(&[0xc0, web_at, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 1, b'x']);
        m
    }

    #[test]
    fn a_query_has_one_question_and_asks_for_recursion() {
        let query = emit_query(0xbeef, "a.example.test.", RecordType::AAAA).unwrap();
        assert_eq!(
            &query[..HEADER_LEN],
            &[0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            &query[HEADER_LEN..],
            b"\x01a\x07example\x04test\x00\x00\x1c\x00\x01"
        );
    }

    #[test]
    fn names_with_empty_or_long_labels_are_not_sent() {
        assert!(emit_query(1, "a..test", RecordType::A).is_err());
        assert!(emit_query(1, &"x".repeat(64), RecordType::A).is_err());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(emit_query(1, &long, RecordType::A).is_err());
    }

    #[test]
    fn a_reply_with_compressed_names_is_read_record_by_record() {
        let reply = parse_reply(&cname_reply(7)).unwrap();
        assert_eq!(
            (reply.id, reply.rcode, reply.truncated),
            (7, Rcode::NOERROR, false)
        );
        let question = reply.question.unwrap();
        assert_eq!(question.name, "www.example.test");
        assert_eq!(question.kind, RecordType::A);
        assert_eq!(
            reply.answers.iter().map(|r| &r.data).collect::<Vec<_>>(),
            [
                &RecordData::Cname("web.example.test".into()),
                &RecordData::A(Ipv4Addr::new(192, 0, 2, 7)),
                &RecordData::Aaaa("2001:db8::7".parse().unwrap()),
                &RecordData::Other(RecordType(16)),
            ]
        );
        assert_eq!(reply.answers[1].owner, "web.example.test");
        assert_eq!(reply.answers[1].ttl, 60);
    }

    #[test]
    fn a_query_is_not_taken_for_a_reply() {
        let query = emit_query(7, "x.test", RecordType::A).unwrap();
        assert!(parse_reply(&query).is_err());
    }

    #[test]
    fn pointers_that_loop_or_point_forward_are_refused() {
        let mut m = cname_reply(7);
        // The question's name becomes a pointer to itself.
        m[12] = 0xc0;
        m[13] = 12;
        assert!(parse_reply(&m).is_err());
        let mut m = cname_reply(7);
        m[13] = 0xc0;
        m[14] = 40; // forward
        assert!(matches!(
            read_name(&m, 13),
            Err(WireError::Malformed { .. })
        ));
    }

    #[test]
    fn strange_bytes_in_names_are_escaped() {
        let message = b"\x03a.\x1b\x00";
        assert_eq!(read_name(message, 0).unwrap().0, "a\\046\\027");
    }

    #[test]
    fn a_truncated_reply_with_tc_keeps_the_whole_records() {
        let mut m = cname_reply(7);
        m[2] |= 0x02; // TC
        let cut = m.len() - 20;
        let reply = parse_reply(&m[..cut]).unwrap();
        assert!(reply.truncated);
        assert_eq!(reply.answers.len(), 2);
        m[2] &= !0x02;
        assert!(parse_reply(&m[..cut]).is_err());
    }

    #[test]
    fn reverse_names_follow_rfc_1035_and_3596() {
        let v4 = "192.0.2.7".parse().unwrap();
        assert_eq!(reverse_name(&v4), "7.2.0.192.in-addr.arpa");
        let v6 = "2001:db8::567:89ab".parse().unwrap();
        assert_eq!(
            reverse_name(&v6),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn every_truncation_and_single_byte_corruption_is_survived() {
        let replies = [cname_reply(7), {
            let mut ptr = emit_query(9, "7.2.0.192.in-addr.arpa", RecordType::PTR).unwrap();
            ptr[2] = 0x81;
            ptr[7] = 1;
            ptr.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 1, 0, 8]);
            ptr.extend_from_slice(b"\x01h\x04test\x00");
            ptr
        }];
        for reply in &replies {
            assert!(parse_reply(reply).is_ok());
            for cut in 0..reply.len() {
                let _ = parse_reply(&reply[..cut]);
            }
            for at in 0..reply.len() {
                for value in [
                    0x00,
                    0xff,
                    0xc0,
                    0x3f,
                    0x40,
                    0x01,
                    reply[at] ^ 0x80,
                    reply[at].wrapping_add(1),
                ] {
                    let mut bad = reply.clone();
                    bad[at] = value;
                    let _ = parse_reply(&bad);
                }
            }
        }
    }

    #[test]
    fn pseudo_random_bytes_are_survived() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let length = (state % 96) as usize;
            let mut bytes: Vec<u8> = (0..length)
                .map(|i| (state.rotate_left(i as u32 * 5) & 0xff) as u8)
                .collect();
            if let Some(flags) = bytes.get_mut(2) {
                *flags |= 0x80;
            }
            let _ = parse_reply(&bytes);
        }
    }
}
