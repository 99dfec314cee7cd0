//! `--json-stream`: one JSON object a line, written and flushed as each
//! event happens (iperf3's `--json-stream`); every object names its kind in
//! an `event` field (fields: docs/json.md).
//!
//! Every streaming command writes through [`StreamWriter`], so they share
//! one contract: a line is on stdout as soon as its event happened, a
//! reader that stops reading holds the command up instead of making it
//! buffer (the write blocks; nothing queues between the engine and the
//! pipe), and a reader that goes away ends the run: at once where the
//! command can be stopped ([`when_reader_leaves`]), at the latest at the
//! next line (the write error propagates; a closed pipe becomes a quiet
//! exit 0 in `crate::error`). The events of each command are in this
//! module's children, built from the domain's own serialised types.
#![forbid(unsafe_code)]

pub mod arping;
pub mod dns;
pub mod echo;
pub mod neigh_scan;
pub mod perf;
pub mod ping;
pub mod scan;
pub mod serve;
pub mod tcping;
pub mod top;
pub mod trace;

use std::io::{self, Stdout, Write};
use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde::Serialize;

/// Writes events as JSON lines, one write and one flush per line.
pub struct StreamWriter<W: Write = Stdout> {
    out: W,
    /// The line being built, reused so a long run allocates once.
    line: Vec<u8>,
}

impl StreamWriter<Stdout> {
    /// A writer on the process's stdout.
    pub fn stdout() -> Self {
        StreamWriter::new(io::stdout())
    }
}

impl<W: Write> StreamWriter<W> {
    /// A writer on `out`.
    pub fn new(out: W) -> Self {
        StreamWriter {
            out,
            line: Vec::with_capacity(256),
        }
    }

    /// Writes `event` as one line and flushes it. The line goes out in one
    /// `write_all`, so writers on several threads never interleave within
    /// a line; any error (a closed pipe first of all) is the caller's.
    pub fn emit<T: Serialize + ?Sized>(&mut self, event: &T) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, event).map_err(io::Error::other)?;
        self.line.push(b'\n');
        // A burst of huge events must not keep a huge buffer for the rest of the run.
        let written = self
            .out
            .write_all(&self.line)
            .and_then(|()| self.out.flush());
        if self.line.capacity() > 64 * 1024 {
            self.line = Vec::with_capacity(256);
        }
        written
    }

    /// The writer underneath (for tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Calls `gone`, once and on a thread of its own, when stdout's reader has
/// gone away (a pipe whose reader closed it, a socket or terminal hung up),
/// so a run whose next line may be seconds away ends at once: `netdx ping
/// --json-stream … | head -1` returns as soon as head has its line.
pub fn when_reader_leaves(gone: impl FnOnce() + Send + 'static) -> io::Result<()> {
    let stdout = io::stdout().as_fd().try_clone_to_owned()?;
    std::thread::Builder::new()
        .name("netdx-stdout".into())
        .spawn(move || {
            // No events asked for: poll reports only POLLERR (a pipe with
            // no reader left) and POLLHUP; a file or /dev/null never wakes it.
            let gone_flags = PollFlags::POLLERR | PollFlags::POLLHUP;
            loop {
                let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::empty())];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) => {
                        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
                        if revents.intersects(gone_flags) {
                            gone();
                            return;
                        }
                        if revents.contains(PollFlags::POLLNVAL) {
                            return;
                        }
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => return,
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(tag = "event", rename_all = "snake_case")]
    enum Sample {
        Start { target: String },
        Tick { n: u32 },
    }

    #[test]
    fn each_event_is_one_line_with_its_event_field() {
        let mut writer = StreamWriter::new(Vec::new());
        writer
            .emit(&Sample::Start {
                target: "a\nb".into(),
            })
            .unwrap();
        writer.emit(&Sample::Tick { n: 2 }).unwrap();
        let text = String::from_utf8(writer.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["event"], "start");
        assert_eq!(first["target"], "a\nb");
        assert_eq!(lines[1], r#"{"event":"tick","n":2}"#);
    }

    /// A writer that takes a few bytes and then fails like a closed pipe.
    struct Closing(usize);

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_the_callers_error() {
        let mut writer = StreamWriter::new(Closing(30));
        writer.emit(&Sample::Tick { n: 1 }).unwrap();
        let err = writer.emit(&Sample::Tick { n: 2 }).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    /// Counts flushes, to prove each line is pushed out at once.
    #[derive(Default)]
    struct Flushes {
        bytes: Vec<u8>,
        flushed_at: Vec<usize>,
    }

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushed_at.push(self.bytes.len());
            Ok(())
        }
    }

    #[test]
    fn every_line_is_flushed_as_it_is_written() {
        let mut writer = StreamWriter::new(Flushes::default());
        for n in 0..3 {
            writer.emit(&Sample::Tick { n }).unwrap();
        }
        let out = writer.into_inner();
        let ends: Vec<usize> = out
            .bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(at, _)| at + 1)
            .collect();
        assert_eq!(out.flushed_at, ends);
    }
}
