//! `--plot FILE.svg|FILE.png`: charts of a run, drawn with plotters.
//!
//! Each chart (`ping`, `trace`, `perf`, `echo`) draws onto any plotters backend;
//! [`render`] picks SVG or PNG by the file's extension. Text is laid out
//! with DejaVu Sans embedded in the binary, so a PNG's labels render on a
//! host without fontconfig or any installed font.
#![forbid(unsafe_code)]

pub mod echo;
pub mod perf;
pub mod ping;
pub mod trace;

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::SystemTime;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::Error;

/// The picture's size in pixels: text at these sizes reads at 100 % zoom.
const SIZE: (u32, u32) = (1200, 800);
/// The font family charts ask for; [`register_font`] backs it.
const FAMILY: &str = "sans-serif";
/// Title text height, px.
const TITLE_PX: u32 = 26;
/// Axis description text height, px.
const LABEL_PX: u32 = 20;
/// Tick label text height, px.
const TICK_PX: u32 = 16;

/// Round trips and throughput.
const SERIES: RGBColor = RGBColor(31, 119, 180);
/// Lost probes.
const LOSS: RGBColor = RGBColor(214, 39, 40);

/// The embedded font (licence: assets/fonts/LICENSE-DejaVu.txt).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// What a chart is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics, text as text.
    Svg,
    /// An 8-bit RGB PNG.
    Png,
}

/// A `--plot` argument: where to write, and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotFile {
    /// The file.
    pub path: PathBuf,
    /// Chosen by its extension.
    pub format: Format,
}

impl PlotFile {
    /// Parses `--plot FILE`: the extension (any case) picks the format.
    pub fn parse(text: &str) -> Result<PlotFile, String> {
        let path = PathBuf::from(text);
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let format = match extension.as_deref() {
            Some("svg") => Format::Svg,
            Some("png") => Format::Png,
            Some(other) => return Err(format!("unknown image type '.{other}' (use .svg or .png)")),
            None => return Err("the file name needs an extension (use .svg or .png)".into()),
        };
        Ok(PlotFile { path, format })
    }

    /// Opens the file for writing now, so that a path that can't be written
    /// fails before the run rather than after it.
    pub fn create(&self) -> Result<PlotSink, Error> {
        let file = File::create(&self.path).map_err(|source| Error::File {
            action: "--plot: creating",
            path: self.path.clone(),
            source,
        })?;
        Ok(PlotSink {
            file,
            path: self.path.clone(),
            format: self.format,
        })
    }
}

/// An opened `--plot` file, waiting for its chart.
#[derive(Debug)]
pub struct PlotSink {
    file: File,
    path: PathBuf,
    format: Format,
}

impl PlotSink {
    /// Draws `chart` and writes it to the file.
    pub fn write(mut self, chart: &impl Chart) -> Result<(), Error> {
        let bytes = render(chart, self.format)?;
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.flush())
            .map_err(|source| Error::File {
                action: "--plot: writing",
                path: self.path,
                source,
            })
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The embedded font did not load (a build problem, not the user's).
    #[error("--plot: the embedded font does not load")]
    Font,
    /// plotters refused to draw.
    #[error("--plot: drawing the chart: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("--plot: encoding the PNG: {0}")]
    Png(#[from] png::EncodingError),
}

/// A result of drawing on backend `DB`.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that draws itself on a whole picture.
pub trait Chart {
    /// Draws onto `root`, which is blank.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// `chart` as the bytes of an SVG or PNG file.
pub fn render(chart: &impl Chart, format: Format) -> Result<Vec<u8>, PlotError> {
    register_font()?;
    let draw_error = |err: &dyn std::fmt::Display| PlotError::Draw(err.to_string());
    match format {
        Format::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_error(&e))?;
                chart.draw(&root).map_err(|e| draw_error(&e))?;
                root.present().map_err(|e| draw_error(&e))?;
            }
            Ok(text.into_bytes())
        }
        Format::Png => {
            let (width, height) = SIZE;
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_error(&e))?;
                chart.draw(&root).map_err(|e| draw_error(&e))?;
                root.present().map_err(|e| draw_error(&e))?;
            }
            let mut bytes = Vec::new();
            let mut encoder = png::Encoder::new(&mut bytes, width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&rgb)?;
            writer.finish()?;
            Ok(bytes)
        }
    }
}

