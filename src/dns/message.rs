//! A decoded response as netdx reports it: the header's fields and flags,
//! the question, and every record with its type-specific data — the
//! typed, serialisable view of hickory-proto's `Message`.
#![forbid(unsafe_code)]

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Edns, Message, MessageType, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record as WireRecord, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use schemars::JsonSchema;
use serde::Serialize;

/// A response.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Response {
    /// The header.
    pub header: Header,
    /// The question section.
    pub question: Vec<QuestionEntry>,
    /// The answer section.
    pub answer: Vec<Record>,
    /// The authority section.
    pub authority: Vec<Record>,
    /// The additional section (without the OPT pseudo-record: see `edns`).
    pub additional: Vec<Record>,
    /// The OPT pseudo-record, when the server sent one.
    pub edns: Option<EdnsInfo>,
}

/// The header's fields.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Header {
    /// The message ID.
    pub id: u16,
    /// QUERY, NOTIFY, UPDATE, …
    pub opcode: String,
    /// NOERROR, NXDOMAIN, SERVFAIL, … (with the EDNS extended bits).
    pub rcode: String,
    /// The flag bits.
    pub flags: Flags,
    /// The section counts as the server wrote them.
    pub counts: Counts,
}

/// The header's flag bits.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct Flags {
    /// A response.
    pub qr: bool,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Authentic data (DNSSEC-validated by the server).
    pub ad: bool,
    /// Checking disabled.
    pub cd: bool,
}

/// How many entries each section holds.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct Counts {
    /// Questions.
    pub query: usize,
    /// Answer records.
    pub answer: usize,
    /// Authority records.
    pub authority: usize,
    /// Additional records, the OPT record included (as dig counts).
    pub additional: usize,
}

/// One question.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct QuestionEntry {
    /// The name, fully qualified.
    pub name: String,
    /// The record type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// The class.
    pub class: String,
}

/// One resource record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Record {
    /// The owner name, fully qualified.
    pub name: String,
    /// The record type (`TYPEnnn` for one without a mnemonic).
    #[serde(rename = "type")]
    pub rtype: String,
    /// The class.
    pub class: String,
    /// Seconds it may be cached.
    pub ttl: u32,
    /// The data, field by field.
    pub data: Data,
    /// The data in zone-file form, as dig prints it.
    pub text: String,
}

/// A record's data: the fields of the types netdx decodes, else the raw
/// bytes as hex (the zone-file generic form, RFC 3597).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Data {
    /// A.
    V4 {
        /// The address.
        address: Ipv4Addr,
    },
    /// AAAA.
    V6 {
        /// The address.
        address: Ipv6Addr,
    },
    /// CNAME, NS, PTR, DNAME, ANAME.
    Target {
        /// The name pointed to.
        target: String,
    },
    /// MX.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The mail exchanger.
        exchange: String,
    },
    /// SRV.
    Srv {
        /// Lower is tried first.
        priority: u16,
        /// Share among equal priorities.
        weight: u16,
        /// The service's port.
        port: u16,
        /// The host.
        target: String,
    },
    /// TXT: each character-string (bytes outside printable ASCII as `\DDD`).
    Txt {
        /// The strings, in order.
        strings: Vec<String>,
    },
    /// SOA.
    Soa {
        /// The primary server.
        mname: String,
        /// The responsible mailbox, as a name.
        rname: String,
        /// The zone's serial.
        serial: u32,
        /// Seconds between secondaries' refreshes.
        refresh: i32,
        /// Seconds between failed refreshes' retries.
        retry: i32,
        /// Seconds until a secondary stops answering.
        expire: i32,
        /// The negative-caching TTL.
        minimum: u32,
    },
    /// CAA.
    Caa {
        /// The flags byte (128: issuer critical).
        flags: u8,
        /// issue, issuewild, iodef, …
        tag: String,
        /// The value.
        value: String,
    },
    /// DNSKEY, CDNSKEY.
    Dnskey {
        /// 256: a zone key; 257: also a secure entry point (a KSK).
        flags: u16,
        /// Always 3.
        protocol: u8,
        /// The signing algorithm (13: ECDSA P-256 SHA-256, …).
        algorithm: u8,
        /// The key, base64 in chunks of 56 as dig writes it.
        public_key: String,
    },
    /// DS, CDS.
    Ds {
        /// The tag of the key it hashes.
        key_tag: u16,
        /// That key's algorithm.
        algorithm: u8,
        /// 1: SHA-1, 2: SHA-256, 4: SHA-384.
        digest_type: u8,
        /// The digest, hex in chunks of 56.
        digest: String,
    },
    /// RRSIG.
    Rrsig {
        /// The type of the records signed.
        type_covered: String,
        /// The signing algorithm.
        algorithm: u8,
        /// Labels of the owner name (a wildcard has more than it).
        labels: u8,
        /// The records' TTL when signed.
        original_ttl: u32,
        /// Not valid after, YYYYMMDDHHMMSS UTC.
        expiration: String,
        /// Not valid before, YYYYMMDDHHMMSS UTC.
        inception: String,
        /// The tag of the signing key.
        key_tag: u16,
        /// The zone that signed.
        signer: String,
        /// The signature, base64 in chunks of 56.
        signature: String,
    },
    /// NSEC.
    Nsec {
        /// The next owner name in the zone.
        next: String,
        /// The types this name has.
        types: Vec<String>,
    },
    /// A type netdx has no fields for (NSEC3, SSHFP, TLSA, HTTPS, NAPTR, …).
    Other {
        /// Its zone-file form.
        text: String,
    },
    /// A type nothing here decodes: the raw data.
    Raw {
        /// The data as hex.
        hex: String,
        /// Its length in bytes.
        length: usize,
    },
}

