//! `netdx dns` output: dig's layout (header, flags, OPT pseudo-section,
//! the sections in dig's columns, the footer), `+short`'s answer data, and
//! the JSON document.
#![forbid(unsafe_code)]

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

use crate::dns::message::{self, Counts, EdnsInfo, Header, QuestionEntry, Record, Response};
use crate::dns::validate::Validation;
use crate::dns::{Lookup, Question, Transport, server_label};
use crate::render::stream::dns::Tally;
use crate::wire::dns_layout::{self, Layout};

/// One lookup in `--json`: the message as received, with how it came.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LookupDocument {
    /// The server asked, `address#port`.
    pub server: String,
    /// The server as named (`@ns1.example`), or its address.
    pub server_name: String,
    /// Over what the answer came (or the last try went).
    pub transport: Transport,
    /// The UDP answer was truncated and this one was asked over TCP.
    pub retried_over_tcp: bool,
    /// From the query's send to the answer, in milliseconds; null: no reply.
    pub time_ms: Option<f64>,
    /// NOERROR, NXDOMAIN, … or `timeout` when nothing answered.
    pub status: String,
    /// Tries made over UDP without an answer (0 when one came at once).
    pub tries: u32,
    /// Datagrams read and dropped: undecodable, or for another query.
    pub ignored: u32,
    /// The query's size in bytes (null with no reply).
    pub query_size: Option<usize>,
    /// The response's size in bytes (null with no reply).
    pub size: Option<usize>,
    /// The header (null with no reply).
    pub header: Option<Header>,
    /// The question (what was asked, with no reply).
    pub question: Vec<QuestionEntry>,
    /// The answer section.
    pub answer: Vec<Record>,
    /// The authority section.
    pub authority: Vec<Record>,
    /// The additional section.
    pub additional: Vec<Record>,
    /// The server's OPT record.
    pub edns: Option<EdnsInfo>,
    /// Over TLS: the session's version, cipher suite, ALPN and handshake time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::dns::tls::TlsInfo>,
    /// With `--validate`: the chain of trust, link by link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// With `--wire`: the query and the response field by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire: Option<WireDocument>,
}

/// `--wire` in `--json`: both messages as they lay on the wire.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WireDocument {
    /// The query sent.
    pub query: Layout,
    /// The response that answered it (null with no reply).
    pub response: Option<Layout>,
}

/// `--validate`'s verdict and every link checked.
pub fn validation_text(validation: &Validation) -> String {
    let mut text = format!(";; VALIDATION: {}", validation.status);
    match &validation.reason {
        Some(reason) => {
            let _ = writeln!(text, ": {reason}");
        }
        None => text.push_str(": every link holds up to a trust anchor\n"),
    }
    for link in &validation.links {
        let _ = writeln!(
            text,
            ";;   {} {}: {}",
            if link.ok { "ok  " } else { "FAIL" },
            link.check,
            link.detail
        );
    }
    text.push('\n');
    text
}

/// `--wire` as text: the query, then the response, field by field.
pub fn wire_text(lookup: &Lookup) -> String {
    let (server, transport, query) = match lookup {
        Lookup::Answered(exchange) => {
            (exchange.server.address, exchange.transport, &exchange.query)
        }
        Lookup::NoReply {
            server,
            transport,
            query,
            ..
        } => (server.address, *transport, query),
    };
    let server = server_label(server);
    let mut text = super::dns_wire::text(
        &format!("QUERY to {server} over {}", transport.upper()),
        &dns_layout::layout(query),
        query,
    );
    match lookup {
        Lookup::Answered(exchange) => text.push_str(&super::dns_wire::text(
            &format!(
                "RESPONSE from {server} over {} after {:.3} ms",
                transport.upper(),
                exchange.elapsed.as_secs_f64() * 1000.0
            ),
            &dns_layout::layout(&exchange.response),
            &exchange.response,
        )),
        Lookup::NoReply { .. } => text.push_str(";; no response\n\n"),
    }
    text
}

/// Both messages of `lookup` field by field.
pub fn wire_document(lookup: &Lookup) -> WireDocument {
    match lookup {
        Lookup::Answered(exchange) => WireDocument {
            query: dns_layout::layout(&exchange.query),
            response: Some(dns_layout::layout(&exchange.response)),
        },
        Lookup::NoReply { query, .. } => WireDocument {
            query: dns_layout::layout(query),
            response: None,
        },
    }
}

/// The `--json` document of `lookups` (one element per question).
pub fn json(lookups: &[(Question, Lookup, Option<Validation>)], wire: bool) -> String {
    let documents: Vec<LookupDocument> = lookups
        .iter()
        .map(|(q, l, v)| LookupDocument {
            wire: wire.then(|| wire_document(l)),
            validation: v.clone(),
            ..document(q, l)
        })
        .collect();
    super::json::document(&documents)
}

