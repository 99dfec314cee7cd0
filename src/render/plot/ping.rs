//! `ping --plot`: round trips over time, lost probes marked on the time
//! axis, and a histogram of the round trips below.
#![forbid(unsafe_code)]

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    Chart, DrawResult, SERIES, answers_and_losses, label_font, number, span, tick_font, title_font,
    utc, whole,
};
use crate::ping::Target;
use crate::ping::timeline::Timeline;

/// Bars in the histogram.
const BINS: usize = 20;

/// One target's probes as a chart.
#[derive(Debug)]
pub struct RttChart<'a> {
    /// The target pinged.
    pub target: &'a Target,
    /// Its probes.
    pub timeline: &'a Timeline,
}

impl RttChart<'_> {
    /// `ping TARGET — START — N sent, M lost (P%)`, and which probes are
    /// shown when the oldest were forgotten.
    fn title(&self) -> String {
        let sent = self.timeline.len();
        let lost = self.timeline.probes().filter(|p| p.rtt.is_none()).count();
        let pct = if sent == 0 {
            0.0
        } else {
            lost as f64 * 100.0 / sent as f64
        };
        let shown = match self.timeline.forgotten() {
            0 => String::new(),
            older => format!(" (the last {sent}; {older} older not kept)"),
        };
        let target = &self.target;
        let name = if target.named {
            format!("{} ({})", target.name, target.address)
        } else {
            target.address.to_string()
        };
        format!(
            "ping {name} — {} — {sent} sent, {lost} lost ({pct:.1}%){shown}",
            utc(self.timeline.start())
        )
    }
}

impl Chart for RttChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = root.titled(&self.title(), title_font())?;
        let height = area.dim_in_pixel().1;
        let (upper, lower) = area.split_vertically(height * 3 / 5);
        // (send time s, RTT ms), the RTT `None` for a lost probe.
        let probes: Vec<(f64, Option<f64>)> = self
            .timeline
            .probes()
            .map(|p| {
                (
                    p.sent.as_secs_f64(),
                    p.rtt.map(|r| r.as_secs_f64() * 1000.0),
                )
            })
            .collect();
        let replies: Vec<(f64, f64)> = probes.iter().filter_map(|&(t, r)| Some((t, r?))).collect();
        over_time(&upper, &probes, &replies)?;
        histogram(&lower, &replies)
    }
}