/// Backs [`FAMILY`] with the embedded font, once per process.
fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    ok.then_some(()).ok_or(PlotError::Font)
}

/// A wall-clock time as `2026-12-02 14:00:41 UTC`, for chart titles.
pub fn utc(at: SystemTime) -> String {
    let seconds = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let t = crate::calendar::Utc::from_unix(seconds);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// On a chart of (x, RTT ms): a dot of `radius` per answered probe, a
/// triangle on the x axis per unanswered one, both counted in the legend
/// ("RTT, N {answers}", "{lost}, N probes"), then the legend at `legend`.
pub fn answers_and_losses<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    probes: &[(f64, Option<f64>)],
    radius: i32,
    (answers, lost): (&str, &str),
    legend: SeriesLabelPosition,
) -> DrawResult<DB> {
    let answered: Vec<(f64, f64)> = probes.iter().filter_map(|&(x, r)| Some((x, r?))).collect();
    chart
        .draw_series(
            answered
                .iter()
                .map(|&at| Circle::new(at, radius, SERIES.filled())),
        )?
        .label(format!("RTT, {} {answers}", answered.len()))
        .legend(|at| Circle::new(at, 5, SERIES.filled()));
    chart
        .draw_series(
            probes
                .iter()
                .filter(|p| p.1.is_none())
                .map(|&(x, _)| TriangleMarker::new((x, 0.0), 7, LOSS.filled())),
        )?
        .label(format!("{lost}, {} probes", probes.len() - answered.len()))
        .legend(|at| TriangleMarker::new(at, 7, LOSS.filled()));
    chart
        .configure_series_labels()
        .position(legend)
        .label_font(label_font())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

/// The chart's title font.
fn title_font() -> TextStyle<'static> {
    (FAMILY, TITLE_PX).into_font().into()
}

/// Axis descriptions.
fn label_font() -> TextStyle<'static> {
    (FAMILY, LABEL_PX).into_font().into()
}

/// Tick labels.
fn tick_font() -> TextStyle<'static> {
    (FAMILY, TICK_PX).into_font().into()
}

/// A tick label: up to four decimals, no trailing zeros (`20000`, `0.25`).
fn number(value: &f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// Tick labels at whole numbers only (hops, counts).
fn whole(value: &f64) -> String {
    if value.fract() == 0.0 {
        format!("{value}")
    } else {
        String::new()
    }
}

/// A value range that plotters can scale: at least `min_span` wide, with
/// headroom above the largest value.
fn span(low: f64, high: f64, min_span: f64) -> std::ops::Range<f64> {
    let high = if high.is_finite() { high } else { 0.0 };
    let low = if low.is_finite() { low.min(high) } else { 0.0 };
    let top = (high + (high - low) * 0.1).max(low + min_span);
    low..top
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format_in_any_case() {
        assert_eq!(PlotFile::parse("a.svg").unwrap().format, Format::Svg);
        assert_eq!(PlotFile::parse("dir/a.PNG").unwrap().format, Format::Png);
    }

    #[test]
    fn other_or_missing_extensions_say_which_ones_work() {
        for bad in ["a.jpg", "a", "."] {
            let err = PlotFile::parse(bad).unwrap_err();
            assert!(err.ends_with("(use .svg or .png)"), "{err}");
        }
    }

    #[test]
    fn utc_titles_count_days_from_the_epoch_in_the_gregorian_calendar() {
        let at = |s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        assert_eq!(utc(at(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(at(951_782_400)), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(at(1_796_223_641)), "2026-12-02 15:00:41 UTC");
    }

    #[test]
    fn tick_labels_drop_trailing_zeros() {
        assert_eq!(number(&20000.0), "20000");
        assert_eq!(number(&0.25), "0.25");
        assert_eq!(number(&0.30000000000000004), "0.3");
        assert_eq!(number(&-0.00001), "0");
        assert_eq!(whole(&2.0), "2");
        assert_eq!(whole(&2.5), "");
    }

    #[test]
    fn ranges_are_never_empty() {
        assert_eq!(span(0.0, 0.0, 1.0), 0.0..1.0);
        assert_eq!(span(0.0, 10.0, 1.0), 0.0..11.0);
        assert_eq!(span(f64::NAN, f64::NEG_INFINITY, 1.0), 0.0..1.0);
    }
}
