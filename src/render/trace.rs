//! `netdx trace` views: traceroute's hop lines, mtr's report table, JSON.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::IpAddr;

use crate::trace::{Answer, Hop, Method, Report, Request, UnreachableKind};

use super::{Output, Role, table};

/// Reverse-DNS names of responders (empty with `-n`).
pub type Names = HashMap<IpAddr, String>;

/// `netdx trace to HOST (ADDR), 30 hops max, udp probes to port 33434`.
pub fn header(host: &str, request: &Request) -> String {
    let port = request.port;
    let what = match request.method {
        Method::Icmp => "icmp echo probes".to_string(),
        Method::Udp => format!("udp probes to port {port}"),
        Method::Tcp => format!("tcp syn probes to port {port}"),
    };
    format!(
        "netdx trace to {host} ({}), {} hops max, {what}\n",
        request.target, request.max_hops
    )
}

fn responder(address: IpAddr, names: &Names, out: &Output) -> String {
    let painted = out.style.paint(Role::Inet, &address.to_string());
    match names.get(&address) {
        Some(name) => format!("{} ({painted})", super::printable(name)),
        None => painted,
    }
}

/// One hop as traceroute prints it: ` 2  10.0.2.1  0.061 ms  0.040 ms  *`.
pub fn hop(hop: &Hop, names: &Names, out: &Output) -> String {
    let mut line = format!("{:>2} ", hop.ttl);
    let mut last: Option<IpAddr> = None;
    for probe in &hop.probes {
        match (probe.responder, probe.rtt_ms) {
            (Some(address), Some(rtt)) => {
                if last != Some(address) {
                    let _ = write!(line, " {}", responder(address, names, out));
                    last = Some(address);
                }
                let _ = write!(line, "  {}", super::units::millis(rtt));
                if let Some(Answer::Unreachable(kind)) = probe.answer {
                    let _ = write!(line, " {}", out.style.paint(Role::Bad, flag(kind)));
                }
            }
            _ => line.push_str(" *"),
        }
    }
    line.push('\n');
    line
}

/// traceroute's annotation for why the target is unreachable.
pub fn flag(kind: UnreachableKind) -> &'static str {
    match kind {
        UnreachableKind::Network => "!N",
        UnreachableKind::Host => "!H",
        UnreachableKind::Protocol => "!P",
        UnreachableKind::Port => "!p",
        UnreachableKind::FragmentationNeeded { .. } => "!F",
        UnreachableKind::SourceRouteFailed => "!S",
        UnreachableKind::AdminProhibited => "!X",
        UnreachableKind::PrecedenceViolation => "!V",
        UnreachableKind::PrecedenceCutoff => "!C",
        UnreachableKind::Other { .. } => "!?",
    }
}

/// The mtr-style report: one row per hop over every round.
pub fn report(report: &Report, names: &Names, out: &Output) -> String {
    let mut grid = table::new(
        &[
            "Hop", "Host", "Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev",
        ],
        &[0, 2, 3, 4, 5, 6, 7, 8],
        out,
    );
    let ms = |value: Option<f64>| value.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
    for stats in &report.hops {
        let host = if stats.responders.is_empty() {
            "???".to_string()
        } else {
            stats
                .responders
                .iter()
                .map(|a| match names.get(a) {
                    Some(n) => format!("{} ({a})", super::printable(n)),
                    None => a.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        grid.add_row(vec![
            comfy_table::Cell::new(stats.ttl),
            table::cell(host, Role::Inet),
            comfy_table::Cell::new(format!("{:.1}%", stats.loss_pct)),
            comfy_table::Cell::new(stats.sent),
            comfy_table::Cell::new(ms(stats.last_ms)),
            comfy_table::Cell::new(ms(stats.avg_ms)),
            comfy_table::Cell::new(ms(stats.best_ms)),
            comfy_table::Cell::new(ms(stats.worst_ms)),
            comfy_table::Cell::new(ms(stats.stdev_ms)),
        ]);
    }
    table::finish(&grid)
}

/// The whole report as JSON, with names when they were looked up.
pub fn json(report: &Report, names: &Names) -> String {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        let names: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .map(|(a, n)| (a.to_string(), serde_json::Value::from(n.clone())))
            .collect();
        object.insert("names".into(), serde_json::Value::Object(names));
    }
    super::json::document(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Style;
    use crate::trace::ProbeResult;

    fn plain() -> Output {
        Output {
            json: false,
            stream: false,
            tty: false,
            style: Style::plain(),
        }
    }

    fn probe(from: Option<[u8; 4]>, rtt: f64, answer: Answer) -> ProbeResult {
        ProbeResult {
            responder: from.map(IpAddr::from),
            rtt_ms: from.map(|_| rtt),
            answer: from.map(|_| answer),
        }
    }

    #[test]
    fn several_responders_at_one_hop_print_as_traceroute_prints_them() {
        let hop = Hop {
            ttl: 4,
            probes: vec![
                probe(Some([10, 0, 0, 1]), 1.5, Answer::TimeExceeded),
                probe(Some([10, 0, 0, 1]), 1.25, Answer::TimeExceeded),
                probe(Some([10, 0, 1, 1]), 2.0, Answer::TimeExceeded),
                probe(None, 0.0, Answer::TimeExceeded),
            ],
        };
        assert_eq!(
            super::hop(&hop, &Names::new(), &plain()),
            " 4  10.0.0.1  1.500 ms  1.250 ms 10.0.1.1  2.000 ms *\n"
        );
    }

    #[test]
    fn unreachable_answers_carry_their_flag_and_names_show_with_the_address() {
        let hop = Hop {
            ttl: 12,
            probes: vec![probe(
                Some([10, 0, 0, 9]),
                0.5,
                Answer::Unreachable(UnreachableKind::Host),
            )],
        };
        let mut names = Names::new();
        names.insert(IpAddr::from([10, 0, 0, 9]), "gw.example".into());
        assert_eq!(
            super::hop(&hop, &names, &plain()),
            "12  gw.example (10.0.0.9)  0.500 ms !H\n"
        );
    }

    #[test]
    fn a_responder_name_with_escapes_or_bidi_overrides_is_shown_escaped() {
        let hop = Hop {
            ttl: 3,
            probes: vec![probe(Some([10, 0, 0, 3]), 0.5, Answer::TimeExceeded)],
        };
        let mut names = Names::new();
        names.insert(IpAddr::from([10, 0, 0, 3]), "gw\x1b[2J\u{202e}moc".into());
        assert_eq!(
            super::hop(&hop, &names, &plain()),
            " 3  gw\\x1b[2J\\u{202e}moc (10.0.0.3)  0.500 ms\n"
        );
    }

    #[test]
    fn every_icmpv4_unreachable_code_prints_the_flag_traceroute_prints() {
        let flags: Vec<&str> = (0..=16u8)
            .map(|code| flag(UnreachableKind::from_v4(code, 0)))
            .collect();
        assert_eq!(
            flags,
            [
                "!N", "!H", "!P", "!p", "!F", "!S", "!?", "!?", "!?", "!X", "!X", "!?", "!?", "!X",
                "!V", "!C", "!?"
            ]
        );
    }
}
