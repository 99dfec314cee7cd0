//! `netdx icmp` views: each probe and answer decoded layer by layer.

use std::fmt::Write;
use std::net::IpAddr;

use crate::icmp::{Answer, Event, MatchedBy, Sent, Summary};
use crate::wire::names;
use crate::wire::{IcmpBody, IcmpMessage, Ipv4Header, Quoted, QuotedTransport};

use super::{Output, Role};

/// Payload bytes shown before the dump is cut short.
const DUMP_LIMIT: usize = 128;

/// The line before the first probe.
pub fn header(host: &str, target: IpAddr) -> String {
    if host == target.to_string() {
        format!("netdx icmp to {target}\n")
    } else {
        format!("netdx icmp to {host} ({target})\n")
    }
}

/// One event, as text.
pub fn event(event: &Event, out: &Output) -> String {
    match event {
        Event::Sent(sent) => sent_view(sent, out),
        Event::Answer(answer) => answer_view(answer, out),
        Event::NoAnswer { probe, waited_ms } => {
            let line = format!(
                "#{probe} no answer within {}",
                super::units::millis(*waited_ms)
            );
            format!("{}\n\n", out.style.paint(Role::Bad, &line))
        }
    }
}

fn sent_view(sent: &Sent, out: &Output) -> String {
    let mut text = format!(
        "#{} sent {} bytes to {}{}\n",
        sent.probe,
        sent.bytes,
        sent.target,
        if sent.ip.is_some() {
            " (IP header built by netdx)"
        } else {
            ""
        }
    );
    if let Some(ip) = &sent.ip {
        ipv4(&mut text, ip, out);
    }
    icmp(&mut text, &sent.icmp, true, out);
    text
}

fn answer_view(answer: &Answer, out: &Output) -> String {
    let how = match answer.matched_by {
        MatchedBy::IdentifierAndSequence => "identifier and sequence match",
        MatchedBy::QuotedOriginal => "quotes probe",
    };
    let mut text = format!(
        "#{} {} from {}  time={}  ({how} #{})\n",
        answer.probe,
        if answer.icmp.is_error() {
            out.style.paint(Role::Bad, answer.icmp.type_name)
        } else {
            out.style.paint(Role::Good, answer.icmp.type_name)
        },
        out.style.paint(Role::Inet, &answer.from.to_string()),
        super::units::millis(answer.rtt_ms),
        answer.probe
    );
    match &answer.ip {
        Some(ip) => ipv4(&mut text, ip, out),
        None => {
            let _ = writeln!(
                text,
                "  IPv6  {} → (us)  hop limit {}  (the kernel keeps the IPv6 header of ICMPv6 sockets)",
                answer.from,
                answer
                    .hop_limit
                    .map_or_else(|| "?".to_string(), |h| h.to_string())
            );
        }
    }
    icmp(&mut text, &answer.icmp, false, out);
    text.push('\n');
    text
}

fn checksum_verdict(ok: Option<bool>, out: &Output) -> String {
    match ok {
        Some(true) => out.style.paint(Role::Good, "ok"),
        Some(false) => out.style.paint(Role::Bad, "BAD"),
        None => "verified by the kernel".into(),
    }
}

fn flags(ip: &Ipv4Header) -> String {
    let mut set = Vec::new();
    if ip.dont_fragment {
        set.push("DF");
    }
    if ip.more_fragments {
        set.push("MF");
    }
    if set.is_empty() {
        "none".into()
    } else {
        set.join(",")
    }
}

fn ipv4(text: &mut String, ip: &Ipv4Header, out: &Output) {
    let _ = writeln!(
        text,
        "  IPv4  version {}  ihl {} ({} bytes)  tos 0x{:02x}  total length {}  id 0x{:04x}  flags {}  frag offset {}",
        ip.version,
        ip.ihl,
        usize::from(ip.ihl) * 4,
        ip.tos,
        ip.total_length,
        ip.identification,
        flags(ip),
        ip.fragment_offset
    );
    let _ = writeln!(
        text,
        "        ttl {}  protocol {} ({})  header checksum 0x{:04x} {}  {} → {}",
        ip.ttl,
        ip.protocol,
        names::protocol(ip.protocol),
        ip.checksum,
        checksum_verdict(ip.checksum_ok, out),
        ip.source,
        ip.destination
    );
}

