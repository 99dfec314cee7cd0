//! echo's views: the server's log lines and totals, the probe's ping-style
//! lines and summary, and the load progress line.

use std::fmt::Write;
use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::echo::Proto;
use crate::echo::load::{Connections, Progress};
use crate::echo::probe::{Observation, Report, Verdict};
use crate::echo::serve::{Close, Event, Totals};

use crate::render::json;
use crate::render::ping::{iputils_time, percent_g};
use crate::sockopt::Reading;

/// The server's log line for one event.
pub fn event_line(event: &Event) -> String {
    match event {
        Event::Listening { proto, address } => {
            format!("listening on {address} ({proto}); Ctrl-C stops and prints totals")
        }
        Event::Connected { id, peer } => format!("#{id} connection from {peer}"),
        Event::Closed {
            id,
            peer,
            bytes_in,
            bytes_out,
            duration_ms,
            close,
        } => format!(
            "#{id} closed {peer} after {:.3} s: {bytes_in} bytes in, {bytes_out} out ({})",
            duration_ms / 1000.0,
            close_detail(close)
        ),
        Event::Rejected { peer, max_conns } => {
            format!("rejected {peer}: {max_conns} connections open (--max-conns)")
        }
        Event::Oversized {
            peer,
            bytes,
            max_datagram,
        } => format!(
            "dropped a {bytes}-byte datagram from {peer}: over --max-datagram {max_datagram}"
        ),
        Event::AcceptFailed { errno } => format!("accept failed: {}", errno_words(*errno)),
    }
}

/// Why a connection ended, in words.
pub fn close_detail(close: &Close) -> String {
    match close {
        Close::PeerClosed => "peer closed".into(),
        Close::PeerClosedMidFrame { have, want } => {
            format!("peer closed mid-frame ({have} of {want} bytes)")
        }
        Close::IdleTimeout { limit } => format!("idle for {} s", limit.as_secs_f64()),
        Close::FrameTooLarge { length, max } => {
            format!("frame of {length} bytes is over --max-frame {max}")
        }
        Close::Reset => "connection reset by peer".into(),
        Close::Error { errno } => errno_words(*errno),
    }
}

/// An errno as the system words it (`EMFILE (Too many open files)`).
pub fn errno_words(errno: i32) -> String {
    if errno == 0 {
        return "an error without an errno".into();
    }
    crate::sockopt::errno_text(&std::io::Error::from_raw_os_error(errno))
}

/// The totals printed when the server stops.
pub fn totals(totals: &Totals, protos: &[Proto]) -> String {
    let mut text = String::from("--- echo service statistics ---\n");
    if protos.contains(&Proto::Tcp) {
        let _ = writeln!(
            text,
            "tcp: {} connections, {} rejected, {} timed out, {} frames too large, {} errors, {} still open",
            totals.connections,
            totals.rejected,
            totals.timed_out,
            totals.frames_too_large,
            totals.errors,
            totals.active
        );
    }
    if protos.contains(&Proto::Udp) {
        let _ = writeln!(
            text,
            "udp: {} datagrams in, {} echoed, {} oversized, {} unanswered",
            totals.datagrams_in,
            totals.datagrams_out,
            totals.datagrams_oversized,
            totals.datagrams_unanswered
        );
    }
    let _ = writeln!(
        text,
        "{} bytes in, {} bytes out, uptime {:.1} s",
        totals.bytes_in,
        totals.bytes_out,
        totals.uptime_ms as f64 / 1000.0
    );
    text
}

/// `ECHO localhost:7007 (127.0.0.1:7007) tcp from 127.0.0.1:40122: 64 bytes per probe`.
pub fn header(
    name: &str,
    report_target: SocketAddr,
    proto: Proto,
    local: Option<SocketAddr>,
    size: usize,
) -> String {
    let named = if name == report_target.ip().to_string() || name == report_target.to_string() {
        report_target.to_string()
    } else {
        format!("{name} ({report_target})")
    };
    let from = local.map(|l| format!(" from {l}")).unwrap_or_default();
    format!("ECHO {named} {proto}{from}: {size} bytes per probe\n")
}

fn time(rtt: Duration) -> String {
    iputils_time(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX))
}

/// One probe line, ping-style; `None` for what is only shown on request.
pub fn observation_line(
    target: SocketAddr,
    observation: &Observation,
    report_outstanding: bool,
) -> Option<String> {
    Some(match observation {
        Observation::Echo {
            seq,
            bytes,
            rtt,
            verdict,
            reordered,
        } => {
            let mut line = format!(
                "{bytes} bytes from {target}: seq={seq} time={} ms",
                time(*rtt)
            );
            match verdict {
                Verdict::Good => {}
                Verdict::Late => line.push_str(" (LATE: after the -W timeout)"),
                Verdict::Corrupted(difference) => {
                    let byte = |b: Option<u8>| {
                        b.map_or_else(|| "nothing".to_string(), |b| format!("0x{b:02x}"))
                    };
                    let _ = write!(
                        line,
                        " (CORRUPTED: byte {} sent {} got {})",
                        difference.offset,
                        byte(difference.sent),
                        byte(difference.got)
                    );
                }
            }
            if *reordered {
                line.push_str(" (reordered)");
            }
            line
        }
        Observation::Duplicate { seq, bytes, rtt } => {
            format!(
                "{bytes} bytes from {target}: seq={seq} time={} ms (DUP!)",
                time(*rtt)
            )
        }
        Observation::Stray { bytes } => {
            format!("{bytes} bytes from {target}: matches no probe of this run")
        }
        Observation::NoEcho { seq } if report_outstanding => format!("no echo yet for seq={seq}"),
        Observation::NoEcho { .. } => return None,
        Observation::Failed {
            seq: Some(seq),
            error,
        } => format!("From {target}: seq={seq} {error}"),
        Observation::Failed { seq: None, error } => format!("From {target}: {error}"),
    })
}

