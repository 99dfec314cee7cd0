//! ping's live output: each event written as it happens (iputils lines,
//! flood dots, fping lists, a progress line on a terminal, or JSON lines
//! with `--json-stream`), then the summary, table or JSON document at the end.

use std::io::{self, BufWriter, IsTerminal, Stdout, Write};
use std::time::{Instant, SystemTime};

use super::ping::{self as view, LineOptions, SummaryOptions};
use super::stream::ping::PingStream;
use super::{Output, json};
use crate::ping::session::{Prepared, Shape};
use crate::ping::{Event, ReplyStatus, TargetReport};

/// What the user chose about the output.
#[derive(Debug, Clone, Default)]
pub struct PrinterOptions {
    /// fping `-a`: list the alive targets.
    pub alive: bool,
    /// fping `-u`: list the unreachable targets.
    pub unreachable: bool,
    /// `-q`: header and summary only.
    pub quiet: bool,
    /// `-f`: flood dots.
    pub flood: bool,
    /// `-D`: timestamps before each line.
    pub timestamps: bool,
    /// `-n`: no reverse names.
    pub numeric: bool,
    /// `-p`: the fill pattern, echoed in the header.
    pub pattern: Option<Vec<u8>>,
}

/// Which of the views the run prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// iputils lines and summary.
    Lines,
    /// Only the header and summary (`-q`).
    Quiet,
    /// iputils' flood dots.
    Flood,
    /// One JSON document at the end.
    Json,
    /// JSON lines as events happen (`--json-stream`).
    Stream,
    /// fping `-a` / `-u`: target names as they are decided.
    List { alive: bool },
    /// A table of every target at the end.
    Table,
}

/// Writes events to stdout as they happen.
pub struct Printer {
    out: Output,
    view: View,
    shape: Shape,
    lines: LineOptions,
    stdout: BufWriter<Stdout>,
    progress: Option<Progress>,
    flood: bool,
    flushed: Instant,
    /// The JSON lines of `--json-stream`.
    json_lines: Option<PingStream>,
}

/// How long output may sit in the buffer when stdout is a pipe.
const PIPE_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

struct Progress {
    total: u128,
    done: u128,
    alive: u64,
    drawn: Option<Instant>,
}

impl Printer {
    /// A printer for `prepared`'s run.
    pub fn new(args: &PrinterOptions, out: &Output, prepared: &Prepared) -> Self {
        let view = match (prepared.shape, out.json) {
            _ if out.stream => View::Stream,
            (_, true) => View::Json,
            (Shape::Sweep, _) if args.alive => View::List { alive: true },
            (Shape::Sweep, _) if args.unreachable => View::List { alive: false },
            (Shape::Sweep, _) => View::Table,
            (Shape::OneHost, _) if args.quiet => View::Quiet,
            (Shape::OneHost, _) if args.flood => View::Flood,
            (Shape::OneHost, _) => View::Lines,
        };
        let progress =
            (prepared.shape == Shape::Sweep && view != View::Stream && io::stderr().is_terminal())
                .then_some(Progress {
                    total: prepared.total,
                    done: 0,
                    alive: 0,
                    drawn: None,
                });
        Printer {
            out: *out,
            view,
            shape: prepared.shape,
            lines: LineOptions {
                timestamps: args.timestamps,
                numeric: args.numeric,
            },
            stdout: BufWriter::new(io::stdout()),
            progress,
            flood: args.flood,
            flushed: Instant::now(),
            json_lines: (view == View::Stream).then(PingStream::new),
        }
    }

    /// Writes at once to a terminal; into a pipe, at most every 100 ms (and at the end).
    fn write(&mut self, text: &str) -> io::Result<()> {
        self.stdout.write_all(text.as_bytes())?;
        if self.out.tty || self.flushed.elapsed() >= PIPE_FLUSH_INTERVAL {
            self.flushed = Instant::now();
            self.stdout.flush()?;
        }
        Ok(())
    }

