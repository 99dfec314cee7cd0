//! `netdx dhcp`'s text: a block per OFFER (server, address, every option
//! by name), the rogue-server line, the REQUEST/ACK/RELEASE when asked, and
//! with `--wire` each message's BOOTP fields at their offsets and its bytes.
#![forbid(unsafe_code)]

use std::fmt::Write;

use crate::dhcp::{DhcpOption, Exchange, Reply, Report, Request};
use crate::wire::dhcp::MessageType;
use crate::wire::dhcp_options::{self, OptionValue};

/// A message is at most a frame: dump it whole.
const DUMP_LIMIT: usize = 2048;
const INDENT: &str = "    ";

/// `DHCPDISCOVER on p0 as 02:…, xid 0x…, listening 5 s`.
pub fn header(request: &Request) -> String {
    format!(
        "DHCPDISCOVER on {} as {} (xid {:#010x}), listening {} s for offers\n",
        super::printable(&request.interface),
        request.client_mac,
        request.xid,
        request.timeout.as_secs_f64()
    )
}

/// Every offer, the verdict on how many servers answered, and the exchange.
pub fn report(report: &Report, wire: bool) -> String {
    let mut text = String::new();
    for offer in &report.offers {
        reply(&mut text, offer, wire);
    }
    if report.offers_omitted > 0 {
        let _ = writeln!(text, "… {} more offers", report.offers_omitted);
    }
    let servers: Vec<String> = report.servers.iter().map(|s| s.to_string()).collect();
    let _ = match servers.len() {
        0 => writeln!(
            text,
            "no DHCP server answered in {} s",
            report.timeout_ms / 1000.0
        ),
        1 => writeln!(text, "1 DHCP server answered: {}", servers[0]),
        n => writeln!(
            text,
            "{n} DHCP servers answered: a rogue server? ({})",
            servers.join(", ")
        ),
    };
    if let Some(exchange) = &report.exchange {
        exchange_lines(&mut text, exchange, wire);
    }
    if report.ignored > 0 {
        let _ = writeln!(
            text,
            "{} other frames ignored (not a reply to this client)",
            report.ignored
        );
    }
    text
}

fn exchange_lines(text: &mut String, exchange: &Exchange, wire: bool) {
    let _ = writeln!(
        text,
        "DHCPREQUEST for {} to {}",
        exchange.address, exchange.server
    );
    match &exchange.answer {
        None => {
            let _ = writeln!(text, "no DHCPACK or DHCPNAK from {}", exchange.server);
        }
        Some(answer) => reply(text, answer, wire),
    }
    if exchange.released {
        let _ = writeln!(
            text,
            "DHCPRELEASE sent to {}: the lease on {} is given back",
            exchange.server, exchange.address
        );
    }
}

/// One reply's block, as [`report`] prints it (with `wire`: its fields and bytes).
pub fn reply_text(reply: &Reply, wire: bool) -> String {
    let mut text = String::new();
    self::reply(&mut text, reply, wire);
    text
}

/// `DHCPOFFER from 10.0.0.1 (02:…) after 1.2 ms`, the address, the options.
fn reply(text: &mut String, reply: &Reply, wire: bool) {
    let _ = writeln!(
        text,
        "{} from {} ({}) after {}",
        reply.message_type.name(),
        reply.server(),
        reply.server_mac,
        super::units::millis(reply.after_ms)
    );
    if reply.message_type != MessageType::Nak {
        let _ = writeln!(text, "  address: {}", reply.address);
    }
    for option in &reply.options {
        let _ = writeln!(
            text,
            "  {}: {}",
            option_name(option.code),
            value(&option.value)
        );
    }
    if wire {
        wire_lines(text, reply);
    }
    text.push('\n');
}

fn option_name(code: u8) -> String {
    dhcp_options::name(code).map_or_else(|| format!("option {code}"), String::from)
}