/// RTT against the send time: a line through each unbroken run of replies,
/// a dot per reply, a triangle on the time axis per lost probe.
fn over_time<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    probes: &[(f64, Option<f64>)],
    replies: &[(f64, f64)],
) -> DrawResult<DB> {
    let first = probes.first().map_or(0.0, |p| p.0);
    let last = probes.last().map_or(0.0, |p| p.0);
    let highest = replies.iter().map(|r| r.1).fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(span(first, last, 0.01), span(0.0, highest, 0.01))?;
    chart
        .configure_mesh()
        .x_label_formatter(&number)
        .y_label_formatter(&number)
        .x_desc("time since start (s)")
        .y_desc("RTT (ms)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let runs = probes.split(|p| p.1.is_none()).filter(|run| run.len() > 1);
    chart.draw_series(runs.map(|run| {
        let points = run.iter().filter_map(|&(t, r)| Some((t, r?)));
        PathElement::new(points.collect::<Vec<_>>(), SERIES.stroke_width(1))
    }))?;
    answers_and_losses(
        &mut chart,
        probes,
        3,
        ("replies", "lost"),
        SeriesLabelPosition::UpperRight,
    )
}

/// How many replies fall into each of [`BINS`] equal RTT ranges.
fn histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    replies: &[(f64, f64)],
) -> DrawResult<DB> {
    let low = replies.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let high = replies.iter().map(|r| r.1).fold(0.0, f64::max);
    // At least a microsecond wide, so equal round trips still make a bar.
    let range = span(low, high, 0.001);
    let width = (range.end - range.start) / BINS as f64;
    let mut counts = [0u32; BINS];
    for &(_, rtt) in replies {
        let bin = ((rtt - range.start) / width) as usize;
        counts[bin.min(BINS - 1)] += 1;
    }
    let tallest = counts.iter().copied().max().unwrap_or(0);
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(80)
        .build_cartesian_2d(range.clone(), span(0.0, f64::from(tallest), 1.0))?;
    chart
        .configure_mesh()
        .x_label_formatter(&number)
        .y_label_formatter(&whole)
        .x_desc("RTT (ms)")
        .y_desc("replies")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    chart.draw_series(
        counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(bin, &n)| {
                let from = range.start + width * bin as f64;
                Rectangle::new(
                    [(from, 0.0), (from + width, f64::from(n))],
                    SERIES.mix(0.8).filled(),
                )
            }),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::render::plot::{Format, LOSS, render};

    /// Ten probes a second apart, every third one lost.
    fn synthetic() -> Timeline {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_223_641);
        let mut timeline = Timeline::new(start);
        for seq in 0..10u16 {
            timeline.sent(seq, start + Duration::from_secs(u64::from(seq)));
            if seq % 3 != 1 {
                timeline.answered(seq, Duration::from_micros(500 + 100 * u64::from(seq)));
            }
        }
        timeline
    }

    fn target() -> Target {
        Target {
            index: 0,
            name: "host.example".into(),
            address: "192.0.2.7".parse().unwrap(),
            scope_id: 0,
            named: true,
        }
    }

    fn svg(timeline: &Timeline) -> String {
        let chart = RttChart {
            target: &target(),
            timeline,
        };
        String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap()
    }

    #[test]
    fn the_title_names_the_target_the_start_and_the_loss() {
        let text = svg(&synthetic());
        assert!(
            text.contains(
                "ping host.example (192.0.2.7) — 2026-12-02 15:00:41 UTC — 10 sent, 3 lost (30.0%)"
            ),
            "{text}"
        );
        for label in [
            "time since start (s)",
            "RTT (ms)",
            "replies",
            "lost, 3 probes",
        ] {
            assert!(text.contains(label), "{label}");
        }
    }

    #[test]
    fn every_reply_is_a_dot_and_every_loss_a_triangle() {
        let text = svg(&synthetic());
        // One more of each in the legend.
        assert_eq!(text.matches("<circle").count(), 7 + 1);
        assert_eq!(text.matches("<polygon").count(), 3 + 1);
    }

    /// The SVG's width and height attributes, and how many of its
    /// elements are drawn in `colour` (`fill="#1F77B4"`).
    fn svg_shape(text: &str, colour: &str) -> ((u32, u32), usize) {
        let attribute = |name: &str| {
            let at = text.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            text[at..].split('"').next().unwrap().parse().unwrap()
        };
        let fill = format!("fill=\"{colour}\"");
        (
            (attribute("width"), attribute("height")),
            text.matches(&fill).count(),
        )
    }

    #[test]
    fn the_svg_and_the_png_of_one_run_have_the_same_size_and_the_same_parts() {
        let timeline = synthetic();
        let chart = RttChart {
            target: &target(),
            timeline: &timeline,
        };
        let svg = String::from_utf8(render(&chart, Format::Svg).unwrap()).unwrap();
        let png = render(&chart, Format::Png).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgb).unwrap();
        let pixels = |colour: RGBColor| {
            rgb.chunks(3)
                .filter(|p| *p == [colour.0, colour.1, colour.2])
                .count()
        };
        let (size, series_parts) = svg_shape(&svg, "#1F77B4");
        let (_, loss_parts) = svg_shape(&svg, "#D62728");
        assert_eq!((info.width, info.height), size);
        // Dots, the legend's dot and the bars in the series colour, triangles in the loss colour.
        assert!(
            series_parts > 7 && pixels(SERIES) > 7 * 20,
            "{series_parts}"
        );
        assert_eq!(loss_parts, 3 + 1);
        assert!(pixels(LOSS) > 4 * 20);
        // Text in both: the SVG as text elements, the PNG as dark pixels.
        assert!(svg.matches("<text").count() > 10);
        let dark = rgb.chunks(3).filter(|p| p.iter().all(|&c| c < 80)).count();
        assert!(dark > 2_000, "{dark}");
    }

    #[test]
    fn a_run_without_replies_or_probes_still_draws() {
        let start = SystemTime::UNIX_EPOCH;
        let mut lost = Timeline::new(start);
        lost.sent(1, start);
        assert!(svg(&lost).contains("1 sent, 1 lost (100.0%)"));
        assert!(svg(&Timeline::new(start)).contains("0 sent, 0 lost (0.0%)"));
        let png = render(
            &RttChart {
                target: &target(),
                timeline: &lost,
            },
            Format::Png,
        )
        .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
