//! `netdx http`'s text: the status line and headers as curl -i shows them,
//! the redirects, the body's fate, the TLS session and certificate, the
//! waterfall (httpstat's picture on a terminal, numbers always), TCP_INFO,
//! and with `-c N` one line per request and the percentiles per phase.

use std::fmt::Write;

use super::printable;
use super::units::{ifconfig_bytes, millis};
use crate::http::{Exchange, LookupSource, Phase, PhaseStats, Report, Timeout, Timings};

/// What to show.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// `-I`: the status line and headers only.
    pub head_only: bool,
    /// stdout is a terminal: draw the waterfall.
    pub picture: bool,
}

/// The warning `-k` prints on stderr.
pub fn insecure_warning() -> &'static str {
    "netdx: warning: -k: the server's certificate is not verified; anyone on the path could be answering\n"
}

/// The stderr line for a request that ran out of time.
pub fn timeout_line(timeout: &Timeout) -> String {
    let phase = match timeout.phase {
        Phase::Namelookup => "resolving the host",
        Phase::Connect => "connecting",
        Phase::Tls => "in the TLS handshake",
        Phase::Send => "sending the request",
        Phase::FirstByte => "waiting for the response",
        Phase::Transfer => "reading the response",
    };
    format!(
        "netdx: request {} timed out {phase} after {} s (--{}; raise it if the server is just slow)\n",
        timeout.request,
        timeout.after_ms / 1000.0,
        timeout.limit
    )
}

/// The whole text.
pub fn report(report: &Report, view: View) -> String {
    let mut text = String::new();
    let finals = report.stats.is_some();
    for (index, exchange) in report.exchanges.iter().enumerate() {
        let last = index + 1 == report.exchanges.len();
        if last {
            break;
        }
        if !finals {
            let location = header(exchange, "location").unwrap_or("");
            let _ = writeln!(
                text,
                "< HTTP/{} {} {}  → {}",
                exchange.http_version,
                exchange.status,
                printable(&exchange.reason),
                printable(location)
            );
        }
    }
    let Some(last) = report.exchanges.last() else {
        return text;
    };
    let _ = writeln!(
        text,
        "HTTP/{} {} {}",
        last.http_version,
        last.status,
        printable(&last.reason)
    );
    for field in &last.headers {
        let _ = writeln!(
            text,
            "{}: {}",
            printable(&field.name),
            printable(&field.value)
        );
    }
    if view.head_only {
        return text;
    }
    text.push('\n');
    let _ = writeln!(text, "{}", connection_line(report, last));
    if let Some(tls) = &report.tls {
        let _ = writeln!(
            text,
            "TLS: {} {}, ALPN {}{}",
            tls.version,
            tls.cipher,
            tls.alpn.as_deref().unwrap_or("none"),
            if tls.verified {
                ""
            } else {
                " (certificate not verified: -k)"
            }
        );
    }
    if let Some(cert) = &report.certificate {
        let _ = writeln!(
            text,
            "Certificate: subject {}; issuer {}; not after {} ({} days left)",
            printable(&cert.subject),
            printable(&cert.issuer),
            cert.not_after,
            cert.days_left
        );
    }
    let _ = writeln!(text, "{}", body_line(report, last));
    text.push('\n');
    if view.picture {
        text.push_str(&picture(&last.timings, report.tls.is_some()));
        text.push('\n');
    }
    text.push_str(&numbers(&last.timings, report.tls.is_some()));
    if let Some(info) = &report.tcp_info {
        let ms = |v: Option<f64>| v.map_or("?".into(), millis);
        let num = |v: Option<u32>| v.map_or("?".into(), |v| v.to_string());
        let _ = writeln!(
            text,
            "\nTCP_INFO: rtt {} (var {}), retransmits {}, cwnd {}, mss {}, delivery rate {}/s{}",
            ms(info.rtt_ms),
            ms(info.rttvar_ms),
            num(info.total_retrans),
            num(info.cwnd),
            num(info.mss),
            info.delivery_rate.map_or("?".into(), ifconfig_bytes),
            info.congestion
                .as_deref()
                .map(|c| format!(", {}", printable(c)))
                .unwrap_or_default()
        );
    }
    if let Some(stats) = &report.stats {
        text.push('\n');
        for (index, exchange) in report.exchanges.iter().enumerate() {
            let _ = writeln!(
                text,
                "request {:>3}: {} {}  connect {}  starttransfer {}  total {}{}",
                index + 1,
                exchange.status,
                printable(&exchange.reason),
                millis(exchange.timings.time_connect),
                millis(exchange.timings.time_starttransfer),
                millis(exchange.timings.time_total),
                if exchange.reused {
                    "  (kept connection)"
                } else {
                    "  (new connection)"
                }
            );
        }
        text.push('\n');
        text.push_str(&stats_table(stats, report.num_connects));
    }
    text
}

