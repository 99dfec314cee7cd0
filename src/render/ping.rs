//! ping's views: iputils' lines and summary for one host, fping's lists and
//! a table for many, the flood display and the sweep progress bar.

use std::fmt::Write;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use comfy_table::Cell;

use super::{Output, Role, Style, table};
use crate::ping::{
    Corruption, IcmpErrorKind, IcmpErrorReport, Reply, ReplyStatus, Target, TargetReport,
};

/// Display choices that shape each line.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineOptions {
    /// `-D`: prefix lines with the Unix time.
    pub timestamps: bool,
    /// `-n`: never show names, only addresses.
    pub numeric: bool,
}

/// `PATTERN: 0x…` as iputils prints it before the header.
pub fn pattern_line(pattern: &[u8]) -> String {
    let hex: String = pattern.iter().map(|b| format!("{b:02x}")).collect();
    format!("PATTERN: 0x{hex}\n")
}

/// The `PING …` header line.
pub fn header(target: &Target, size: usize, source: Option<(IpAddr, Option<&str>)>) -> String {
    let from = source.map_or_else(String::new, |(address, iface)| {
        format!("from {address} {}: ", iface.unwrap_or(""))
    });
    match target.address {
        IpAddr::V4(address) => format!(
            "PING {} ({address}) {}{size}({}) bytes of data.\n",
            super::printable(&target.name),
            from,
            size + 28
        ),
        IpAddr::V6(address) => {
            let from = if from.is_empty() {
                String::new()
            } else {
                format!(" {from}")
            };
            format!(
                "PING {}({address}){from} {size} data bytes\n",
                super::printable(&target.name)
            )
        }
    }
}

/// A sender as iputils shows it: `name (address)` for a named target, else the address.
fn sender(target: &Target, from: IpAddr, options: LineOptions) -> String {
    if target.named && !options.numeric && from == target.address {
        format!("{} ({from})", super::printable(&target.name))
    } else {
        from.to_string()
    }
}

fn timestamp_prefix(at: SystemTime, options: LineOptions) -> String {
    if !options.timestamps {
        return String::new();
    }
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("[{}.{:06}] ", since.as_secs(), since.subsec_micros())
}

