//! `trace --plot`: every probe's round trip per hop, with lost probes
//! marked on the hop axis, and each hop's loss below.
#![forbid(unsafe_code)]

use std::time::SystemTime;

use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Chart, DrawResult, LOSS, answers_and_losses, label_font, number, span, tick_font, title_font,
    utc, whole,
};
use crate::trace::Report;

/// A trace's report as a chart.
#[derive(Debug)]
pub struct HopChart<'a> {
    /// The target as the user named it.
    pub host: &'a str,
    /// What the trace found.
    pub report: &'a Report,
    /// When it started (wall clock).
    pub start: SystemTime,
}

impl HopChart<'_> {
    /// `trace HOST (ADDRESS) — START — N rounds, M probes per hop`.
    fn title(&self) -> String {
        let report = self.report;
        let name = if self.host == report.target.to_string() {
            self.host.to_string()
        } else {
            format!("{} ({})", self.host, report.target)
        };
        let rounds = match report.rounds {
            1 => "1 round".to_string(),
            n => format!("{n} rounds"),
        };
        let probes = match report.probes_per_hop {
            1 => "1 probe".to_string(),
            n => format!("{n} probes"),
        };
        format!(
            "trace {name} — {} — {rounds}, {probes} per hop{}",
            utc(self.start),
            if report.reached { "" } else { ", not reached" }
        )
    }
}

impl Chart for HopChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = root.titled(&self.title(), title_font())?;
        let height = area.dim_in_pixel().1;
        let (upper, lower) = area.split_vertically(height * 3 / 5);
        // (TTL, RTT ms) of every probe, the RTT `None` for one unanswered.
        let probes: Vec<(f64, Option<f64>)> = self
            .report
            .walks
            .iter()
            .flat_map(|walk| &walk.hops)
            .flat_map(|hop| hop.probes.iter().map(|p| (f64::from(hop.ttl), p.rtt_ms)))
            .collect();
        let hops = self.report.hops.iter().map(|h| f64::from(h.ttl));
        let first = hops.clone().fold(f64::INFINITY, f64::min);
        let last = hops.fold(0.0, f64::max);
        let ttls = if first.is_finite() {
            first - 0.5..last + 0.5
        } else {
            0.5..1.5
        };
        rtt_per_hop(&upper, ttls.clone(), &probes)?;
        loss_per_hop(&lower, ttls, self.report)
    }
}

/// A dot per answered probe at its hop, a triangle on the hop axis per
/// unanswered one.
fn rtt_per_hop<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ttls: std::ops::Range<f64>,
    probes: &[(f64, Option<f64>)],
) -> DrawResult<DB> {
    let highest = probes.iter().filter_map(|p| p.1).fold(0.0, f64::max);
    let hop_count = (ttls.end - ttls.start) as usize;
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(ttls, span(0.0, highest, 0.01))?;
    chart
        .configure_mesh()
        .x_labels(hop_count * 2 + 1)
        .x_label_formatter(&whole)
        .y_label_formatter(&number)
        .x_desc("hop (TTL)")
        .y_desc("RTT (ms)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    answers_and_losses(
        &mut chart,
        probes,
        4,
        ("answers", "unanswered"),
        SeriesLabelPosition::UpperLeft,
    )
}

/// Each hop's loss as a bar, its responder above it (the first, and how
/// many others answered at that hop).
fn loss_per_hop<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ttls: std::ops::Range<f64>,
    report: &Report,
) -> DrawResult<DB> {
    let hop_count = (ttls.end - ttls.start) as usize;
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(ttls, 0.0..115.0)?;
    chart
        .configure_mesh()
        .x_labels(hop_count * 2 + 1)
        .x_label_formatter(&whole)
        .y_labels(6)
        .y_label_formatter(&number)
        .x_desc("hop (TTL)")
        .y_desc("loss (%)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    chart.draw_series(report.hops.iter().map(|hop| {
        let ttl = f64::from(hop.ttl);
        Rectangle::new(
            [(ttl - 0.3, 0.0), (ttl + 0.3, hop.loss_pct)],
            LOSS.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(report.hops.iter().map(|hop| {
        let who = match hop.responders.as_slice() {
            [] => "*".to_string(),
            [only] => only.to_string(),
            [first, rest @ ..] => format!("{first} +{}", rest.len()),
        };
        let above = tick_font().pos(Pos::new(HPos::Center, VPos::Bottom));
        Text::new(who, (f64::from(hop.ttl), hop.loss_pct + 2.0), above)
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;
    use crate::render::plot::{Format, render};
    use crate::trace::{Hop, Method, ProbeResult, Walk};

    /// Three hops, two rounds of two probes; hop 2 never answers.
    fn report() -> Report {
        let address = |text: &str| text.parse::<IpAddr>().unwrap();
        let probe = |who: Option<&str>, rtt: Option<f64>| ProbeResult {
            responder: who.map(address),
            rtt_ms: rtt,
            answer: None,
        };
        let walk = || Walk {
            hops: vec![
                Hop {
                    ttl: 1,
                    probes: vec![probe(Some("10.0.0.1"), Some(0.3)); 2],
                },
                Hop {
                    ttl: 2,
                    probes: vec![probe(None, None); 2],
                },
                Hop {
                    ttl: 3,
                    probes: vec![probe(Some("10.0.2.2"), Some(1.5)); 2],
                },
            ],
            reached: true,
        };
        let walks = vec![walk(), walk()];
        let request = crate::trace::Request {
            target: address("10.0.2.2"),
            scope_id: 0,
            method: Method::Icmp,
            port: 0,
            first_ttl: 1,
            max_hops: 30,
            probes: 2,
            simultaneous: 16,
            wait: crate::trace::Wait::default(),
            rounds: 2,
        };
        Report::new(&request, address("10.0.0.9"), walks)
    }

    #[test]
    fn hops_show_every_answer_as_a_dot_and_every_unanswered_probe_as_a_triangle() {
        let chart = HopChart {
            host: "far.example",
            report: &report(),
            start: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_223_641),
        };
        let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
        assert!(
            svg.contains(
                "trace far.example (10.0.2.2) — 2026-12-02 15:00:41 UTC — 2 rounds, 2 probes per hop"
            ),
            "{svg}"
        );
        for label in ["hop (TTL)", "RTT (ms)", "loss (%)", "10.0.0.1", "*"] {
            assert!(svg.contains(label), "{label}");
        }
        assert_eq!(svg.matches("<circle").count(), 8 + 1);
        assert_eq!(svg.matches("<polygon").count(), 4 + 1);
    }
}