fn header<'a>(exchange: &'a Exchange, name: &str) -> Option<&'a str> {
    exchange
        .headers
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.value.as_str())
}

fn connection_line(report: &Report, last: &Exchange) -> String {
    let mut line = format!("Connected to {} port {}", last.remote_ip, last.remote_port);
    if let Some(lookup) = &report.lookup {
        let source = match lookup.source {
            LookupSource::Literal => "an address in the URL",
            LookupSource::Pinned => "--resolve",
            LookupSource::Resolver => "resolved",
        };
        let _ = write!(line, " ({}, {source}", lookup.family);
        if lookup.addresses.len() > 1 {
            let _ = write!(line, ", 1 of {} addresses", lookup.addresses.len());
        }
        line.push(')');
    }
    if last.reused {
        line.push_str(", kept connection");
    }
    line
}

fn body_line(report: &Report, last: &Exchange) -> String {
    let size = format!(
        "{} bytes ({})",
        last.size_download,
        ifconfig_bytes(last.size_download)
    );
    let rate = format!("{}/s", ifconfig_bytes(last.speed_download as u64));
    match &report.output {
        Some(path) => format!("Body: {size} written to {}, {rate}", printable(path)),
        None => format!("Body: {size} discarded, {rate}"),
    }
}

/// The durations of each phase, from the cumulative times.
struct Spans {
    dns: f64,
    tcp: f64,
    tls: f64,
    server: f64,
    transfer: f64,
}

fn spans(t: &Timings, tls: bool) -> Spans {
    let connected = if tls && t.time_appconnect > 0.0 {
        t.time_appconnect
    } else {
        t.time_connect.max(t.time_namelookup)
    };
    Spans {
        dns: t.time_namelookup,
        tcp: (t.time_connect - t.time_namelookup).max(0.0),
        tls: if tls && t.time_appconnect > 0.0 {
            (t.time_appconnect - t.time_connect).max(0.0)
        } else {
            0.0
        },
        server: (t.time_starttransfer - t.time_pretransfer.max(connected)).max(0.0),
        transfer: (t.time_total - t.time_starttransfer).max(0.0),
    }
}

/// httpstat's picture: the phases as bars, the cumulative times under them.
fn picture(t: &Timings, tls: bool) -> String {
    let s = spans(t, tls);
    let mut bars = vec![("DNS Lookup", s.dns), ("TCP Connect", s.tcp)];
    // Each mark sits under the end of the bar whose phase it ends.
    let mut marks = vec![
        ("namelookup", t.time_namelookup, 0),
        ("connect", t.time_connect, 1),
    ];
    if tls {
        bars.push(("TLS Handshake", s.tls));
        marks.push(("pretransfer", t.time_pretransfer, 2));
    }
    bars.extend([("Server", s.server), ("Transfer", s.transfer)]);
    marks.push(("starttransfer", t.time_starttransfer, bars.len() - 2));
    marks.push(("total", t.time_total, bars.len() - 1));
    let names: Vec<String> = bars.iter().map(|(name, _)| format!("{name:^15}")).collect();
    let cells: Vec<String> = bars
        .iter()
        .map(|(_, ms)| format!("{:^15}", format!("{ms:.2}ms")))
        .collect();
    let mut text = format!("  {}\n", names.join(" ").trim_end());
    let _ = writeln!(text, "[ {} ]", cells.join("|"));
    // "[ " and 15 columns a bar, each ended by '|': bar k ends at column 16k + 1.
    let end = |bar: usize| 16 * (bar + 1) + 1;
    let width = end(bars.len()) + 1;
    let row = |from: usize, label: Option<(&str, usize)>| {
        let mut row: Vec<char> = vec![' '; width];
        for (_, _, bar) in &marks[from..] {
            row[end(*bar)] = '|';
        }
        let mut line: String = row.iter().collect();
        if let Some((label, at)) = label {
            let start = (at + 1).saturating_sub(label.len());
            line.replace_range(start..at + 1, label);
        }
        line.trim_end().to_string()
    };
    let _ = writeln!(text, "{}", row(0, None));
    for (index, (name, ms, bar)) in marks.iter().enumerate() {
        let label = format!("{name}:{ms:.2}ms");
        let _ = writeln!(text, "{}", row(index + 1, Some((&label, end(*bar)))));
    }
    text
}

