//! `netdx dns --wire`: a DNS message field by field at its offsets — the
//! header's bits, each question and record, every name's labels and
//! compression pointers — and its bytes in hex, the way `netdx icmp`
//! shows ICMP.
#![forbid(unsafe_code)]

use std::fmt::Write;

use hickory_proto::rr::{DNSClass, RecordType};

use crate::dns::message::{class_name, type_name};
use crate::wire::dns::Rcode;
use crate::wire::dns_layout::{
    HeaderFields, Layout, NameField, NamePart, QuestionField, RecordField, TYPE_OPT,
};

/// The most bytes of a message dumped in hex (a 64 KiB TCP answer is cut).
const DUMP_LIMIT: usize = 4096;
const INDENT: &str = ";;   ";

/// One message: `title` (`QUERY to 10.0.0.53#53 over UDP`), then the
/// fields of `layout`, then `bytes` (the message it was read from) in hex.
pub fn text(title: &str, layout: &Layout, bytes: &[u8]) -> String {
    let mut text = format!(";; {title}, {} bytes\n", layout.size);
    header(&mut text, &layout.header);
    if !layout.question.is_empty() {
        let _ = writeln!(text, ";; QUESTION");
        for question in &layout.question {
            question_lines(&mut text, question);
        }
    }
    for (section, records) in [
        ("ANSWER", &layout.answer),
        ("AUTHORITY", &layout.authority),
        ("ADDITIONAL", &layout.additional),
    ] {
        if records.is_empty() {
            continue;
        }
        let _ = writeln!(text, ";; {section}");
        for record in records {
            record_lines(&mut text, record);
        }
    }
    if let Some(problem) = &layout.problem {
        let _ = writeln!(
            text,
            "{INDENT}{:#06x}  reading stopped: {}",
            problem.offset, problem.reason
        );
    }
    if layout.trailing > 0 {
        let _ = writeln!(
            text,
            "{INDENT}{} bytes after the last record the counts announce",
            layout.trailing
        );
    }
    let _ = writeln!(text, ";; BYTES");
    text.push_str(&super::units::hex_dump(bytes, DUMP_LIMIT, INDENT));
    text.push('\n');
    text
}

fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0 => "QUERY",
        1 => "IQUERY",
        2 => "STATUS",
        4 => "NOTIFY",
        5 => "UPDATE",
        6 => "DSO",
        _ => "unassigned",
    }
}

fn header(text: &mut String, h: &HeaderFields) {
    let bit = |on: bool| u8::from(on);
    let _ = writeln!(text, "{INDENT}0x0000  ID       {:#06x} ({})", h.id, h.id);
    let _ = writeln!(
        text,
        "{INDENT}0x0002  flags    {:#06x} = QR {} ({})  OPCODE {} ({})  AA {}  TC {}  RD {}  RA {}  Z {}  AD {}  CD {}  RCODE {} ({})",
        h.flags,
        bit(h.qr),
        if h.qr { "response" } else { "query" },
        h.opcode,
        opcode_name(h.opcode),
        bit(h.aa),
        bit(h.tc),
        bit(h.rd),
        bit(h.ra),
        bit(h.z),
        bit(h.ad),
        bit(h.cd),
        h.rcode,
        Rcode(h.rcode).mnemonic().unwrap_or("unassigned"),
    );
    for (at, name, count) in [
        (4, "QDCOUNT", h.qdcount),
        (6, "ANCOUNT", h.ancount),
        (8, "NSCOUNT", h.nscount),
        (10, "ARCOUNT", h.arcount),
    ] {
        let _ = writeln!(text, "{INDENT}{at:#06x}  {name}  {count}");
    }
}

/// A name as it lies here: its labels up to the end or to the first
/// pointer (what follows a pointer lies elsewhere, shown where it is).
fn name_line(text: &mut String, field: &str, name: &NameField) {
    let mut parts = Vec::new();
    for part in &name.parts {
        match part {
            NamePart::Label { offset, text } => {
                parts.push(format!("{offset:#06x} [{}]{text}", text_len(text)))
            }
            NamePart::Root { offset } => parts.push(format!("{offset:#06x} [0]")),
            NamePart::Pointer { offset, target } => {
                parts.push(format!("{offset:#06x} pointer → {target:#06x}"));
                break;
            }
        }
    }
    let _ = writeln!(
        text,
        "{INDENT}{:#06x}  {field:<8} {}  ({} byte{}: {})",
        name.offset,
        name.text,
        name.length,
        if name.length == 1 { "" } else { "s" },
        parts.join(", ")
    );
}

