//! A DNS message as it lies on the wire, for `netdx dns --wire`: every
//! header field, each question and record at its offset, and every name as
//! the labels and compression pointers it is made of.
//!
//! The reading is as forgiving as it can be while staying checked: it keeps
//! what it could read and says where and why it stopped, so a truncated or
//! hostile message is shown up to its fault rather than refused whole.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use schemars::JsonSchema;
use serde::Serialize;

use super::dns::{HEADER_LEN, NameStep, label_text, walk_name};
use super::{WireError, be16, be32, need};

/// The OPT pseudo-record of EDNS0 (RFC 6891).
pub const TYPE_OPT: u16 = 41;

/// One message, field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Layout {
    /// The message's length in bytes.
    pub size: usize,
    /// The twelve-byte header.
    pub header: HeaderFields,
    /// The question section.
    pub question: Vec<QuestionField>,
    /// The answer section.
    pub answer: Vec<RecordField>,
    /// The authority section.
    pub authority: Vec<RecordField>,
    /// The additional section (the OPT record among them).
    pub additional: Vec<RecordField>,
    /// Bytes after the last record the counts announce.
    pub trailing: usize,
    /// Where and why the reading stopped early; null when the whole message was read.
    pub problem: Option<Problem>,
    /// The message's bytes in hex.
    pub hex: String,
}

/// The header: the ID, the flag word split into its fields, the four counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HeaderFields {
    /// Bytes 0–1: the query ID, echoed by the response.
    pub id: u16,
    /// Bytes 2–3 as one word.
    pub flags: u16,
    /// Bit 15: 0 a query, 1 a response.
    pub qr: bool,
    /// Bits 14–11: 0 QUERY, 1 IQUERY, 2 STATUS, 4 NOTIFY, 5 UPDATE.
    pub opcode: u8,
    /// Bit 10: authoritative answer.
    pub aa: bool,
    /// Bit 9: truncated.
    pub tc: bool,
    /// Bit 8: recursion desired.
    pub rd: bool,
    /// Bit 7: recursion available.
    pub ra: bool,
    /// Bit 6: reserved, must be zero.
    pub z: bool,
    /// Bit 5: authentic data (the resolver validated it).
    pub ad: bool,
    /// Bit 4: checking disabled.
    pub cd: bool,
    /// Bits 3–0: the response code (OPT's TTL holds eight more bits).
    pub rcode: u8,
    /// Bytes 4–5: questions.
    pub qdcount: u16,
    /// Bytes 6–7: answer records.
    pub ancount: u16,
    /// Bytes 8–9: authority records.
    pub nscount: u16,
    /// Bytes 10–11: additional records.
    pub arcount: u16,
}

/// A name where it appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NameField {
    /// Where the name starts.
    pub offset: usize,
    /// The bytes it takes here (a pointer ends it after two bytes).
    pub length: usize,
    /// The whole name, with the root's dot.
    pub text: String,
    /// Its labels and pointers, in the order they are read.
    pub parts: Vec<NamePart>,
}

/// One piece of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum NamePart {
    /// A length byte and that many bytes.
    Label {
        /// Offset of the length byte.
        offset: usize,
        /// The label.
        text: String,
    },
    /// Two bytes (top bits 11) pointing at the rest of the name.
    Pointer {
        /// Offset of the pointer.
        offset: usize,
        /// Where it points.
        target: usize,
    },
    /// The zero byte that ends a name.
    Root {
        /// Its offset.
        offset: usize,
    },
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct QuestionField {
    /// Where it starts.
    pub offset: usize,
    /// The name asked about.
    pub name: NameField,
    /// The type asked for.
    pub rtype: u16,
    /// The class.
    pub class: u16,
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RecordField {
    /// Where it starts.
    pub offset: usize,
    /// The owner name.
    pub name: NameField,
    /// The type.
    pub rtype: u16,
    /// The class (for OPT: the sender's UDP payload size).
    pub class: u16,
    /// The TTL (for OPT: extended RCODE, version and the DO bit).
    pub ttl: u32,
    /// RDLENGTH: the data's length.
    pub rdlength: u16,
    /// Where the data starts.
    pub rdata_offset: usize,
    /// The names inside the data (NS, CNAME, PTR, MX, SOA, SRV), compression shown.
    pub rdata_names: Vec<NameField>,
    /// The data read for the simple types (an address, a name), else null.
    pub data: Option<String>,
}

/// Where the reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Problem {
    /// The offset of the field that could not be read.
    pub offset: usize,
    /// Why.
    pub reason: String,
}

