//! Socket options as a table: the value getsockopt read back next to the
//! value asked for, and why they differ.

use crate::sockopt::session::Report;
use crate::sockopt::{Level, Reading};

use super::table;
use super::{Output, Role};

/// `Option  Level  Requested  Effective  Note` for every reading.
pub fn table(readings: &[Reading], out: &Output) -> String {
    let mut grid = table::new(
        &["Option", "Level", "Requested", "Effective", "Note"],
        &[],
        out,
    );
    for reading in readings {
        let requested = reading
            .requested
            .as_ref()
            .map_or_else(|| "-".to_string(), ToString::to_string);
        let requested = match &reading.refused {
            Some(errno) => format!("{requested} (refused: {errno})"),
            None => requested,
        };
        let (effective, role) = match (&reading.value, &reading.error) {
            (Some(value), _) => (value.to_string(), None),
            (None, Some(error)) => (error.clone(), Some(Role::Bad)),
            (None, None) => ("?".to_string(), None),
        };
        let note = reading
            .note
            .as_deref()
            .unwrap_or(if reading.requested.is_some() {
                ""
            } else {
                reading.meaning
            });
        let effective = match role {
            Some(role) => table::cell(effective, role),
            None if reading.refused.is_some() => table::cell(effective, Role::Bad),
            None if reading.note.is_some() => table::cell(effective, Role::Name),
            None => comfy_table::Cell::new(effective),
        };
        grid.add_row(vec![
            comfy_table::Cell::new(reading.name),
            comfy_table::Cell::new(reading.level.name()),
            comfy_table::Cell::new(requested),
            effective,
            comfy_table::Cell::new(note),
        ]);
    }
    table::finish(&grid)
}

/// `netdx sockopt`: the socket, the calls made on it, and its options.
pub fn report(report: &Report, out: &Output) -> String {
    let mut text = format!("{} socket ({})", report.kind_name(), report.family);
    if let Some(local) = &report.local {
        text.push_str(&format!(", local {}", super::printable(local)));
    }
    if let Some(peer) = &report.peer {
        text.push_str(&format!(", peer {}", super::printable(peer)));
    }
    text.push('\n');
    for call in &report.calls {
        let outcome = match &call.error {
            None => "= 0".to_string(),
            Some(error) => out.style.paint(Role::Bad, &format!("= -1 {error}")),
        };
        text.push_str(&format!(
            "{}({}) {outcome}\n",
            call.call,
            super::printable(&call.args)
        ));
    }
    text.push_str(&table(&report.options, out));
    if report.refused > 0 {
        text.push_str(&format!(
            "\n{} request(s) refused by the kernel; see the rows marked refused.\n",
            report.refused
        ));
    }
    text
}

/// `netdx sockopt explain NAME`.
pub fn explanation(view: &ExplainView) -> String {
    let mut text = format!(
        "{} ({}, {})\n  {}\n\n",
        view.name,
        view.level.name(),
        view.kind,
        view.meaning
    );
    text.push_str(&format!("What it does: {}\n\n", view.what));
    match (&view.default, &view.default_on) {
        (Some(value), Some(on)) => {
            text.push_str(&format!("Default here: {value} (read from a new {on})\n\n"))
        }
        _ => text.push_str("Default here: not readable without privilege (raw sockets only)\n\n"),
    }
    text.push_str(&format!("When to use it: {}\n\n", view.when));
    text.push_str(&format!("Pitfalls: {}\n", view.pitfalls));
    if let Some(lab) = view.lab {
        text.push_str(&format!("\nSee it happen: netdx lab {lab}\n"));
    }
    text
}

/// Everything `explain` says, for text and `--json`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ExplainView {
    /// The C name.
    #[schemars(with = "crate::sockopt::OptionName")]
    pub name: &'static str,
    /// SOL_SOCKET, IPPROTO_TCP, …
    pub level: Level,
    /// bool, int, duration, linger, text, read-only.
    pub kind: &'static str,
    /// One line.
    pub meaning: &'static str,
    /// What it does.
    pub what: &'static str,
    /// Its value on a new socket here, as text.
    pub default: Option<String>,
    /// Which socket that was read from (`IPv4 TCP socket`).
    pub default_on: Option<String>,
    /// When to use it.
    pub when: &'static str,
    /// What goes wrong.
    pub pitfalls: &'static str,
    /// The lab that shows it.
    #[schemars(with = "Option<crate::lab::LabName>")]
    pub lab: Option<&'static str>,
}