/// An RTT the way iputils prints `time=`: 3 decimals under 1 ms, 2 under
/// 10 ms, 1 under 100 ms, none above, rounded as iputils rounds.
pub fn iputils_time(us: u64) -> String {
    if us >= 100_000 - 50 {
        format!("{}", (us + 500) / 1000)
    } else if us >= 10_000 - 5 {
        format!("{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100)
    } else if us >= 1000 {
        format!("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10)
    } else {
        format!("{}.{:03}", us / 1000, us % 1000)
    }
}

/// Milliseconds with three decimals, truncated (iputils' `%ld.%03ld`).
fn ms3(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// One reply line: `64 bytes from addr: icmp_seq=1 ttl=64 time=0.054 ms`.
pub fn reply_line(target: &Target, reply: &Reply, options: LineOptions, style: &Style) -> String {
    let mut line = timestamp_prefix(reply.at, options);
    let _ = write!(
        line,
        "{} bytes from {}: icmp_seq={}",
        reply.bytes,
        sender(target, reply.from, options),
        reply.seq
    );
    if let Some(ttl) = reply.ttl {
        let _ = write!(line, " ttl={ttl}");
    }
    let us = u64::try_from(reply.rtt.as_micros()).unwrap_or(u64::MAX);
    let _ = write!(line, " time={} ms", iputils_time(us));
    match reply.status {
        ReplyStatus::Good => {}
        ReplyStatus::Duplicate => line.push_str(&style.paint(Role::Bad, " (DUP!)")),
        ReplyStatus::Late => line.push_str(&style.paint(Role::Bad, " (LATE! not counted)")),
        ReplyStatus::Corrupted(Corruption::BadChecksum) => {
            line.push_str(&style.paint(Role::Bad, " (BAD CHECKSUM!)"));
        }
        ReplyStatus::Corrupted(Corruption::Length { bytes, expected }) if bytes < expected => {
            line.push_str(&style.paint(Role::Bad, " (truncated)"));
        }
        ReplyStatus::Corrupted(Corruption::Length { bytes, expected }) => {
            let _ = write!(
                line,
                " (data longer than sent: {bytes} bytes, sent {expected})"
            );
        }
        ReplyStatus::Corrupted(Corruption::WrongByte {
            offset,
            expected,
            got,
        }) => {
            let _ = write!(
                line,
                "\nwrong data byte #{offset} should be 0x{expected:x} but was 0x{got:x}"
            );
        }
    }
    line.push('\n');
    line
}

/// `From router icmp_seq=3 Destination Host Unreachable`; local errors go to stderr instead.
pub fn error_line(
    target: &Target,
    error: &IcmpErrorReport,
    options: LineOptions,
) -> Option<String> {
    let IcmpErrorKind::Icmp {
        from,
        v6,
        icmp_type,
        code,
        info,
    } = error.kind
    else {
        return None;
    };
    let from = from.unwrap_or(target.address);
    Some(format!(
        "{}From {} icmp_seq={} {}\n",
        timestamp_prefix(error.at, options),
        sender(target, from, options),
        error.seq,
        icmp_error_text(v6, icmp_type, code, info)
    ))
}

/// The stderr line for a local error on the error queue (e.g. EMSGSIZE).
pub fn local_error_line(error: &IcmpErrorReport) -> Option<String> {
    local_error_text(error).map(|text| format!("netdx: local error: {text}\n"))
}

/// A local error on the error queue in words (`message too long, mtu=1400`).
pub fn local_error_text(error: &IcmpErrorReport) -> Option<String> {
    let IcmpErrorKind::Local { errno, info } = error.kind else {
        return None;
    };
    if errno == libc::EMSGSIZE {
        Some(format!("message too long, mtu={info}"))
    } else {
        Some(std::io::Error::from_raw_os_error(errno).to_string())
    }
}

/// iputils' description of an ICMP error (`pr_icmph` for IPv4, `print_icmp` for IPv6).
pub fn icmp_error_text(v6: bool, icmp_type: u8, code: u8, info: u32) -> String {
    if v6 {
        return icmpv6_error_text(icmp_type, code, info);
    }
    match (icmp_type, code) {
        (3, 0) => "Destination Net Unreachable".into(),
        (3, 1) => "Destination Host Unreachable".into(),
        (3, 2) => "Destination Protocol Unreachable".into(),
        (3, 3) => "Destination Port Unreachable".into(),
        (3, 4) => format!("Frag needed and DF set (mtu = {info})"),
        (3, 5) => "Source Route Failed".into(),
        (3, 6) => "Destination Net Unknown".into(),
        (3, 7) => "Destination Host Unknown".into(),
        (3, 8) => "Source Host Isolated".into(),
        (3, 9) => "Destination Net Prohibited".into(),
        (3, 10) => "Destination Host Prohibited".into(),
        (3, 11) => "Destination Net Unreachable for Type of Service".into(),
        (3, 12) => "Destination Host Unreachable for Type of Service".into(),
        (3, 13) => "Packet filtered".into(),
        (3, 14) => "Precedence Violation".into(),
        (3, 15) => "Precedence Cutoff".into(),
        (3, code) => format!("Dest Unreachable, Bad Code: {code}"),
        (4, _) => "Source Quench".into(),
        (5, 0) => "Redirect Network".into(),
        (5, 1) => "Redirect Host".into(),
        (5, 2) => "Redirect Type of Service and Network".into(),
        (5, 3) => "Redirect Type of Service and Host".into(),
        (5, code) => format!("Redirect, Bad Code: {code}"),
        (11, 0) => "Time to live exceeded".into(),
        (11, 1) => "Frag reassembly time exceeded".into(),
        (11, code) => format!("Time exceeded, Bad Code: {code}"),
        (12, _) => format!("Parameter problem: pointer = {}", info),
        (other, _) => format!("Bad ICMP type: {other}"),
    }
}

fn icmpv6_error_text(icmp_type: u8, code: u8, info: u32) -> String {
    match icmp_type {
        1 => {
            let what = match code {
                0 => "No route".to_string(),
                1 => "Administratively prohibited".into(),
                2 => "Beyond scope of source address".into(),
                3 => "Address unreachable".into(),
                4 => "Port unreachable".into(),
                5 => "Source address failed ingress/egress policy".into(),
                6 => "Reject route to destination".into(),
                other => format!("Unknown code {other}"),
            };
            format!("Destination unreachable: {what}")
        }
        2 if code == 0 => format!("Packet too big: mtu={info}"),
        2 => format!("Packet too big: mtu={info}, code={code}"),
        3 => match code {
            0 => "Time exceeded: Hop limit".into(),
            1 => "Time exceeded: Defragmentation failure".into(),
            other => format!("Time exceeded: code {other}"),
        },
        4 => {
            let what = match code {
                0 => "Wrong header field ".to_string(),
                1 => "Unknown header ".into(),
                2 => "Unknown option ".into(),
                other => format!("code {other} "),
            };
            format!("Parameter problem: {what}at {info}")
        }
        other => format!("unknown icmp type: {other}"),
    }
}

/// `no answer yet for icmp_seq=N` (`-O`).
pub fn no_answer_line(seq: u16, at: SystemTime, options: LineOptions) -> String {
    format!(
        "{}no answer yet for icmp_seq={seq}\n",
        timestamp_prefix(at, options)
    )
}

/// `%g` of a percentage, as iputils prints packet loss.
pub fn percent_g(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".into();
    }
    let digits = value.abs().log10().floor() as i32 + 1;
    let decimals = (6 - digits).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// How the summary is dressed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryOptions {
    /// Flood mode: add iputils' `ipg/ewma`.
    pub flood: bool,
    /// Draw the RTT histogram (terminals only).
    pub histogram: bool,
}

/// The statistics block printed when a run ends.
pub fn summary(report: &TargetReport, options: SummaryOptions) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "\n--- {} ping statistics ---", report.target);
    let _ = write!(
        text,
        "{} packets transmitted, {} received",
        report.transmitted, report.received
    );
    for (count, label) in [
        (report.duplicates, "duplicates"),
        (report.corrupted, "corrupted"),
        (report.errors, "errors"),
        (report.late, "late"),
    ] {
        if count > 0 {
            let _ = write!(text, ", +{count} {label}");
        }
    }
    if report.transmitted > 0 {
        let ms = (report.elapsed.as_micros() + 500) / 1000;
        let _ = write!(
            text,
            ", {}% packet loss, time {ms}ms",
            percent_g(report.loss_pct)
        );
    }
    text.push('\n');
    if let Some(classic) = report.rtt.iputils() {
        let _ = write!(
            text,
            "rtt min/avg/max/mdev = {}/{}/{}/{} ms",
            ms3(classic.min_us),
            ms3(classic.avg_us),
            ms3(classic.max_us),
            ms3(classic.mdev_us)
        );
        if options.flood && report.transmitted > 1 {
            let ipg = report.elapsed.as_micros() as u64 / (report.transmitted - 1);
            let ewma = report.rtt.ewma_us().unwrap_or(0);
            let _ = write!(text, ", ipg/ewma {}/{} ms", ms3(ipg), ms3(ewma));
        }
        text.push('\n');
        let p = |q: f64| report.rtt.percentile_us(q).map_or_else(|| "-".into(), ms3);
        let _ = writeln!(
            text,
            "rtt p50/p90/p99 = {}/{}/{} ms",
            p(50.0),
            p(90.0),
            p(99.0)
        );
        if options.histogram {
            text.push_str(&histogram(report));
        }
    }
    text
}