    /// The lines iputils prints before the first probe.
    pub fn start(&mut self, prepared: &Prepared, args: &PrinterOptions) -> io::Result<()> {
        if let Some(lines) = &mut self.json_lines {
            return lines.start(prepared);
        }
        if matches!(self.view, View::Json | View::List { .. } | View::Table) {
            return Ok(());
        }
        let Some(host) = &prepared.host else {
            return Ok(());
        };
        let mut text = String::new();
        if let Some(pattern) = &args.pattern
            && !args.quiet
        {
            text.push_str(&view::pattern_line(pattern));
        }
        let source = prepared
            .source_shown
            .as_ref()
            .map(|(address, iface)| (*address, iface.as_deref()));
        text.push_str(&view::header(host, prepared.plan.payload.len(), source));
        self.write(&text)
    }

    /// Writes what `event` shows; keeps finished reports for the end.
    pub fn event(&mut self, event: Event<'_>, reports: &mut Vec<TargetReport>) -> io::Result<()> {
        if let Some(lines) = &mut self.json_lines {
            // Every line is out already: nothing is kept for the end.
            return lines.event(&event);
        }
        match event {
            Event::Sent { .. } if self.view == View::Flood => self.write("."),
            Event::Reply { target, reply } => match self.view {
                View::Lines => {
                    let line = view::reply_line(target, reply, self.lines, &self.out.style);
                    self.write(&line)
                }
                View::Flood => match reply.status {
                    ReplyStatus::Good => self.write("\x08 \x08"),
                    ReplyStatus::Corrupted(_) => self.write("\x08C"),
                    _ => Ok(()),
                },
                _ => Ok(()),
            },
            Event::Error { target, error } => {
                if let Some(line) = view::local_error_line(error) {
                    eprint!("{line}");
                    return Ok(());
                }
                match self.view {
                    View::Lines => match view::error_line(target, error, self.lines) {
                        Some(line) => self.write(&line),
                        None => Ok(()),
                    },
                    View::Flood => self.write("\x08E"),
                    _ => Ok(()),
                }
            }
            Event::SendFailed { error, .. } => {
                if self.view == View::Flood {
                    return self.write("E");
                }
                eprintln!("netdx: sendmsg: {error}");
                Ok(())
            }
            Event::NoAnswerYet { seq, .. } if self.view == View::Lines => {
                let line = view::no_answer_line(seq, SystemTime::now(), self.lines);
                self.write(&line)
            }
            Event::Status(report) => {
                eprint!("{}", view::status_line(report));
                Ok(())
            }
            Event::Done(report) => {
                self.done(&report)?;
                // Lists are printed as targets finish; only the other views need the reports.
                if !matches!(self.view, View::List { .. }) {
                    reports.push(*report);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn done(&mut self, report: &TargetReport) -> io::Result<()> {
        if let Some(progress) = &mut self.progress {
            progress.done += 1;
            progress.alive += u64::from(report.alive());
            let due = progress
                .drawn
                .is_none_or(|at| at.elapsed().as_millis() >= 100);
            if due || progress.done == progress.total {
                progress.drawn = Some(Instant::now());
                eprint!(
                    "{}",
                    view::progress(progress.done, progress.total, progress.alive)
                );
            }
        }
        if let View::List { alive } = self.view
            && report.alive() == alive
        {
            if self.progress.is_some() {
                eprint!("{}", view::clear_progress());
            }
            return self.write(&format!("{}\n", super::printable(&report.target)));
        }
        Ok(())
    }

    /// The summary, table or JSON document, after the run.
    pub fn finish(&mut self, reports: &[TargetReport]) -> io::Result<()> {
        if self.progress.is_some() {
            eprint!("{}", view::clear_progress());
        }
        let text = match self.view {
            View::Stream => return Ok(()),
            View::Json => json::document(reports),
            View::Table => view::sweep_table(reports, &self.out),
            View::List { .. } => String::new(),
            View::Lines | View::Quiet | View::Flood => {
                let options = SummaryOptions {
                    flood: self.flood,
                    histogram: self.out.tty && self.shape == Shape::OneHost,
                };
                let mut text = String::new();
                if self.view == View::Flood {
                    text.push('\n');
                }
                for report in reports {
                    text.push_str(&view::summary(report, options));
                }
                text
            }
        };
        self.stdout.write_all(text.as_bytes())?;
        self.stdout.flush()
    }
}
