//! `netdx top`'s tables: a row per process, connection or interface,
//! busiest first, with the rates as bandwhich shows them (B/s, KiB/s …).

use std::fmt::Write;

use super::Output;
use super::table;
use super::units::ifconfig_bytes;
use crate::cli::TopBy;
use crate::top::Report;

/// A rate in bytes per second, binary units (`12.3 MiB/s`).
fn rate(bytes_per_sec: f64) -> String {
    format!(
        "{}/s",
        ifconfig_bytes(bytes_per_sec.max(0.0).round() as u64)
    )
}

/// The table `by` asks for, `rows` rows at most (0: all), and a footer
/// saying what could not be seen.
pub fn report(report: &Report, by: TopBy, rows: usize, out: &Output) -> String {
    let limit = if rows == 0 { usize::MAX } else { rows };
    let mut table_rows: Vec<Vec<String>> = Vec::new();
    let (headers, numeric): (&[&str], &[usize]) = match by {
        TopBy::Process => {
            for p in report.processes.iter().take(limit) {
                table_rows.push(vec![
                    p.pid.to_string(),
                    super::printable(&p.command).into_owned(),
                    p.user.clone().unwrap_or_else(|| "?".into()),
                    rate(p.tx_bytes_per_sec),
                    rate(p.rx_bytes_per_sec),
                    ifconfig_bytes(p.tx_bytes),
                    ifconfig_bytes(p.rx_bytes),
                    p.connections.to_string(),
                ]);
            }
            (
                &[
                    "PID",
                    "Command",
                    "User",
                    "Sent",
                    "Received",
                    "Total sent",
                    "Total recv",
                    "Conns",
                ],
                &[0, 3, 4, 5, 6, 7],
            )
        }
        TopBy::Connection => {
            for c in report.connections.iter().take(limit) {
                table_rows.push(vec![
                    c.local.to_string(),
                    c.peer.to_string(),
                    match (c.pid, &c.command) {
                        (Some(pid), Some(command)) => {
                            format!("{pid}/{}", super::printable(command))
                        }
                        _ => "-".into(),
                    },
                    rate(c.tx_bytes_per_sec),
                    rate(c.rx_bytes_per_sec),
                    c.rtt_ms.map_or("-".into(), |rtt| format!("{rtt:.3}")),
                    c.retransmits.to_string(),
                ]);
            }
            (
                &[
                    "Local", "Peer", "Process", "Sent", "Received", "RTT ms", "Retrans",
                ],
                &[3, 4, 5, 6],
            )
        }
        TopBy::Interface => {
            for i in report.interfaces.iter().take(limit) {
                table_rows.push(vec![
                    super::printable(&i.name).into_owned(),
                    rate(i.rx_bytes_per_sec),
                    rate(i.tx_bytes_per_sec),
                    ifconfig_bytes(i.rx_bytes),
                    ifconfig_bytes(i.tx_bytes),
                ]);
            }
            (
                &["Interface", "Received", "Sent", "Total recv", "Total sent"],
                &[1, 2, 3, 4],
            )
        }
    };
    let mut t = table::new(headers, numeric, out);
    for row in table_rows {
        t.add_row(row);
    }
    let mut text = table::finish(&t);
    if by != TopBy::Interface && report.hidden_processes > 0 {
        let _ = writeln!(
            text,
            "{} processes of other users could not be read: their connections show no process (run as root to see them)",
            report.hidden_processes
        );
    }
    text
}