/// A one-line RTT histogram: eight bars between min and max.
fn histogram(report: &TargetReport) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const BUCKETS: usize = 16;
    let Some((min, max, counts)) = report.rtt.distribution_us(BUCKETS) else {
        return String::new();
    };
    let peak = counts.iter().copied().max().unwrap_or(1).max(1);
    let bars: String = counts
        .iter()
        .map(|&count| {
            if count == 0 {
                ' '
            } else {
                BARS[(count as usize * (BARS.len() - 1))
                    .div_ceil(peak as usize)
                    .min(BARS.len() - 1)]
            }
        })
        .collect();
    format!("rtt histogram {} |{bars}| {} ms\n", ms3(min), ms3(max))
}

/// The SIGQUIT line (stderr): `1/2 packets, 50% loss, min/avg/ewma/max = …`.
pub fn status_line(report: &TargetReport) -> String {
    let loss = (report.transmitted.saturating_sub(report.received) * 100)
        .checked_div(report.transmitted)
        .unwrap_or(0);
    let mut line = format!(
        "\r{}/{} packets, {loss}% loss",
        report.received, report.transmitted
    );
    if let (Some(classic), Some(ewma)) = (report.rtt.iputils(), report.rtt.ewma_us()) {
        let _ = write!(
            line,
            ", min/avg/ewma/max = {}/{}/{}/{} ms",
            ms3(classic.min_us),
            ms3(classic.avg_us),
            ms3(ewma),
            ms3(classic.max_us)
        );
    }
    line.push('\n');
    line
}