/// A label's length on the wire (`\DDD` escapes are one byte each).
fn text_len(label: &str) -> usize {
    let escapes = label.matches('\\').count();
    label.len() - escapes * 3
}

fn question_lines(text: &mut String, question: &QuestionField) {
    name_line(text, "name", &question.name);
    let _ = writeln!(
        text,
        "{INDENT}{:#06x}  type     {} ({})  class {} ({})",
        question.name.offset + question.name.length,
        question.rtype,
        type_name(RecordType::from(question.rtype)),
        question.class,
        class_name(DNSClass::from(question.class)),
    );
}

fn record_lines(text: &mut String, record: &RecordField) {
    name_line(text, "owner", &record.name);
    let tail = record.name.offset + record.name.length;
    if record.rtype == TYPE_OPT {
        let _ = writeln!(
            text,
            "{INDENT}{tail:#06x}  type     41 (OPT)  UDP payload {}  extended RCODE {}  version {}  DO {}  RDLENGTH {}",
            record.class,
            record.ttl >> 24,
            (record.ttl >> 16) & 0xff,
            u8::from(record.ttl & 0x8000 != 0),
            record.rdlength
        );
    } else {
        let _ = writeln!(
            text,
            "{INDENT}{tail:#06x}  type     {} ({})  class {} ({})  TTL {}  RDLENGTH {}",
            record.rtype,
            type_name(RecordType::from(record.rtype)),
            record.class,
            class_name(DNSClass::from(record.class)),
            record.ttl,
            record.rdlength
        );
    }
    if record.rdata_names.is_empty() {
        let data = match &record.data {
            Some(data) => data.clone(),
            None if record.rdlength == 0 => "(empty)".into(),
            None => format!("{} bytes (in the dump below)", record.rdlength),
        };
        let _ = writeln!(
            text,
            "{INDENT}{:#06x}  data     {data}",
            record.rdata_offset
        );
    } else {
        for name in &record.rdata_names {
            name_line(text, "data", name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::dns::tests::cname_reply;
    use crate::wire::dns_layout::layout;

    #[test]
    fn each_field_is_shown_at_its_offset_with_pointers_named() {
        let reply = cname_reply(0xbeef);
        let shown = text(
            "RESPONSE from 10.0.0.53#53 over UDP",
            &layout(&reply),
            &reply,
        );
        assert!(
            shown.starts_with(";; RESPONSE from 10.0.0.53#53 over UDP, "),
            "{shown}"
        );
        assert!(shown.contains("0x0000  ID       0xbeef (48879)"), "{shown}");
        assert!(
            shown.contains("QR 1 (response)  OPCODE 0 (QUERY)  AA 0  TC 0  RD 1  RA 1"),
            "{shown}"
        );
        assert!(shown.contains("0x000c  name     www.example.test.  (18 bytes: 0x000c [3]www, 0x0010 [7]example, 0x0018 [4]test, 0x001d [0])"), "{shown}");
        assert!(
            shown
                .contains("0x0022  owner    www.example.test.  (2 bytes: 0x0022 pointer → 0x000c)"),
            "{shown}"
        );
        assert!(shown.contains("0x002e  data     web.example.test.  (6 bytes: 0x002e [3]web, 0x0032 pointer → 0x0010)"), "{shown}");
        assert!(
            shown.contains("type     1 (A)  class 1 (IN)  TTL 60  RDLENGTH 4"),
            "{shown}"
        );
        assert!(shown.contains("data     192.0.2.7"), "{shown}");
        assert!(
            shown.contains(";;   0000  be ef 81 80 00 01 00 04"),
            "{shown}"
        );
    }

    #[test]
    fn a_label_with_escapes_counts_its_wire_bytes() {
        assert_eq!(text_len("a\\046b"), 3);
    }
}