/// Reads `message` field by field.
pub fn layout(message: &[u8]) -> Layout {
    let word = |at| be16(message, at);
    let flags = word(2);
    let bit = |n: u16| flags & (1 << n) != 0;
    let mut layout = Layout {
        size: message.len(),
        header: HeaderFields {
            id: word(0),
            flags,
            qr: bit(15),
            opcode: ((flags >> 11) & 0x0f) as u8,
            aa: bit(10),
            tc: bit(9),
            rd: bit(8),
            ra: bit(7),
            z: bit(6),
            ad: bit(5),
            cd: bit(4),
            rcode: (flags & 0x0f) as u8,
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        },
        question: Vec::new(),
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
        trailing: 0,
        problem: None,
        hex: message.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        }),
    };
    if message.len() < HEADER_LEN {
        layout.problem = Some(Problem {
            offset: 0,
            reason: format!(
                "{} bytes, shorter than the {HEADER_LEN}-byte header",
                message.len()
            ),
        });
        return layout;
    }
    match read_sections(message, &mut layout) {
        Ok(end) => layout.trailing = message.len() - end,
        Err((offset, err)) => {
            layout.problem = Some(Problem {
                offset,
                reason: err.to_string(),
            })
        }
    }
    layout
}

fn read_sections(message: &[u8], layout: &mut Layout) -> Result<usize, (usize, WireError)> {
    let mut at = HEADER_LEN;
    for _ in 0..layout.header.qdcount {
        let name = name_field(message, at).map_err(|err| (at, err))?;
        let tail = at + name.length;
        need(message, tail + 4, "DNS question").map_err(|err| (tail, err))?;
        layout.question.push(QuestionField {
            offset: at,
            rtype: be16(message, tail),
            class: be16(message, tail + 2),
            name,
        });
        at = tail + 4;
    }
    let counts = [
        layout.header.ancount,
        layout.header.nscount,
        layout.header.arcount,
    ];
    for (section, count) in counts.into_iter().enumerate() {
        for _ in 0..count {
            let record = record_field(message, at)?;
            at = record.rdata_offset + usize::from(record.rdlength);
            match section {
                0 => layout.answer.push(record),
                1 => layout.authority.push(record),
                _ => layout.additional.push(record),
            }
        }
    }
    Ok(at)
}

fn record_field(message: &[u8], at: usize) -> Result<RecordField, (usize, WireError)> {
    let name = name_field(message, at).map_err(|err| (at, err))?;
    let tail = at + name.length;
    need(message, tail + 10, "DNS record").map_err(|err| (tail, err))?;
    let rtype = be16(message, tail);
    let rdlength = be16(message, tail + 8);
    let start = tail + 10;
    let stop = start + usize::from(rdlength);
    need(message, stop, "DNS record data").map_err(|err| (start, err))?;
    let rdata = &message[start..stop];
    // Where the names inside the data start, by type.
    let name_offsets: &[usize] = match rtype {
        2 | 5 | 12 | 39 => &[0], // NS, CNAME, PTR, DNAME
        15 => &[2],              // MX: after the preference
        33 => &[6],              // SRV: after priority, weight, port
        6 => &[0, usize::MAX],   // SOA: MNAME, then RNAME after it
        _ => &[],
    };
    let mut rdata_names: Vec<NameField> = Vec::new();
    for &relative in name_offsets {
        let offset = match (relative, rdata_names.last()) {
            (usize::MAX, Some(previous)) => previous.offset + previous.length,
            (usize::MAX, None) => break,
            (relative, _) => start + relative,
        };
        if offset >= stop {
            return Err((offset, malformed("a name past the record's data")));
        }
        let name = name_field(message, offset).map_err(|err| (offset, err))?;
        if offset + name.length > stop {
            return Err((offset, malformed("a name running past the record's data")));
        }
        rdata_names.push(name);
    }
    let data = match (rtype, rdata.len()) {
        (1, 4) => Some(Ipv4Addr::from(<[u8; 4]>::try_from(rdata).unwrap_or_default()).to_string()),
        (28, 16) => {
            Some(Ipv6Addr::from(<[u8; 16]>::try_from(rdata).unwrap_or_default()).to_string())
        }
        (2 | 5 | 12 | 39, _) => rdata_names.first().map(|name| name.text.clone()),
        (15, _) => rdata_names
            .first()
            .map(|name| format!("{} {}", be16(rdata, 0), name.text)),
        _ => None,
    };
    Ok(RecordField {
        offset: at,
        rtype,
        class: be16(message, tail + 2),
        ttl: be32(message, tail + 4),
        rdlength,
        rdata_offset: start,
        rdata_names,
        data,
        name,
    })
}