/// Sweep results as a table: target, address, sent, received, loss, min/avg/max.
pub fn sweep_table(reports: &[TargetReport], out: &Output) -> String {
    let headers = [
        "Target", "Address", "Sent", "Recv", "Loss %", "Min ms", "Avg ms", "Max ms",
    ];
    let mut rows = table::new(&headers, &[2, 3, 4, 5, 6, 7], out);
    for report in reports {
        let rtt = report.rtt.iputils();
        let cell = |value: Option<u64>| Cell::new(value.map_or_else(|| "-".to_string(), ms3));
        let loss = percent_g(report.loss_pct);
        rows.add_row(vec![
            table::cell(&report.target, Role::Name),
            Cell::new(report.address),
            Cell::new(report.transmitted),
            Cell::new(report.received),
            if report.alive() {
                Cell::new(loss)
            } else {
                table::cell(loss, Role::Bad)
            },
            cell(rtt.map(|r| r.min_us)),
            cell(rtt.map(|r| r.avg_us)),
            cell(rtt.map(|r| r.max_us)),
        ]);
    }
    table::finish(&rows)
}

/// The sweep progress bar (stderr, terminals only).
pub fn progress(done: u128, total: u128, alive: u64) -> String {
    const WIDTH: u128 = 30;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '#' } else { '.' })
        .collect();
    format!("\r[{bar}] {done}/{total} targets, {alive} alive ")
}

/// Erases the progress bar.
pub fn clear_progress() -> &'static str {
    "\r\x1b[2K"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_precision_follows_iputils() {
        assert_eq!(iputils_time(54), "0.054");
        assert_eq!(iputils_time(999), "0.999");
        assert_eq!(iputils_time(1000), "1.00");
        assert_eq!(iputils_time(1234), "1.23");
        assert_eq!(iputils_time(9994), "9.99");
        assert_eq!(iputils_time(9995), "10.0");
        assert_eq!(iputils_time(12_345), "12.3");
        assert_eq!(iputils_time(99_949), "99.9");
        assert_eq!(iputils_time(99_950), "100");
        assert_eq!(iputils_time(2_046_137), "2046");
    }

    #[test]
    fn loss_prints_like_printf_g() {
        assert_eq!(percent_g(0.0), "0");
        assert_eq!(percent_g(100.0), "100");
        assert_eq!(percent_g(f64::from(100.0f32 / 3.0)), "33.3333");
        assert_eq!(percent_g(f64::from(200.0f32 / 3.0)), "66.6667");
        assert_eq!(percent_g(2.5), "2.5");
        assert_eq!(percent_g(0.05), "0.05");
    }

    #[test]
    fn error_texts_match_iputils() {
        assert_eq!(
            icmp_error_text(false, 3, 1, 0),
            "Destination Host Unreachable"
        );
        assert_eq!(
            icmp_error_text(false, 3, 4, 1400),
            "Frag needed and DF set (mtu = 1400)"
        );
        assert_eq!(icmp_error_text(false, 11, 0, 0), "Time to live exceeded");
        assert_eq!(
            icmp_error_text(true, 1, 3, 0),
            "Destination unreachable: Address unreachable"
        );
        assert_eq!(icmp_error_text(true, 3, 0, 0), "Time exceeded: Hop limit");
        assert_eq!(
            icmp_error_text(true, 2, 0, 1280),
            "Packet too big: mtu=1280"
        );
    }

    #[test]
    fn ipv4_and_ipv6_headers_differ_like_iputils() {
        let v4 = Target {
            index: 0,
            name: "localhost".into(),
            address: "127.0.0.1".parse().unwrap(),
            scope_id: 0,
            named: true,
        };
        assert_eq!(
            header(&v4, 56, None),
            "PING localhost (127.0.0.1) 56(84) bytes of data.\n"
        );
        assert_eq!(
            header(&v4, 56, Some(("127.0.0.1".parse().unwrap(), Some("lo")))),
            "PING localhost (127.0.0.1) from 127.0.0.1 lo: 56(84) bytes of data.\n"
        );
        let v6 = Target {
            name: "::1".into(),
            address: "::1".parse().unwrap(),
            named: false,
            ..v4
        };
        assert_eq!(header(&v6, 56, None), "PING ::1(::1) 56 data bytes\n");
    }
}
