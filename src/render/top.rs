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

/// The live view's screen: the alternate screen in raw mode, left on every
/// way out (drop, and the panic hook), and the table drawn to fit it.
pub mod screen {
    use std::io::Write;

    use crossterm::{cursor, execute, terminal};

    use crate::cli::TopBy;
    use crate::render::{Output, Style};
    use crate::top::{Report, Sort};

    /// Leaves the alternate screen and raw mode when dropped (and from the
    /// panic hook, so a panic's message lands on the normal screen).
    pub struct Screen;

    impl Screen {
        pub fn enter() -> std::io::Result<Screen> {
            terminal::enable_raw_mode()?;
            let screen = Screen;
            execute!(
                std::io::stdout(),
                terminal::EnterAlternateScreen,
                cursor::Hide
            )?;
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
            Ok(screen)
        }
    }

    fn restore() {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }

    impl Drop for Screen {
        fn drop(&mut self) {
            restore();
        }
    }

    const HELP: &str = "q quit · p processes · c connections · i interfaces";

    fn view_name(view: TopBy) -> &'static str {
        match view {
            TopBy::Process => "process",
            TopBy::Connection => "connection",
            TopBy::Interface => "interface",
        }
    }

    /// The whole screen for `report`, as many rows as fit.
    pub fn draw(report: &Report, view: TopBy, sort: Sort) -> std::io::Result<()> {
        let out = Output {
            json: false,
            stream: false,
            tty: true,
            style: Style::plain(),
        };
        let (_, height) = terminal::size().unwrap_or((80, 24));
        // Title, blank, the table's borders and header, the footer.
        let rows = usize::from(height).saturating_sub(8).max(1);
        let title = format!(
            "netdx top: every {:.1} s, a row per {}, busiest by {} first ({HELP})\n\n",
            report.interval_s,
            view_name(view),
            match sort {
                Sort::Rate => "rate",
                Sort::Total => "total",
            }
        );
        let text = title + &super::report(report, view, rows, &out);
        let mut stdout = std::io::stdout().lock();
        execute!(
            stdout,
            cursor::MoveTo(0, 0),
            terminal::Clear(terminal::ClearType::All)
        )?;
        // Raw mode: a line feed alone does not return the cursor.
        stdout.write_all(text.replace('\n', "\r\n").as_bytes())?;
        stdout.flush()
    }
}
