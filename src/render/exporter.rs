//! `netdx exporter`'s pages and log lines: the index page, a probe's debug
//! text (as blackbox_exporter's `debug=true`), one stderr line per event.
#![forbid(unsafe_code)]

use std::fmt::Write;

use crate::exporter::probe::{Level, Outcome};
use crate::exporter::state::Page;
use crate::exporter::{Format, LogEvent};

/// `/probe?…&debug=true`: the probe's log, the metrics it would have
/// returned, and the module's configuration.
pub fn debug(outcome: &Outcome, module_source: &str) -> String {
    let mut out = String::from("Logs for the probe:\n");
    for line in &outcome.log.lines {
        let level = match line.level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Error => "error",
        };
        let _ = writeln!(
            out,
            "+{:.6}s level={level} msg={}",
            line.at.as_secs_f64(),
            super::printable(&line.message)
        );
    }
    if outcome.log.dropped > 0 {
        let _ = writeln!(out, "… and {} more lines", outcome.log.dropped);
    }
    out.push_str("\n\n\nMetrics that would have been returned:\n");
    out.push_str(&super::prometheus::families(
        &outcome.families,
        Format::Text,
    ));
    out.push_str("\n\n\nModule configuration:\n");
    out.push_str(module_source);
    out
}

fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value.
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            other => {
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
    out
}

/// `/`: the modules and the last probes, each linked to its debug page.
pub fn page(page: &Page) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>netdx exporter</title></head><body>\n",
    );
    let _ = writeln!(out, "<h1>netdx exporter {}</h1>", html(page.version));
    out.push_str(
        "<p><a href=\"/metrics\">Metrics</a> · probes: <code>/probe?target=TARGET&amp;module=MODULE</code></p>\n",
    );
    out.push_str("<h2>Modules</h2>\n<table>\n<tr><th>Module</th><th>Prober</th></tr>\n");
    for (name, prober) in &page.modules {
        let _ = writeln!(out, "<tr><td>{}</td><td>{prober}</td></tr>", html(name));
    }
    out.push_str("</table>\n<h2>Recent probes</h2>\n<table>\n<tr><th>Module</th><th>Target</th><th>Result</th><th>Duration</th><th>Debug</th></tr>\n");
    for entry in &page.recent {
        let link = format!(
            "/probe?target={}&amp;module={}&amp;debug=true",
            query_value(&entry.target),
            query_value(&entry.module)
        );
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.6} s</td><td><a href=\"{link}\">debug</a></td></tr>",
            html(&entry.module),
            html(&entry.target),
            if entry.success { "Success" } else { "Failure" },
            entry.duration.as_secs_f64(),
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// One stderr line for an event (control characters escaped).
pub fn log_line(event: &LogEvent) -> String {
    let line = match event {
        LogEvent::Listening { address, modules } => {
            format!("exporter listening on http://{address}/ ({modules} modules)")
        }
        LogEvent::ExposedListen { address } => format!(
            "warning: listening on {address}, not loopback: anyone who can reach it can make this host probe targets of their choosing; restrict them with targets_allowed in the config, or a firewall"
        ),
        LogEvent::Writing {
            path,
            interval,
            targets,
        } => format!(
            "exporter writing {} every {} s ({targets} targets)",
            path.display(),
            interval.as_secs_f64()
        ),
        LogEvent::Probe {
            module,
            target,
            success,
            duration,
            error,
        } => {
            let result = if *success { "success" } else { "failure" };
            let mut line = format!(
                "probe module={module} target={target} result={result} duration_seconds={:.6}",
                duration.as_secs_f64()
            );
            if let Some(error) = error.as_ref().filter(|_| !success) {
                let _ = write!(line, " error={error:?}");
            }
            line
        }
        LogEvent::Refused {
            status,
            reason,
            peer,
        } => {
            let peer = peer.map(|p| format!(" from {p}")).unwrap_or_default();
            format!("refused{peer}: {status} {reason}")
        }
        LogEvent::Reloaded { modules } => format!("config reloaded ({modules} modules)"),
        LogEvent::ReloadFailed { reason } => {
            format!("config reload refused, the old config stays: {reason}")
        }
        LogEvent::Wrote { path, targets } => {
            format!("wrote {} ({targets} targets)", path.display())
        }
        LogEvent::WriteFailed { path, reason } => {
            format!("writing {} failed: {reason}", path.display())
        }
        LogEvent::Stopping => "exporter stopping".into(),
    };
    format!("netdx exporter: {}", super::printable(&line))
}