impl Response {
    /// The typed view of `message`.
    pub fn from_message(message: &Message) -> Response {
        let meta = &message.metadata;
        let header = Header {
            id: meta.id,
            opcode: format!("{:?}", meta.op_code).to_ascii_uppercase(),
            rcode: rcode_name(meta.response_code),
            flags: Flags {
                qr: meta.message_type == MessageType::Response,
                aa: meta.authoritative,
                tc: meta.truncation,
                rd: meta.recursion_desired,
                ra: meta.recursion_available,
                ad: meta.authentic_data,
                cd: meta.checking_disabled,
            },
            counts: Counts {
                query: message.queries.len(),
                answer: message.answers.len(),
                authority: message.authorities.len(),
                additional: message.additionals.len() + usize::from(message.edns.is_some()),
            },
        };
        Response {
            header,
            question: message
                .queries
                .iter()
                .map(|q| QuestionEntry {
                    name: q.name.to_ascii(),
                    rtype: type_name(q.query_type),
                    class: class_name(q.query_class),
                })
                .collect(),
            answer: message.answers.iter().map(record).collect(),
            authority: message.authorities.iter().map(record).collect(),
            additional: message.additionals.iter().map(record).collect(),
            edns: message.edns.as_ref().map(edns_info),
        }
    }
}

/// The OPT pseudo-record's fields.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EdnsInfo {
    /// EDNS version.
    pub version: u8,
    /// The DO bit: DNSSEC records wanted.
    pub dnssec_ok: bool,
    /// The largest UDP payload the server takes.
    pub udp: u16,
}

fn edns_info(edns: &Edns) -> EdnsInfo {
    EdnsInfo {
        version: edns.version(),
        dnssec_ok: edns.flags().dnssec_ok,
        udp: edns.max_payload(),
    }
}

/// dig's status word for a response code.
pub fn rcode_name(code: ResponseCode) -> String {
    let number = u16::from(code);
    match u8::try_from(number)
        .ok()
        .and_then(|n| crate::wire::dns::Rcode(n).mnemonic())
    {
        Some(name) => name.to_string(),
        None => format!("RESERVED{number}"),
    }
}

/// The mnemonic of a record type, `TYPEnnn` when it has none.
pub fn type_name(rtype: RecordType) -> String {
    match rtype {
        RecordType::Unknown(n) => format!("TYPE{n}"),
        other => other.to_string(),
    }
}

/// The mnemonic of a class, `CLASSnnn` when it has none.
pub fn class_name(class: DNSClass) -> String {
    match class {
        DNSClass::IN => "IN".into(),
        DNSClass::CH => "CH".into(),
        DNSClass::HS => "HS".into(),
        DNSClass::NONE => "NONE".into(),
        DNSClass::ANY => "ANY".into(),
        other => format!("CLASS{}", u16::from(other)),
    }
}

fn record(wire: &WireRecord) -> Record {
    let data = data_of(&wire.data);
    Record {
        name: wire.name.to_ascii(),
        rtype: type_name(wire.record_type()),
        class: class_name(wire.dns_class),
        ttl: wire.ttl,
        text: presentation(&data),
        data,
    }
}