pub(super) fn asked(question: &Question) -> QuestionEntry {
    QuestionEntry {
        name: question.name.to_ascii(),
        rtype: message::type_name(question.rtype),
        class: message::class_name(question.class),
    }
}

/// One lookup as its JSON document.
pub fn document(question: &Question, lookup: &Lookup) -> LookupDocument {
    match lookup {
        Lookup::Answered(exchange) => {
            let response = Response::from_message(&exchange.message);
            LookupDocument {
                server: server_label(exchange.server.address),
                server_name: exchange.server.name.clone(),
                transport: exchange.transport,
                retried_over_tcp: exchange.retried_over_tcp,
                time_ms: Some(exchange.elapsed.as_secs_f64() * 1000.0),
                status: response.header.rcode.clone(),
                tries: 0,
                ignored: exchange.ignored,
                query_size: Some(exchange.query.len()),
                size: Some(exchange.response.len()),
                header: Some(response.header),
                question: response.question,
                answer: response.answer,
                authority: response.authority,
                additional: response.additional,
                edns: response.edns,
                tls: exchange.tls.clone(),
                validation: None,
                wire: None,
            }
        }
        Lookup::NoReply {
            server,
            transport,
            tries,
            ignored,
            ..
        } => LookupDocument {
            server: server_label(server.address),
            server_name: server.name.clone(),
            transport: *transport,
            retried_over_tcp: false,
            time_ms: None,
            status: "timeout".into(),
            tries: *tries,
            ignored: *ignored,
            query_size: None,
            size: None,
            header: None,
            question: vec![asked(question)],
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            edns: None,
            tls: None,
            validation: None,
            wire: None,
        },
    }
}

/// `+short`: the answer data, a line per record.
pub fn short(lookup: &Lookup) -> String {
    let mut text = String::new();
    match lookup {
        Lookup::Answered(exchange) => {
            for record in Response::from_message(&exchange.message).answer {
                text.push_str(&record.text);
                text.push('\n');
            }
        }
        Lookup::NoReply { server, tries, .. } => {
            let _ = writeln!(
                text,
                ";; connection timed out ({tries} {}); no servers could be reached ({})",
                if *tries == 1 { "try" } else { "tries" },
                server_label(server.address)
            );
        }
    }
    text
}

/// A bulk lookup as lines: `NAME TYPE DATA` per answer record, or
/// `NAME TYPE STATUS` (NXDOMAIN, NODATA, SERVFAIL, timeout) when it has none.
pub fn bulk_lines(lookup: &LookupDocument) -> String {
    let mut text = String::new();
    if lookup.answer.is_empty() {
        let (name, rtype) = lookup
            .question
            .first()
            .map_or(("?", "?"), |q| (q.name.as_str(), q.rtype.as_str()));
        let status = if lookup.status == "NOERROR" {
            "NODATA"
        } else {
            lookup.status.as_str()
        };
        let _ = writeln!(text, "{name}\t{rtype}\t{status}");
    }
    for record in &lookup.answer {
        let _ = writeln!(text, "{}\t{}\t{}", record.name, record.rtype, record.text);
    }
    text
}

/// The bulk run's tally, one line.
pub fn tally_line(tally: &Tally) -> String {
    format!(
        ";; {} questions in {:.0} ms: {} answered, {} NODATA, {} NXDOMAIN, {} SERVFAIL, {} other, {} timed out{}\n",
        tally.questions,
        tally.elapsed_ms,
        tally.answered,
        tally.nodata,
        tally.nxdomain,
        tally.servfail,
        tally.other,
        tally.timeouts,
        if tally.ignored > 0 {
            format!("; {} stray datagrams dropped", tally.ignored)
        } else {
            String::new()
        }
    )
}