/// An option's value in words.
pub fn value(value: &OptionValue) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match value {
        OptionValue::Addresses { addresses } => {
            list(addresses.iter().map(|a| a.to_string()).collect())
        }
        OptionValue::Seconds { seconds: u32::MAX } => "infinite".into(),
        OptionValue::Seconds { seconds } => format!("{seconds} s ({})", duration(*seconds)),
        OptionValue::Number { number } => number.to_string(),
        OptionValue::Text { text } => format!("\"{}\"", super::printable(text)),
        OptionValue::MessageType { message_type } => message_type.name().into(),
        OptionValue::Codes { codes } => list(
            codes
                .iter()
                .map(|&c| format!("{c} ({})", dhcp_options::name(c).unwrap_or("?")))
                .collect(),
        ),
        OptionValue::Domains { domains } => list(
            domains
                .iter()
                .map(|d| super::printable(d).into_owned())
                .collect(),
        ),
        OptionValue::Routes { routes } => list(
            routes
                .iter()
                .map(|r| format!("{} via {}", r.destination, r.router))
                .collect(),
        ),
        OptionValue::Hex { hex } if hex.is_empty() => "(empty)".into(),
        OptionValue::Hex { hex } => format!("0x{hex}"),
    }
}

/// `1d 2h 3m 4s`, leaving out zero parts.
fn duration(seconds: u32) -> String {
    let parts = [
        (seconds / 86_400, "d"),
        (seconds / 3600 % 24, "h"),
        (seconds / 60 % 60, "m"),
        (seconds % 60, "s"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if words.is_empty() {
        "0s".into()
    } else {
        words.join(" ")
    }
}

/// The BOOTP fields at their offsets, each option's code and length, the bytes.
fn wire_lines(text: &mut String, reply: &Reply) {
    let b = &reply.bootp;
    let _ = writeln!(text, "  ;; BOOTP, {} bytes", reply.bytes.len());
    let op = match b.op {
        1 => "BOOTREQUEST",
        2 => "BOOTREPLY",
        _ => "unknown",
    };
    let fields: [(usize, &str, String); 14] = [
        (0, "op", format!("{} ({op})", b.op)),
        (
            1,
            "htype",
            format!(
                "{} ({})",
                b.htype,
                if b.htype == 1 { "Ethernet" } else { "other" }
            ),
        ),
        (2, "hlen", b.hlen.to_string()),
        (3, "hops", b.hops.to_string()),
        (4, "xid", format!("{:#010x}", b.xid)),
        (8, "secs", b.secs.to_string()),
        (
            10,
            "flags",
            format!(
                "{:#06x}{}",
                b.flags,
                if b.flags & 0x8000 != 0 {
                    " (broadcast)"
                } else {
                    ""
                }
            ),
        ),
        (12, "ciaddr", b.ciaddr.to_string()),
        (16, "yiaddr", b.yiaddr.to_string()),
        (20, "siaddr", b.siaddr.to_string()),
        (24, "giaddr", b.giaddr.to_string()),
        (28, "chaddr", b.chaddr.clone()),
        (44, "sname", format!("\"{}\"", super::printable(&b.sname))),
        (108, "file", format!("\"{}\"", super::printable(&b.file))),
    ];
    for (at, name, value) in fields {
        let _ = writeln!(text, "{INDENT}{at:#06x}  {name:<7} {value}");
    }
    let _ = writeln!(text, "{INDENT}0x00ec  cookie  63 82 53 63 (DHCP)");
    for option in &reply.options {
        option_line(text, option);
    }
    let _ = writeln!(text, "  ;; BYTES");
    text.push_str(&super::units::hex_dump(&reply.bytes, DUMP_LIMIT, INDENT));
}

fn option_line(text: &mut String, option: &DhcpOption) {
    let _ = writeln!(
        text,
        "{INDENT}{:#06x}  option  {} {}, {} bytes: {}",
        option.offset,
        option.code,
        option_name(option.code),
        option.length,
        value(&option.value)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_days_hours_minutes_seconds() {
        assert_eq!(duration(43_200), "12h");
        assert_eq!(duration(90_061), "1d 1h 1m 1s");
        assert_eq!(duration(0), "0s");
        assert_eq!(
            value(&OptionValue::Seconds { seconds: u32::MAX }),
            "infinite"
        );
    }
}
