//! Response bodies as their framing delimits them, streamed through one
//! buffer into a file or a count, never gathered.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{BufWriter, Read, Write};

use super::HttpError;
use super::Phase;
use super::connection::{Failure, Limit, Stream, is_timeout};
use super::message::{Chunked, Framing};

/// One read's worth: the only buffer a body passes through.
pub(super) const READ_SIZE: usize = 16 * 1024;

/// Where a body goes: counted and dropped, or streamed to a file.
enum SinkKind {
    Discard,
    File(BufWriter<File>, std::path::PathBuf),
}

/// A body's destination, its count so far and `--max-filesize`.
pub(super) struct Sink {
    kind: SinkKind,
    count: u64,
    limit: Option<u64>,
    /// The first `keep` bytes, kept.
    kept: Vec<u8>,
    keep: usize,
}

impl Sink {
    /// A sink writing to `file` (created, or emptied), else counting only.
    pub(super) fn new(
        file: Option<&std::path::Path>,
        limit: Option<u64>,
        keep: usize,
    ) -> Result<Sink, HttpError> {
        let kind = match file {
            None => SinkKind::Discard,
            Some(path) => {
                let file = File::create(path).map_err(|source| HttpError::Output {
                    path: path.to_path_buf(),
                    source,
                })?;
                SinkKind::File(BufWriter::new(file), path.to_path_buf())
            }
        };
        Ok(Sink {
            kind,
            count: 0,
            limit,
            kept: Vec::new(),
            keep,
        })
    }

    /// Body bytes so far.
    pub(super) fn count(&self) -> u64 {
        self.count
    }

    pub(super) fn write(&mut self, data: &[u8]) -> Result<(), HttpError> {
        self.count += data.len() as u64;
        if let Some(limit) = self.limit
            && self.count > limit
        {
            return Err(HttpError::TooLarge { limit });
        }
        let room = self.keep.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&data[..room.min(data.len())]);
        if let SinkKind::File(file, path) = &mut self.kind {
            file.write_all(data).map_err(|source| HttpError::Output {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The bytes written, once flushed, and the ones kept.
    pub(super) fn finish(self) -> Result<(u64, Vec<u8>), HttpError> {
        if let SinkKind::File(mut file, path) = self.kind {
            file.flush()
                .map_err(|source| HttpError::Output { path, source })?;
        }
        Ok((self.count, self.kept))
    }
}

/// Reads the body as `framing` delimits it into `sink`, starting with the
/// bytes that came with the head; whether bytes past its end arrived.
pub(super) fn read_body(
    stream: &mut Stream,
    framing: Framing,
    leftover: Vec<u8>,
    buf: &mut [u8],
    sink: &mut Sink,
    limit: Limit,
    host: &str,
) -> Result<bool, Failure> {
    let mut pending = leftover;
    let mut chunked = Chunked::default();
    let mut got = 0u64;
    let mut failed = None;
    loop {
        // Use what is pending.
        if !pending.is_empty() {
            match framing {
                Framing::Empty => return Ok(true),
                Framing::Length(length) => {
                    let want = usize::try_from(length - got).unwrap_or(usize::MAX);
                    let take = want.min(pending.len());
                    sink.write(&pending[..take])?;
                    got += take as u64;
                    if take < pending.len() {
                        return Ok(true);
                    }
                }
                Framing::Chunked => {
                    let used = chunked
                        .feed(&pending, |data| {
                            if failed.is_none()
                                && let Err(err) = sink.write(data)
                            {
                                failed = Some(err);
                            }
                        })
                        .map_err(|source| HttpError::Malformed {
                            host: host.to_string(),
                            source,
                        })?;
                    if let Some(err) = failed.take() {
                        return Err(err.into());
                    }
                    if chunked.done() {
                        return Ok(used < pending.len());
                    }
                }
                Framing::UntilClose => {
                    sink.write(&pending)?;
                    got += pending.len() as u64;
                }
            }
            pending.clear();
        }
        let complete = match framing {
            Framing::Empty => true,
            Framing::Length(length) => got >= length,
            Framing::Chunked => chunked.done(),
            Framing::UntilClose => false,
        };
        if complete {
            return Ok(false);
        }
        limit.apply(stream.tcp(), Phase::Transfer)?;
        let n = match stream.read(buf) {
            Ok(n) => n,
            Err(err) if is_timeout(&err) => return Err(limit.timed_out(Phase::Transfer)),
            Err(source) => {
                return Err(HttpError::Io {
                    action: "reading the body from",
                    host: host.to_string(),
                    source,
                }
                .into());
            }
        };
        if n == 0 {
            return match framing {
                Framing::UntilClose | Framing::Empty => Ok(false),
                Framing::Length(length) => Err(HttpError::ShortBody {
                    got: sink.count(),
                    expected: length.to_string(),
                }
                .into()),
                Framing::Chunked => Err(HttpError::ShortBody {
                    got: sink.count(),
                    expected: "the chunked body's last chunk".into(),
                }
                .into()),
            };
        }
        pending.extend_from_slice(&buf[..n]);
    }
}