/// The times as numbers: curl -w's cumulative ones, each phase's own beside.
fn numbers(t: &Timings, tls: bool) -> String {
    let s = spans(t, tls);
    let mut text = String::new();
    let mut row = |name: &str, at: f64, phase: &str, span: f64| {
        let _ = writeln!(
            text,
            "{name:<19}{:>12}   {phase:<18}{:>12}",
            millis(at),
            millis(span)
        );
    };
    row("time_namelookup", t.time_namelookup, "DNS lookup", s.dns);
    row("time_connect", t.time_connect, "TCP connect", s.tcp);
    if tls {
        row("time_appconnect", t.time_appconnect, "TLS handshake", s.tls);
    }
    row(
        "time_pretransfer",
        t.time_pretransfer,
        "request sent",
        (t.time_requestsent - t.time_pretransfer).max(0.0),
    );
    row(
        "time_starttransfer",
        t.time_starttransfer,
        "first byte",
        s.server,
    );
    row("time_total", t.time_total, "transfer", s.transfer);
    text
}

fn stats_table(stats: &PhaseStats, connects: u32) -> String {
    let mut text = format!(
        "{:<19}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}   ({connects} connection{})\n",
        "ms",
        "min",
        "avg",
        "max",
        "p50",
        "p90",
        "p99",
        if connects == 1 { "" } else { "s" }
    );
    for (name, s) in [
        ("time_namelookup", &stats.time_namelookup),
        ("time_connect", &stats.time_connect),
        ("time_appconnect", &stats.time_appconnect),
        ("time_pretransfer", &stats.time_pretransfer),
        ("time_starttransfer", &stats.time_starttransfer),
        ("time_total", &stats.time_total),
    ] {
        let _ = writeln!(
            text,
            "{name:<19}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}{:>10.3}",
            s.min, s.avg, s.max, s.p50, s.p90, s.p99
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings() -> Timings {
        Timings {
            time_namelookup: 0.5,
            time_connect: 1.5,
            time_appconnect: 4.0,
            time_pretransfer: 4.1,
            time_requestsent: 4.2,
            time_starttransfer: 6.0,
            time_total: 7.25,
        }
    }

    #[test]
    fn each_mark_ends_under_its_bar_and_later_bars_continue() {
        for (tls, marks) in [(false, 4), (true, 5)] {
            let text = picture(&timings(), tls);
            let lines: Vec<&str> = text.lines().collect();
            let bar_line = lines[1];
            let ends: Vec<usize> = bar_line.match_indices('|').map(|(at, _)| at).collect();
            assert_eq!(ends.len(), marks - 1, "{text}");
            assert_eq!(lines[2].matches('|').count(), marks, "{text}");
            assert_eq!(lines.len(), 3 + marks, "{text}");
            // The last mark (total) ends past the last bar, under the ']'-side end.
            let last = lines[lines.len() - 1];
            assert!(last.trim_start().starts_with("total:7.25ms"), "{text}");
            for (row, line) in lines[3..].iter().enumerate() {
                assert_eq!(line.matches('|').count(), marks - 1 - row, "{text}");
            }
        }
        assert!(picture(&timings(), true).contains("pretransfer:4.10ms"));
        assert!(!picture(&timings(), false).contains("pretransfer"));
    }

    #[test]
    fn numbers_show_cumulative_times_and_each_phase() {
        let text = numbers(&timings(), true);
        assert!(
            text.contains("time_appconnect        4.000 ms   TLS handshake         2.500 ms"),
            "{text}"
        );
        assert!(
            text.contains("time_starttransfer     6.000 ms   first byte            1.900 ms"),
            "{text}"
        );
        assert!(!numbers(&timings(), false).contains("time_appconnect"));
    }

    #[test]
    fn a_timeout_is_one_line_naming_the_phase_and_the_limit() {
        let line = timeout_line(&Timeout {
            phase: Phase::FirstByte,
            after_ms: 1500.0,
            limit: "max-time",
            request: 2,
        });
        assert_eq!(
            line,
            "netdx: request 2 timed out waiting for the response after 1.5 s (--max-time; raise it if the server is just slow)\n"
        );
    }
}
