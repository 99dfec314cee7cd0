//! `netdx perf` lines, iperf3's: the connections, an interval block per
//! report (a line per stream, `[SUM]` with several), and the sender's and
//! receiver's totals; the server's one line per test.

use std::fmt::Write;

use crate::perf::serve::ServeEvent;
use crate::perf::{End, Interval, Measure, Protocol, Report, Start};

const RULE: &str = "- - - - - - - - - - - - - - - - - - - - - - - - -\n";

/// iperf3's three significant figures: `9.42`, `94.2`, `942`.
fn figures(value: f64) -> String {
    if value < 9.995 {
        format!("{value:4.2}")
    } else if value < 99.95 {
        format!("{value:4.1}")
    } else {
        format!("{value:4.0}")
    }
}

/// Bytes as iperf3 prints them (1024-based): `1.10 GBytes`.
pub fn bytes(count: u64) -> String {
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 * 0.995 && unit < 4 {
        value /= 1024.0;
        unit += 1;
    }
    let name = ["Bytes", "KBytes", "MBytes", "GBytes", "TBytes"][unit];
    format!("{} {name}", figures(value))
}

/// A rate as iperf3 prints it (1000-based): `9.42 Gbits/sec`.
pub fn bitrate(bits_per_second: f64) -> String {
    let mut value = bits_per_second;
    let mut unit = 0;
    while value >= 1000.0 * 0.9995 && unit < 4 {
        value /= 1000.0;
        unit += 1;
    }
    let name = [
        "bits/sec",
        "Kbits/sec",
        "Mbits/sec",
        "Gbits/sec",
        "Tbits/sec",
    ][unit];
    format!("{} {name}", figures(value))
}

fn id(measure: &Measure, tag: &str) -> String {
    match measure.socket {
        Some(socket) => format!("[{socket:3}]{tag}"),
        None => format!("[SUM]{tag}"),
    }
}

/// `[  1]   0.00-1.00   sec  1.10 GBytes  9.42 Gbits/sec` without the
/// protocol's columns.
fn span(measure: &Measure, tag: &str) -> String {
    format!(
        "{} {:6.2}-{:<6.2} sec  {:>11}  {:>14}",
        id(measure, tag),
        measure.start,
        measure.end,
        bytes(measure.bytes),
        bitrate(measure.bits_per_second)
    )
}

/// The protocol's columns of one measure; `total` for the end's lines.
fn columns(measure: &Measure, protocol: Protocol, total: bool) -> String {
    match (protocol, measure.sender) {
        (Protocol::Tcp, true) => {
            let retr = measure
                .retransmits
                .map_or_else(|| "   ".to_string(), |r| format!("{r:4}"));
            let cwnd = match (total, measure.snd_cwnd) {
                (false, Some(cwnd)) => format!("   {}", bytes(cwnd)),
                _ => String::new(),
            };
            format!("  {retr}{cwnd}")
        }
        (Protocol::Tcp, false) => String::new(),
        (Protocol::Udp, true) => measure
            .packets
            .map_or_else(String::new, |p| format!("  {p}")),
        (Protocol::Udp, false) => {
            let lost = measure.lost_packets.unwrap_or(0);
            let total_sent = measure.packets.unwrap_or(0) + lost;
            let mut text = format!(
                "  {:5.3} ms  {lost}/{total_sent} ({}%)",
                measure.jitter_ms.unwrap_or(0.0),
                percent(measure.lost_percent.unwrap_or(0.0))
            );
            if let Some(ooo) = measure.out_of_order.filter(|&n| n > 0) {
                let _ = write!(text, "  {ooo} out of order");
            }
            text
        }
    }
}

fn percent(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if value < 0.01 {
        format!("{value:.2e}")
    } else {
        format!("{value:.2}")
    }
}

fn header(protocol: Protocol, sender: bool, total: bool) -> &'static str {
    match (protocol, sender, total) {
        (Protocol::Tcp, true, false) => {
            "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n"
        }
        (Protocol::Tcp, true, true) => {
            "[ ID] Interval           Transfer     Bitrate         Retr\n"
        }
        (Protocol::Tcp, false, _) => "[ ID] Interval           Transfer     Bitrate\n",
        (Protocol::Udp, true, false) => {
            "[ ID] Interval           Transfer     Bitrate         Total Datagrams\n"
        }
        (Protocol::Udp, _, _) => {
            "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams\n"
        }
    }
}

/// `[TX-C]`/`[RX-C]` on --bidir lines, as iperf3 marks the client's two directions.
fn tag(bidir: bool, sender: bool) -> &'static str {
    match (bidir, sender) {
        (false, _) => "",
        (true, true) => "[TX-C]",
        (true, false) => "[RX-C]",
    }
}

