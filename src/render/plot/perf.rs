//! `perf run --plot`: throughput of every report interval over time.
#![forbid(unsafe_code)]

use std::time::SystemTime;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Chart, DrawResult, LOSS, SERIES, label_font, number, span, tick_font, title_font, utc,
};
use crate::perf::{Measure, Report};

/// A perf test's report as a chart.
#[derive(Debug)]
pub struct ThroughputChart<'a> {
    /// The server's address, as the test reached it.
    pub server: String,
    /// What the test measured.
    pub report: &'a Report,
    /// When it started (wall clock).
    pub start: SystemTime,
}

/// Mbit/s of a measure.
fn mbits(measure: &Measure) -> f64 {
    measure.bits_per_second / 1e6
}

impl ThroughputChart<'_> {
    /// `perf run HOST (SERVER) — START — TCP, N streams: X Mbit/s received`.
    fn title(&self) -> String {
        let report = self.report;
        let test = &report.start.test_start;
        let host = &report.start.connecting_to.host;
        let name = if *host == self.server {
            host.clone()
        } else {
            format!("{host} ({})", self.server)
        };
        let streams = match test.num_streams {
            1 => "1 stream".to_string(),
            n => format!("{n} streams"),
        };
        format!(
            "perf run {name} — {} — {}, {streams}, {:.1} Mbit/s received",
            utc(self.start),
            test.protocol.name(),
            mbits(&report.end.sum_received)
        )
    }
}

impl Chart for ThroughputChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = root.titled(&self.title(), title_font())?;
        let intervals = &self.report.intervals;
        let forward: Vec<(f64, f64)> = intervals
            .iter()
            .map(|i| (i.sum.end, mbits(&i.sum)))
            .collect();
        let reverse: Vec<(f64, f64)> = intervals
            .iter()
            .filter_map(|i| {
                Some((
                    i.sum_bidir_reverse.as_ref()?.end,
                    mbits(i.sum_bidir_reverse.as_ref()?),
                ))
            })
            .collect();
        let first = intervals.first().map_or(0.0, |i| i.sum.start);
        let last = intervals.last().map_or(0.0, |i| i.sum.end);
        let highest = forward
            .iter()
            .chain(&reverse)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .margin(15)
            .x_label_area_size(55)
            .y_label_area_size(90)
            .build_cartesian_2d(span(first, last, 1.0), span(0.0, highest, 1.0))?;
        chart
            .configure_mesh()
            .x_label_formatter(&number)
            .y_label_formatter(&number)
            .x_desc("time since start (s)")
            .y_desc("throughput (Mbit/s)")
            .axis_desc_style(label_font())
            .label_style(tick_font())
            .draw()?;
        let direction = if self.report.start.test_start.reverse == 1 {
            "server → client"
        } else {
            "client → server"
        };
        for (points, color, label) in [
            (&forward, SERIES, direction),
            (&reverse, LOSS, "reverse (--bidir)"),
        ] {
            if points.is_empty() {
                continue;
            }
            chart.draw_series([PathElement::new(points.clone(), color.stroke_width(2))])?;
            chart
                .draw_series(points.iter().map(|&at| Circle::new(at, 4, color.filled())))?
                .label(format!(
                    "{label}, per {}s interval",
                    self.report.start.test_start.interval
                ))
                .legend(move |at| Circle::new(at, 5, color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(label_font())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
    }
}