/// The statistics block.
pub fn summary(report: &Report, connections: Option<&Connections>) -> String {
    let mut text = format!(
        "\n--- {} {} echo statistics ---\n",
        report.target, report.proto
    );
    let loss = if report.counts.transmitted == 0 {
        0.0
    } else {
        (report.counts.transmitted - report.counts.received.min(report.counts.transmitted)) as f64
            * 100.0
            / report.counts.transmitted as f64
    };
    let _ = writeln!(
        text,
        "{} probes transmitted, {} received, {} lost, {} corrupted, {} late, {} duplicated, {} reordered, {}% not received, time {:.0}ms",
        report.counts.transmitted,
        report.counts.received,
        report.counts.lost,
        report.counts.corrupted,
        report.counts.late,
        report.counts.duplicated,
        report.counts.reordered,
        percent_g(loss),
        report.elapsed_ms
    );
    if report.counts.errors > 0 || report.counts.stray > 0 {
        let _ = writeln!(
            text,
            "{} connection errors, {} stray datagrams",
            report.counts.errors, report.counts.stray
        );
    }
    if let Some(connections) = connections {
        let _ = writeln!(
            text,
            "{} connections: {} established, {} failed; good echoes per connection {}..{}",
            connections.requested,
            connections.established,
            connections.failed,
            connections.min_messages,
            connections.max_messages
        );
    }
    if let Some(rtt) = &report.rtt_ms {
        text.push_str(&super::units::rtt_lines(rtt));
    }
    if let Some(throughput) = &report.throughput {
        let _ = writeln!(
            text,
            "throughput {:.0} messages/s, {:.2} MB/s",
            throughput.messages_per_sec,
            throughput.bytes_per_sec / 1e6
        );
    }
    text
}

/// `netdx echo probe --json`: the report, plus the load's connections and
/// the socket options when there are any.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProbeDocument<'a> {
    /// The run's summary.
    #[serde(flatten)]
    pub report: &'a Report,
    /// Load mode only: how the connections fared.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Connections")]
    pub connections: Option<&'a Connections>,
    /// With `--show-sockopts`: every option of the probe's socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Reading>")]
    pub sockopts: Option<&'a [Reading]>,
}

/// `--json` for a probe run.
pub fn probe_json(
    report: &Report,
    connections: Option<&Connections>,
    sockopts: Option<&[Reading]>,
) -> String {
    json::document(&ProbeDocument {
        report,
        connections,
        sockopts,
    })
}

/// One socket `echo serve` listened on.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServeSocket<'a> {
    /// TCP or UDP.
    pub proto: Proto,
    /// The bound address.
    pub address: SocketAddr,
    /// With `--show-sockopts`: every option of the socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Reading>")]
    pub sockopts: Option<&'a [Reading]>,
}

/// `netdx echo serve --json`: where the server listened, and its totals
/// when it stopped.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServeDocument<'a> {
    /// Every socket it served on.
    pub listening: Vec<ServeSocket<'a>>,
    /// What it did in all.
    pub totals: &'a Totals,
}

/// `--json` for a server run: where it listened, its sockets' options, its totals.
pub fn serve_json(
    listening: &[(Proto, SocketAddr, Vec<Reading>)],
    show_sockopts: bool,
    totals: &Totals,
) -> String {
    json::document(&ServeDocument {
        listening: listening
            .iter()
            .map(|(proto, address, readings)| ServeSocket {
                proto: *proto,
                address: *address,
                sockopts: show_sockopts.then_some(readings.as_slice()),
            })
            .collect(),
        totals,
    })
}

/// The live load line (carriage return, no newline).
pub fn progress(progress: &Progress) -> String {
    let seconds = progress.elapsed.as_secs_f64().max(1e-9);
    format!(
        "\r{:>6.1} s  {} echoes  {:.0} messages/s  {:.2} MB/s   ",
        seconds,
        progress.messages,
        progress.messages as f64 / seconds,
        progress.bytes as f64 / seconds / 1e6
    )
}

/// Wipes the progress line.
pub fn clear_progress() -> &'static str {
    "\r\x1b[K"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::echo::payload::Difference;

    #[test]
    fn echo_lines_read_like_ping() {
        let target: SocketAddr = "127.0.0.1:7007".parse().unwrap();
        let good = Observation::Echo {
            seq: 1,
            bytes: 64,
            rtt: Duration::from_micros(31),
            verdict: Verdict::Good,
            reordered: false,
        };
        assert_eq!(
            observation_line(target, &good, false).unwrap(),
            "64 bytes from 127.0.0.1:7007: seq=1 time=0.031 ms"
        );
        let bad = Observation::Echo {
            seq: 2,
            bytes: 64,
            rtt: Duration::from_micros(40),
            verdict: Verdict::Corrupted(Difference {
                offset: 17,
                sent: Some(0x05),
                got: Some(0x04),
            }),
            reordered: false,
        };
        assert!(
            observation_line(target, &bad, false)
                .unwrap()
                .ends_with("(CORRUPTED: byte 17 sent 0x05 got 0x04)")
        );
        assert_eq!(
            observation_line(target, &Observation::NoEcho { seq: 3 }, false),
            None
        );
    }
}