/// `Connecting to host …`, each connection, and the first interval header.
pub fn start(start: &Start) -> String {
    let test = &start.test_start;
    let mut text = format!(
        "Connecting to host {}, port {}\n",
        super::printable(&start.connecting_to.host),
        start.connecting_to.port
    );
    if test.reverse == 1 {
        let _ = writeln!(
            text,
            "Reverse mode, remote host {} is sending",
            super::printable(&start.connecting_to.host)
        );
    }
    for c in &start.connected {
        let _ = writeln!(
            text,
            "[{:3}]{} local {} port {} connected to {} port {}",
            c.socket,
            tag(test.bidir == 1, c.sender),
            c.local_host,
            c.local_port,
            c.remote_host,
            c.remote_port
        );
    }
    let sender = start.connected.first().is_some_and(|c| c.sender);
    if test.bidir == 1 {
        text.push_str(header(test.protocol, true, false));
    } else {
        text.push_str(header(test.protocol, sender, false));
    }
    text
}

/// One interval: a line per stream, and `[SUM]` lines when there are several.
pub fn interval(interval: &Interval, protocol: Protocol, bidir: bool) -> String {
    let mut text = String::new();
    let mut line = |m: &Measure| {
        let _ = writeln!(
            text,
            "{}{}",
            span(m, tag(bidir, m.sender)),
            columns(m, protocol, false)
        );
    };
    for m in &interval.streams {
        line(m);
    }
    let several = interval.streams.len() > 1;
    if several {
        line(&interval.sum);
        if let Some(back) = &interval.sum_bidir_reverse {
            line(back);
        }
    }
    if several {
        text.push_str(RULE);
    }
    text
}

fn end_line(text: &mut String, m: &Measure, protocol: Protocol, tag: &str) {
    let role = if m.sender { "sender" } else { "receiver" };
    let _ = writeln!(
        text,
        "{}{}  {role}",
        span(m, tag),
        columns(m, protocol, true)
    );
}

/// The totals: each stream's sender and receiver lines, then the sums.
pub fn summary(report: &Report) -> String {
    let protocol = report.start.test_start.protocol;
    let bidir = report.start.test_start.bidir == 1;
    let End {
        streams,
        sum_sent,
        sum_received,
        sum_sent_bidir_reverse,
        sum_received_bidir_reverse,
        ..
    } = &report.end;
    // Several streams: the last interval block already ended with the rule.
    let mut text = String::from(if streams.len() > 1 { "" } else { RULE });
    text.push_str(header(protocol, true, true));
    let client_sends = |index: usize| report.start.connected.get(index).is_some_and(|c| c.sender);
    for (index, stream) in streams.iter().enumerate() {
        let tag = tag(bidir, client_sends(index));
        end_line(&mut text, &stream.sender, protocol, tag);
        end_line(&mut text, &stream.receiver, protocol, tag);
    }
    if streams.len() > 1 {
        let forward = tag(bidir, client_sends(0));
        end_line(&mut text, sum_sent, protocol, forward);
        end_line(&mut text, sum_received, protocol, forward);
        if let (Some(sent), Some(received)) = (sum_sent_bidir_reverse, sum_received_bidir_reverse) {
            let back = tag(bidir, !client_sends(0));
            end_line(&mut text, sent, protocol, back);
            end_line(&mut text, received, protocol, back);
        }
    }
    text.push_str("\nnetdx perf done.\n");
    text
}

/// The server's line for an event.
pub fn serve_event(event: &ServeEvent) -> String {
    match event {
        ServeEvent::Listening { address } => format!("Server listening on {address}\n"),
        ServeEvent::TestStarted { peer, test } => {
            let direction = match (test.reverse, test.bidir) {
                (_, true) => "both ways",
                (true, _) => "server sending",
                _ => "client sending",
            };
            format!(
                "Accepted {peer}: {}, {} stream(s), {:.1} s, {direction}\n",
                test.protocol.name(),
                test.streams,
                test.duration().as_secs_f64()
            )
        }
        ServeEvent::TestEnded {
            peer,
            bytes: total,
            seconds,
        } => format!("Done {peer}: {} in {seconds:.2} s\n", bytes(*total)),
        ServeEvent::Refused { peer, reason } => {
            format!("Refused {peer}: {}\n", super::printable(reason))
        }
        ServeEvent::Failed { peer, error } => {
            format!("Failed {peer}: {}\n", super::printable(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_have_iperf3s_three_figures() {
        assert_eq!(bytes(0), "0.00 Bytes");
        assert_eq!(bytes(1_181_116_006), "1.10 GBytes");
        assert_eq!(bytes(1_258_291), "1.20 MBytes");
        assert_eq!(bytes(132 * 1024), " 132 KBytes");
        assert_eq!(bitrate(9.42e9), "9.42 Gbits/sec");
        assert_eq!(bitrate(22.5e9), "22.5 Gbits/sec");
        assert_eq!(bitrate(1.05e6), "1.05 Mbits/sec");
        assert_eq!(bitrate(0.0), "0.00 bits/sec");
    }

    #[test]
    fn an_interval_line_is_iperf3s() {
        let mut m = Measure::over(Some(5), 0.0, 1.0, 1_181_116_006, true);
        m.retransmits = Some(0);
        m.snd_cwnd = Some(1_258_291);
        let line = format!("{}{}", span(&m, ""), columns(&m, Protocol::Tcp, false));
        assert_eq!(
            line,
            "[  5]   0.00-1.00   sec  1.10 GBytes  9.45 Gbits/sec     0   1.20 MBytes"
        );
    }
}