fn data_of(rdata: &RData) -> Data {
    match rdata {
        RData::A(a) => Data::V4 { address: a.0 },
        RData::AAAA(a) => Data::V6 { address: a.0 },
        RData::CNAME(n) => Data::Target {
            target: n.0.to_ascii(),
        },
        RData::NS(n) => Data::Target {
            target: n.0.to_ascii(),
        },
        RData::PTR(n) => Data::Target {
            target: n.0.to_ascii(),
        },
        RData::MX(mx) => Data::Mx {
            preference: mx.preference,
            exchange: mx.exchange.to_ascii(),
        },
        RData::SRV(srv) => Data::Srv {
            priority: srv.priority,
            weight: srv.weight,
            port: srv.port,
            target: srv.target.to_ascii(),
        },
        RData::TXT(txt) => Data::Txt {
            strings: txt.txt_data.iter().map(|s| escape(s)).collect(),
        },
        RData::SOA(soa) => Data::Soa {
            mname: soa.mname.to_ascii(),
            rname: soa.rname.to_ascii(),
            serial: soa.serial,
            refresh: soa.refresh,
            retry: soa.retry,
            expire: soa.expire,
            minimum: soa.minimum,
        },
        RData::CAA(caa) => Data::Caa {
            flags: if caa.issuer_critical { 128 } else { 0 } | caa.reserved_flags,
            tag: caa.tag.clone(),
            value: escape(&caa.value),
        },
        RData::Unknown { code, rdata } => super::dnssec::decode(u16::from(*code), &rdata.anything)
            .unwrap_or_else(|| raw(&rdata.anything)),
        // Decoded by hickory-proto's DNSSEC types (which validation uses):
        // their bytes go through netdx's reading, which writes them as dig does.
        RData::DNSSEC(_) => {
            let mut bytes = Vec::new();
            let mut encoder = BinEncoder::new(&mut bytes);
            match rdata.emit(&mut encoder) {
                Ok(()) => super::dnssec::decode(u16::from(rdata.record_type()), &bytes)
                    .unwrap_or_else(|| raw(&bytes)),
                Err(_) => raw(&[]),
            }
        }
        other => {
            // A type netdx has no fields for: hickory-proto's zone-file
            // text (written with `write!`, which cannot panic: OPT's text
            // is an error, and a hostile server may put one anywhere).
            let mut text = String::new();
            if write!(text, "{other}").is_ok() {
                Data::Other { text }
            } else {
                let mut bytes = Vec::new();
                let mut encoder = BinEncoder::new(&mut bytes);
                match other.emit(&mut encoder) {
                    Ok(()) => raw(&bytes),
                    Err(_) => raw(&[]),
                }
            }
        }
    }
}

fn raw(bytes: &[u8]) -> Data {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(hex, "{b:02X}");
    }
    Data::Raw {
        hex,
        length: bytes.len(),
    }
}

/// A character-string as zone files write it inside quotes: `"` and `\`
/// escaped, bytes outside printable ASCII as `\DDD`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out
}

/// The data in zone-file form, as dig prints it.
pub fn presentation(data: &Data) -> String {
    match data {
        Data::V4 { address } => address.to_string(),
        Data::V6 { address } => address.to_string(),
        Data::Target { target } => target.clone(),
        Data::Mx {
            preference,
            exchange,
        } => format!("{preference} {exchange}"),
        Data::Srv {
            priority,
            weight,
            port,
            target,
        } => format!("{priority} {weight} {port} {target}"),
        Data::Txt { strings } => strings
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(" "),
        Data::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => format!("{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"),
        Data::Caa { flags, tag, value } => format!("{flags} {tag} \"{value}\""),
        Data::Dnskey {
            flags,
            protocol,
            algorithm,
            public_key,
        } => format!("{flags} {protocol} {algorithm} {public_key}"),
        Data::Ds {
            key_tag,
            algorithm,
            digest_type,
            digest,
        } => format!("{key_tag} {algorithm} {digest_type} {digest}"),
        Data::Rrsig {
            type_covered,
            algorithm,
            labels,
            original_ttl,
            expiration,
            inception,
            key_tag,
            signer,
            signature,
        } => format!(
            "{type_covered} {algorithm} {labels} {original_ttl} {expiration} {inception} {key_tag} {signer} {signature}"
        ),
        Data::Nsec { next, types } => {
            let mut text = next.clone();
            for t in types {
                text.push(' ');
                text.push_str(t);
            }
            text
        }
        Data::Other { text } => text.clone(),
        Data::Raw { hex, length } if *length == 0 => format!("\\# 0{hex}"),
        Data::Raw { hex, length } => format!("\\# {length} {hex}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_strings_are_quoted_with_zone_file_escapes() {
        let data = Data::Txt {
            strings: vec![escape(b"v=spf1 -all"), escape(b"a\"b\\c\x01")],
        };
        assert_eq!(presentation(&data), r#""v=spf1 -all" "a\"b\\c\001""#);
    }

    #[test]
    fn unknown_types_use_the_generic_form() {
        assert_eq!(presentation(&raw(&[10, 0, 0, 1])), r"\# 4 0A000001");
        assert_eq!(type_name(RecordType::Unknown(65534)), "TYPE65534");
        assert_eq!(class_name(DNSClass::from(3)), "CH");
    }
}