fn malformed(why: &str) -> WireError {
    WireError::Malformed {
        what: "DNS record",
        why: why.into(),
    }
}

/// The name at `at` with its parts.
fn name_field(message: &[u8], at: usize) -> Result<NameField, WireError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let end = walk_name(message, at, |step| match step {
        NameStep::Label { at, bytes } => {
            let mut label = String::new();
            label_text(bytes, &mut label);
            text.push_str(&label);
            text.push('.');
            parts.push(NamePart::Label {
                offset: at,
                text: label,
            });
        }
        NameStep::Pointer { at, target } => parts.push(NamePart::Pointer { offset: at, target }),
        NameStep::Root { at } => parts.push(NamePart::Root { offset: at }),
    })?;
    if text.is_empty() {
        text.push('.');
    }
    Ok(NameField {
        offset: at,
        length: end - at,
        text,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dns::tests::cname_reply;

    #[test]
    fn header_fields_are_the_bits_of_the_flag_word() {
        let reply = cname_reply(0xbeef);
        let layout = layout(&reply);
        let h = layout.header;
        assert_eq!((h.id, h.flags), (0xbeef, 0x8180));
        assert!(h.qr && h.rd && h.ra && !h.aa && !h.tc && !h.z && !h.ad && !h.cd);
        assert_eq!((h.opcode, h.rcode), (0, 0));
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 4, 0, 0));
        assert_eq!(layout.problem, None);
        assert_eq!(layout.trailing, 0);
        assert_eq!(layout.hex.len(), reply.len() * 2);
    }

    #[test]
    fn compressed_names_show_their_pointers_and_the_names_they_make() {
        let reply = cname_reply(1);
        let layout = layout(&reply);
        let question = &layout.question[0];
        assert_eq!(question.name.text, "www.example.test.");
        assert_eq!(question.name.offset, 12);
        assert_eq!(question.name.length, 18);
        let cname = &layout.answer[0];
        assert_eq!(
            cname.name.parts[..2],
            [
                NamePart::Pointer {
                    offset: 34,
                    target: 12
                },
                NamePart::Label {
                    offset: 12,
                    text: "www".into()
                }
            ]
        );
        assert_eq!(cname.name.text, "www.example.test.");
        assert_eq!(cname.name.length, 2);
        let target = &cname.rdata_names[0];
        assert_eq!(target.text, "web.example.test.");
        assert_eq!(
            target.parts,
            vec![
                NamePart::Label {
                    offset: 46,
                    text: "web".into()
                },
                NamePart::Pointer {
                    offset: 50,
                    target: 16
                },
                NamePart::Label {
                    offset: 16,
                    text: "example".into()
                },
                NamePart::Label {
                    offset: 24,
                    text: "test".into()
                },
                NamePart::Root { offset: 29 },
            ]
        );
        assert_eq!(cname.data.as_deref(), Some("web.example.test."));
        assert_eq!(layout.answer[1].data.as_deref(), Some("192.0.2.7"));
        assert_eq!(layout.answer[2].data.as_deref(), Some("2001:db8::7"));
        assert_eq!(layout.answer[3].data, None);
    }

    #[test]
    fn a_cut_message_keeps_what_was_read_and_says_where_it_stopped() {
        let reply = cname_reply(1);
        for cut in 0..reply.len() {
            let layout = layout(&reply[..cut]);
            let problem = layout.problem.expect("a cut message has a problem");
            assert!(problem.offset <= cut, "{problem:?} at cut {cut}");
        }
        let layout = layout(&reply[..reply.len() - 3]);
        assert_eq!(layout.answer.len(), 3);
    }

    #[test]
    fn a_pointer_loop_is_a_problem_not_a_hang() {
        let mut reply = cname_reply(1);
        // The CNAME record's owner points at itself.
        reply[34] = 0xc0;
        reply[35] = 34;
        let layout = layout(&reply);
        assert_eq!(layout.problem.map(|p| p.offset), Some(34));
        assert_eq!(layout.answer.len(), 0);
    }

    #[test]
    fn no_corruption_of_any_byte_panics() {
        let reply = cname_reply(1);
        for at in 0..reply.len() {
            for value in [0x00, 0x3f, 0x40, 0xc0, 0xff] {
                let mut bent = reply.clone();
                bent[at] = value;
                let _ = layout(&bent);
            }
        }
    }
}
