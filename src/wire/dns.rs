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
/// Class CHAOS, where servers answer `version.bind` (RFC 1035 §3.2.4).
pub const CLASS_CH: u16 = 3;
/// The top bit of an mDNS question's class: "unicast response wanted" (RFC 6762 §5.4).
pub const CLASS_UNICAST_RESPONSE: u16 = 0x8000;

/// The record types netdx asks for or follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordType(pub u16);

impl RecordType {
    /// An IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// A zone's name servers.
    pub const NS: RecordType = RecordType(2);
    /// An alias for another name.
    pub const CNAME: RecordType = RecordType(5);
    /// The name of an address (under in-addr.arpa / ip6.arpa).
    pub const PTR: RecordType = RecordType(12);
    /// Text strings (`version.bind` answers in one).
    pub const TXT: RecordType = RecordType(16);
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
        self.mnemonic().unwrap_or("an unknown error")
    }

    /// The IANA mnemonic (RFC 1035, 2136, 6891's extended codes, 7873), if
    /// the code has one.
    pub fn mnemonic(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            16 => "BADVERS",
            17 => "BADKEY",
            18 => "BADTIME",
            19 => "BADMODE",
            20 => "BADNAME",
            21 => "BADALG",
            22 => "BADTRUNC",
            23 => "BADCOOKIE",
            _ => return None,
        })
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
    emit_question(
        id,
        true,
        &Question {
            name: name.to_string(),
            kind,
            class: CLASS_IN,
        },
    )
}

/// Builds a standard query with one `question` of any class, with
/// recursion desired (RD) or not.
pub fn emit_question(id: u16, recursion: bool, question: &Question) -> Result<Vec<u8>, WireError> {
    let name = question.name.as_str();
    let mut message = Vec::with_capacity(HEADER_LEN + name.len() + 2 + QUESTION_TAIL);
    message.extend_from_slice(&id.to_be_bytes());
    let flags = if recursion { FLAG_RD } else { 0 };
    message.extend_from_slice(&flags.to_be_bytes());
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
    message.extend_from_slice(&question.kind.0.to_be_bytes());
    message.extend_from_slice(&question.class.to_be_bytes());
    Ok(message)
}

/// A query, as far as netdx reads one (its own probes, in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The query id.
    pub id: u16,
    /// Recursion desired.
    pub recursion: bool,
    /// The one question.
    pub question: Question,
}

/// Reads a standard query with exactly one question and nothing else.
pub fn parse_query(message: &[u8]) -> Result<Query, WireError> {
    need(message, HEADER_LEN, "DNS header")?;
    let flags = be16(message, FLAGS_AT);
    let malformed = |why: &str| WireError::Malformed {
        what: "DNS query",
        why: why.into(),
    };
    if flags & FLAG_QR != 0 {
        return Err(malformed("a response, not a query"));
    }
    if flags & OPCODE_MASK != 0 {
        return Err(malformed("not a standard query"));
    }
    if be16(message, QDCOUNT_AT) != 1 || message[ANCOUNT_AT..HEADER_LEN].iter().any(|&b| b != 0) {
        return Err(malformed("not exactly one question and no records"));
    }
    let (name, end) = read_name(message, HEADER_LEN)?;
    need(message, end + QUESTION_TAIL, "DNS question")?;
    if message.len() != end + QUESTION_TAIL {
        return Err(malformed("bytes after the question"));
    }
    Ok(Query {
        id: be16(message, ID_AT),
        recursion: flags & FLAG_RD != 0,
        question: Question {
            name,
            kind: RecordType(be16(message, end)),
            class: be16(message, end + 2),
        },
    })
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

/// One step of a name as it lies in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStep<'a> {
    /// A label (its length byte at `at`).
    Label {
        /// Offset of the length byte.
        at: usize,
        /// The label's bytes.
        bytes: &'a [u8],
    },
    /// A compression pointer at `at` to the rest of the name at `target`.
    Pointer {
        /// Offset of the pointer's first byte.
        at: usize,
        /// Where the rest of the name is.
        target: usize,
    },
    /// The root label (a zero byte) that ends the name.
    Root {
        /// Offset of the zero byte.
        at: usize,
    },
}

/// Walks the name at `at`, following compression pointers, calling `step`
/// for each label, pointer and the final root; returns the offset just past
/// the name where it starts. Pointers may only point backwards (so they
/// cannot loop) and the name may not exceed 255 bytes.
pub fn walk_name<'a>(
    message: &'a [u8],
    at: usize,
    mut step: impl FnMut(NameStep<'a>),
) -> Result<usize, WireError> {
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
                step(NameStep::Root { at: position });
                return Ok(end.unwrap_or(position + 1));
            }
            0 => {
                let label = message
                    .get(position + 1..position + 1 + usize::from(length))
                    .ok_or_else(truncated)?;
                wire_length += 1 + label.len();
                if wire_length + 1 > MAX_NAME {
                    return Err(malformed("longer than 255 bytes"));
                }
                step(NameStep::Label {
                    at: position,
                    bytes: label,
                });
                position += 1 + label.len();
            }
            POINTER => {
                let low = *message.get(position + 1).ok_or_else(truncated)?;
                let target = usize::from(u16::from_be_bytes([length & !POINTER, low]));
                // Only backwards: every jump makes progress towards the start, so no loop.
                if target >= position {
                    return Err(malformed("a compression pointer that does not point back"));
                }
                step(NameStep::Pointer {
                    at: position,
                    target,
                });
                end.get_or_insert(position + 2);
                position = target;
            }
            _ => return Err(malformed("an extended label type")),
        }
    }
}

/// A label in presentation form: bytes other than letters, digits, `-`
/// and `_` written `\DDD`, as dig does, so a hostile name cannot carry
/// dots or terminal controls.
pub fn label_text(label: &[u8], into: &mut String) {
    for &byte in label {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            into.push(char::from(byte));
        } else {
            let _ = write!(into, "\\{byte:03}");
        }
    }
}

/// The name at `at` (following compression pointers) in presentation form,
/// without the root's trailing dot, and the offset just past it where it
/// starts; labels written by [`label_text`].
pub fn read_name(message: &[u8], at: usize) -> Result<(String, usize), WireError> {
    let mut name = String::new();
    let end = walk_name(message, at, |step| {
        if let NameStep::Label { bytes, .. } = step {
            if !name.is_empty() {
                name.push('.');
            }
            label_text(bytes, &mut name);
        }
    })?;
    Ok((name, end))
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
#[path = "dns_tests.rs"]
pub(crate) mod tests;