/// dig's full layout for one lookup; `command` is the command line shown
/// in the banner.
pub fn text(question: &Question, lookup: &Lookup, command: &str) -> String {
    let mut text = String::new();
    let exchange = match lookup {
        Lookup::Answered(exchange) => exchange,
        Lookup::NoReply {
            server,
            tries,
            ignored,
            transport,
            ..
        } => {
            let _ = writeln!(text, "\n; <<>> netdx dns <<>> {command}");
            let _ = writeln!(
                text,
                ";; connection timed out: {tries} {} of {} {} {} unanswered over {}; no servers could be reached",
                if *tries == 1 { "try" } else { "tries" },
                question.name.to_ascii(),
                message::type_name(question.rtype),
                server_label(server.address),
                transport.upper(),
            );
            if *ignored > 0 {
                let _ = writeln!(
                    text,
                    ";; {ignored} datagrams that did not answer the query were dropped"
                );
            }
            text.push('\n');
            return text;
        }
    };
    if exchange.retried_over_tcp {
        text.push_str(";; Truncated, retrying in TCP mode.\n");
    }
    let response = Response::from_message(&exchange.message);
    let header = &response.header;
    let _ = writeln!(text, "\n; <<>> netdx dns <<>> {command}");
    text.push_str(";; Got answer:\n");
    let _ = writeln!(
        text,
        ";; ->>HEADER<<- opcode: {}, status: {}, id: {}",
        header.opcode, header.rcode, header.id
    );
    let f = header.flags;
    let flags: Vec<&str> = [
        (f.qr, "qr"),
        (f.aa, "aa"),
        (f.tc, "tc"),
        (f.rd, "rd"),
        (f.ra, "ra"),
        (f.ad, "ad"),
        (f.cd, "cd"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect();
    let Counts {
        query,
        answer,
        authority,
        additional,
    } = header.counts;
    let _ = writeln!(
        text,
        ";; flags: {}; QUERY: {query}, ANSWER: {answer}, AUTHORITY: {authority}, ADDITIONAL: {additional}",
        flags.join(" ")
    );
    if f.rd && !f.ra {
        text.push_str(";; WARNING: recursion requested but not available\n");
    }
    text.push('\n');
    if let Some(edns) = &response.edns {
        text.push_str(";; OPT PSEUDOSECTION:\n");
        let _ = writeln!(
            text,
            "; EDNS: version: {}, flags:{}; udp: {}",
            edns.version,
            if edns.dnssec_ok { " do" } else { "" },
            edns.udp
        );
    }
    text.push_str(";; QUESTION SECTION:\n");
    for q in &response.question {
        let mut line = String::from(";");
        line.push_str(&q.name);
        let width = q.name.len();
        let width = pad(&mut line, width, 32);
        line.push_str(&q.class);
        pad(&mut line, width + q.class.len(), 40);
        line.push_str(&q.rtype);
        text.push_str(&line);
        text.push('\n');
    }
    for (title, records) in [
        ("ANSWER", &response.answer),
        ("AUTHORITY", &response.authority),
        ("ADDITIONAL", &response.additional),
    ] {
        if records.is_empty() {
            continue;
        }
        let _ = writeln!(text, "\n;; {title} SECTION:");
        for record in records {
            text.push_str(&record_line(record));
            text.push('\n');
        }
    }
    let _ = writeln!(
        text,
        "\n;; Query time: {:.3} msec",
        exchange.elapsed.as_secs_f64() * 1000.0
    );
    let _ = writeln!(
        text,
        ";; SERVER: {}({}) ({})",
        server_label(exchange.server.address),
        exchange.server.name,
        exchange.transport.upper()
    );
    if let Some(tls) = &exchange.tls {
        let _ = writeln!(
            text,
            ";; TLS: {}, {}, ALPN {}, handshake {:.3} ms",
            tls.version,
            tls.cipher,
            tls.alpn.as_deref().unwrap_or("none"),
            tls.handshake_ms
        );
    }
    let _ = writeln!(text, ";; MSG SIZE  rcvd: {}", exchange.response.len());
    if exchange.ignored > 0 {
        let _ = writeln!(
            text,
            ";; {} datagrams that did not answer the query were dropped",
            exchange.ignored
        );
    }
    text.push('\n');
    text
}

/// A record in dig's columns: name, TTL at 24, class at 32, type at 40,
/// data at 48 (tab stops of 8; a field already past its column is
/// followed by one separator).
pub(super) fn record_line(record: &Record) -> String {
    let mut line = record.name.clone();
    let mut width = line.len();
    width = pad(&mut line, width, 24);
    let ttl = record.ttl.to_string();
    line.push_str(&ttl);
    width = pad(&mut line, width + ttl.len(), 32);
    line.push_str(&record.class);
    width = pad(&mut line, width + record.class.len(), 40);
    line.push_str(&record.rtype);
    pad(&mut line, width + record.rtype.len(), 48);
    line.push_str(&record.text);
    line
}

/// Pads `line`, now `width` columns wide, to `column` with tabs (a space
/// where a tab would overshoot a column already passed); returns the new width.
fn pad(line: &mut String, width: usize, column: usize) -> usize {
    let target = column.max(width + 1);
    let mut at = width;
    while at < target {
        let next = (at / 8 + 1) * 8;
        if next <= target {
            line.push('\t');
            at = next;
        } else {
            line.push(' ');
            at += 1;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::Data;

    fn record(name: &str, rtype: &str, text: &str) -> Record {
        Record {
            name: name.into(),
            rtype: rtype.into(),
            class: "IN".into(),
            ttl: 300,
            data: Data::Other { text: text.into() },
            text: text.into(),
        }
    }

    #[test]
    fn records_line_up_in_digs_columns() {
        assert_eq!(
            record_line(&record("example.test.", "MX", "10 mail.example.test.")),
            "example.test.\t\t300\tIN\tMX\t10 mail.example.test."
        );
        assert_eq!(
            record_line(&record("unk.example.test.", "TYPE65534", r"\# 4 0A000001")),
            "unk.example.test.\t300\tIN\tTYPE65534 \\# 4 0A000001"
        );
    }
}
