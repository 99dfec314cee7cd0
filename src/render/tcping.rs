//! tcping's lines, shaped like ping's: a header, one line per probe, and
//! ping's statistics block with percentiles.

use std::fmt::Write;
use std::net::SocketAddr;

use crate::tcping::{Probe, Report, Status};

fn endpoint(report_host: &str, target: SocketAddr) -> String {
    let host = super::printable(report_host);
    if host == target.ip().to_string() {
        target.to_string()
    } else {
        format!("{host} ({target})")
    }
}

/// `TCPING example.test (10.0.0.2:443): TCP handshakes`.
pub fn header(host: &str, target: SocketAddr) -> String {
    format!("TCPING {}: TCP handshakes\n", endpoint(host, target))
}

/// One probe: `Connected to 10.0.0.2:443: seq=1 time=0.061 ms`, or what
/// went wrong.
pub fn probe(target: SocketAddr, probe: &Probe) -> String {
    let time = probe
        .time_ms
        .map(|ms| format!(" time={:.3} ms", (ms * 1000.0).floor() / 1000.0))
        .unwrap_or_default();
    match probe.status {
        Status::Connected => {
            let retried = match probe.syn_retransmits {
                Some(n) if n > 0 => format!(" (SYN sent {} times)", n + 1),
                _ => String::new(),
            };
            format!("Connected to {target}: seq={}{time}{retried}\n", probe.seq)
        }
        Status::Closed => format!(
            "Closed {target}: seq={} connection refused (RST){time}\n",
            probe.seq
        ),
        Status::Timeout => format!("No answer from {target}: seq={} timed out\n", probe.seq),
        Status::Error => format!(
            "Error to {target}: seq={} {}\n",
            probe.seq,
            probe.error.as_deref().unwrap_or("failed")
        ),
    }
}

/// ping's statistics block: counts, loss and time, then the round trips.
pub fn summary(report: &Report) -> String {
    let target = SocketAddr::new(report.address, report.port);
    let mut text = format!(
        "\n--- {} tcping statistics ---\n",
        endpoint(&report.host, target)
    );
    let mut counts = format!(
        "{} probes transmitted, {} connected",
        report.transmitted, report.connected
    );
    let failed = report.closed + report.errors;
    if failed > 0 {
        let _ = write!(counts, ", +{failed} errors");
        if report.closed > 0 {
            let _ = write!(counts, " ({} closed)", report.closed);
        }
    }
    if report.timeouts > 0 {
        let _ = write!(counts, ", {} timed out", report.timeouts);
    }
    let _ = writeln!(
        text,
        "{counts}, {}% loss, time {}ms",
        super::ping::percent_g(report.loss_percent),
        report.elapsed_ms.round() as u64
    );
    if let Some(rtt) = &report.rtt {
        text.push_str(&super::units::rtt_lines(rtt));
    }
    text
}