fn icmp(text: &mut String, message: &IcmpMessage, sent: bool, out: &Output) {
    let label = if message.v6 { "ICMPv6" } else { "ICMP" };
    let code = message.code_name.map_or_else(
        || message.code.to_string(),
        |n| format!("{} {n}", message.code),
    );
    let _ = writeln!(
        text,
        "  {label:<5} type {} {}  code {code}  checksum 0x{:04x} {}  length {}",
        message.kind,
        message.type_name,
        message.checksum,
        if sent && message.checksum_ok.is_none() {
            "(the kernel fills it in)".to_string()
        } else {
            checksum_verdict(message.checksum_ok, out)
        },
        message.length
    );
    match &message.body {
        IcmpBody::Echo {
            ident,
            seq,
            payload,
        } => {
            let _ = writeln!(text, "        identifier {ident}  sequence {seq}");
            dump(text, payload);
        }
        IcmpBody::Timestamp {
            ident,
            seq,
            originate,
            receive,
            transmit,
        } => {
            let _ = writeln!(text, "        identifier {ident}  sequence {seq}");
            let _ = writeln!(
                text,
                "        originate {}  receive {}  transmit {}  (ms since midnight UT)",
                clock(*originate),
                clock(*receive),
                clock(*transmit)
            );
        }
        IcmpBody::Error { info, quoted } => {
            if *info != 0 {
                let _ = writeln!(
                    text,
                    "        rest of header 0x{info:08x}{}",
                    info_meaning(message, *info)
                );
            }
            quote(text, quoted);
        }
        IcmpBody::Other { rest, payload } => {
            let _ = writeln!(text, "        rest of header 0x{rest:08x}");
            dump(text, payload);
        }
    }
}

fn info_meaning(message: &IcmpMessage, info: u32) -> String {
    match (message.v6, message.kind, message.code) {
        (false, 3, 4) => format!(" (next-hop MTU {})", info & 0xffff),
        (true, 2, _) => format!(" (MTU {info})"),
        (false, 12, _) | (true, 4, _) => format!(" (pointer {})", info >> 24),
        (false, 5, _) => format!(" (gateway {})", std::net::Ipv4Addr::from(info)),
        _ => String::new(),
    }
}

fn clock(ms: u32) -> String {
    if ms == 0 {
        return "0".into();
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{ms} ({h:02}:{m:02}:{:02}.{:03})", rest / 1000, rest % 1000)
}

fn quote(text: &mut String, quoted: &Quoted) {
    let _ = writeln!(
        text,
        "        quoted {}: {} → {}  ttl {}  protocol {} ({}){}",
        if quoted.ipv4.is_some() {
            "IPv4"
        } else {
            "IPv6"
        },
        quoted.source,
        quoted.destination,
        quoted.ttl,
        quoted.protocol,
        names::protocol(quoted.protocol),
        quoted.ipv4.as_ref().map_or_else(String::new, |ip| format!(
            "  id 0x{:04x}",
            ip.identification
        ))
    );
    let line = match &quoted.transport {
        QuotedTransport::Icmp {
            kind,
            code,
            ident,
            seq,
        } => {
            let (label, name) = if quoted.ipv4.is_some() {
                ("ICMP", names::icmp_type(*kind))
            } else {
                ("ICMPv6", names::icmpv6_type(*kind))
            };
            format!("{label} type {kind} {name}  code {code}  identifier {ident}  sequence {seq}")
        }
        QuotedTransport::Udp {
            source_port,
            destination_port,
            length,
            checksum,
        } => format!(
            "UDP {source_port} → {destination_port}  length {length}  checksum 0x{checksum:04x}"
        ),
        QuotedTransport::Tcp {
            source_port,
            destination_port,
            seq,
        } => format!("TCP {source_port} → {destination_port}  seq {seq}"),
        QuotedTransport::Other => "(payload not decoded)".into(),
    };
    let _ = writeln!(text, "        quoted {line}");
}

/// The payload's size and its first bytes in hex and ASCII.
fn dump(text: &mut String, payload: &[u8]) {
    if payload.is_empty() {
        let _ = writeln!(text, "        no data");
        return;
    }
    let _ = writeln!(text, "        data {} bytes", payload.len());
    text.push_str(&super::units::hex_dump(payload, DUMP_LIMIT, "        "));
}

/// The closing line.
pub fn summary(summary: &Summary) -> String {
    format!(
        "--- {} sent, {} answered ({} ICMP errors), {} other packets ignored\n",
        summary.sent, summary.answered, summary.errors, summary.ignored
    )
}

/// `netdx icmp --json`: every probe and answer in order, and the totals.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct IcmpDocument<'a> {
    /// The target.
    pub target: IpAddr,
    /// Every probe sent and every answer, in order.
    pub events: &'a [Event],
    /// The run's totals.
    pub summary: &'a Summary,
}

/// Every event and the totals as one JSON document.
pub fn json(target: IpAddr, events: &[Event], summary: &Summary) -> String {
    super::json::document(&IcmpDocument {
        target,
        events,
        summary,
    })
}
