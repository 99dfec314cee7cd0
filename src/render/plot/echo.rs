//! `echo probe --connections N --plot`: the load's echoes per second and
//! echoed Mbit/s over time, a second apart.
#![forbid(unsafe_code)]

use std::time::SystemTime;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Chart, DrawResult, SERIES, label_font, number, span, tick_font, title_font, utc};
use crate::echo::load::Rate;
use crate::echo::probe::Report;

/// A load run as a chart.
#[derive(Debug)]
pub struct LoadChart<'a> {
    /// What the load came to.
    pub report: &'a Report,
    /// Concurrent connections.
    pub connections: usize,
    /// The rate of each interval.
    pub rates: &'a [Rate],
    /// When it started (wall clock).
    pub start: SystemTime,
}

impl LoadChart<'_> {
    /// `echo load TARGET tcp — START — N connections, M echoes, L lost`.
    fn title(&self) -> String {
        let report = self.report;
        format!(
            "echo load {} {} — {} — {} connections, {} echoes, {} lost",
            report.target,
            report.proto,
            utc(self.start),
            self.connections,
            report.counts.received,
            report.counts.lost
        )
    }
}

impl Chart for LoadChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = root.titled(&self.title(), title_font())?;
        let height = area.dim_in_pixel().1;
        let (upper, lower) = area.split_vertically(height / 2);
        let echoes: Vec<(f64, f64)> = self
            .rates
            .iter()
            .map(|r| (r.at_s, r.echoes_per_s))
            .collect();
        let mbits: Vec<(f64, f64)> = self.rates.iter().map(|r| (r.at_s, r.mbit_per_s)).collect();
        over_time(&upper, &echoes, "echoes per second")?;
        over_time(&lower, &mbits, "echoed payload (Mbit/s)")
    }
}

/// One rate against time: a line through a dot per interval.
fn over_time<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    what: &str,
) -> DrawResult<DB> {
    let first = points.first().map_or(0.0, |p| p.0);
    let last = points.last().map_or(0.0, |p| p.0);
    let highest = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(90)
        .build_cartesian_2d(
            span(0.0_f64.min(first), last, 1.0),
            span(0.0, highest, 0.01),
        )?;
    chart
        .configure_mesh()
        .x_label_formatter(&number)
        .y_label_formatter(&number)
        .x_desc("time since start (s)")
        .y_desc(what)
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    chart.draw_series([PathElement::new(points.to_vec(), SERIES.stroke_width(2))])?;
    chart.draw_series(points.iter().map(|&at| Circle::new(at, 4, SERIES.filled())))?;
    Ok(())
}
