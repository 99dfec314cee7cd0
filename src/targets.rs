//! Target lists: one target a line, from a file or standard input, the way
//! fping's `-f FILE` reads them. Every command that takes many targets
//! (ping sweeps now; scan, dns and the exporter later) reads through this
//! one reader and hands it its own parser, so lists behave the same
//! everywhere: blank lines and `#` comments are skipped, surrounding
//! whitespace (a CRLF's CR too) is trimmed, and an error names the line.
//!
//! Memory is bounded by the caller's [`Limits`] and by [`MAX_LINE`]: a line
//! is never read further than that (a comment is skipped to its end, any
//! other line is refused), so neither a file without newlines nor an
//! endless pipe can make the reader grow.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::PathBuf;

/// The longest line a list may hold, in bytes (a DNS name is at most 253).
pub const MAX_LINE: usize = 1024;

/// Where a list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSource {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl ListSource {
    /// `-` is standard input, anything else a path.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "" => Err("an empty file name (give a path, or - for standard input)".into()),
            "-" => Ok(ListSource::Stdin),
            path => Ok(ListSource::File(PathBuf::from(path))),
        }
    }

    /// Standard input, when it is not a terminal: fping's rule for a
    /// command line without targets (on a terminal nobody is piping a
    /// list in, so the command wants its targets instead).
    pub fn piped_stdin() -> Option<Self> {
        (!io::stdin().is_terminal()).then_some(ListSource::Stdin)
    }

    /// How messages name the list.
    fn describe(&self) -> String {
        match self {
            ListSource::Stdin => "standard input".into(),
            ListSource::File(path) => format!("'{}'", path.display()),
        }
    }
}

/// How much a list may hold, and what to do when it holds more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most targets the caller takes.
    pub max_targets: usize,
    /// What the user can do about a longer list (e.g. "sweeps … need --force").
    pub remedy: &'static str,
    /// Whether a line may hold more than one word, for a parser that takes
    /// them (`NAME TYPE` in a dns list); else a space means two targets.
    pub words: bool,
}

/// Why a list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The file could not be opened.
    #[error("cannot open the target list {name}: {reason}; {remedy}")]
    Open {
        /// The list.
        name: String,
        /// Why, in words.
        reason: String,
        /// What to do.
        remedy: &'static str,
    },
    /// Reading failed part-way.
    #[error("reading the target list {name}: {source}")]
    Read {
        /// The list.
        name: String,
        /// The error.
        source: io::Error,
    },
    /// A line is not UTF-8 text.
    #[error("{name} line {line}: not UTF-8 text; a target list holds host names and addresses")]
    NotUtf8 {
        /// The list.
        name: String,
        /// 1-based line number.
        line: usize,
    },
    /// A line is longer than [`MAX_LINE`].
    #[error("{name} line {line}: longer than {max} bytes; a target list holds one target a line")]
    LineTooLong {
        /// The list.
        name: String,
        /// 1-based line number.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// A line holds more than one word.
    #[error("{name} line {line}: '{text}' is more than one target; give one a line")]
    SeveralOnALine {
        /// The list.
        name: String,
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// The caller's parser refused a line.
    #[error("{name} line {line}: {reason}")]
    Invalid {
        /// The list.
        name: String,
        /// 1-based line number.
        line: usize,
        /// The parser's words.
        reason: String,
    },
    /// More targets than the caller takes.
    #[error("{name} holds more than {limit} targets; {remedy}")]
    TooMany {
        /// The list.
        name: String,
        /// The limit.
        limit: usize,
        /// What to do.
        remedy: &'static str,
    },
}

/// Reads `source` one target a line through `parse`, in order.
pub fn read<T>(
    source: &ListSource,
    limits: Limits,
    parse: impl FnMut(&str) -> Result<T, String>,
) -> Result<Vec<T>, ListError> {
    let name = source.describe();
    match source {
        ListSource::Stdin => read_from(io::stdin().lock(), &name, limits, parse),
        ListSource::File(path) => {
            let file = open(path, &name)?;
            read_from(BufReader::new(file), &name, limits, parse)
        }
    }
}

fn open(path: &std::path::Path, name: &str) -> Result<File, ListError> {
    let failed = |reason: String, remedy| ListError::Open {
        name: name.to_string(),
        reason,
        remedy,
    };
    let file = File::open(path).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => failed(
            "no such file".into(),
            "check the path, or give --file - to read standard input",
        ),
        io::ErrorKind::PermissionDenied => failed(
            "permission denied".into(),
            "make it readable, or pipe it in: --file - < FILE",
        ),
        _ => failed(err.to_string(), "give a readable file"),
    })?;
    // A directory opens but cannot be read as lines: say so before reading.
    if file.metadata().is_ok_and(|meta| meta.is_dir()) {
        return Err(failed(
            "it is a directory".into(),
            "give a file with one target a line",
        ));
    }
    Ok(file)
}

/// Reads a list from `reader`; `name` is how errors name it.
pub fn read_from<T>(
    mut reader: impl BufRead,
    name: &str,
    limits: Limits,
    mut parse: impl FnMut(&str) -> Result<T, String>,
) -> Result<Vec<T>, ListError> {
    let read_failed = |source| ListError::Read {
        name: name.to_string(),
        source,
    };
    let mut targets = Vec::new();
    let mut bytes = Vec::with_capacity(256);
    let mut line = 0;
    loop {
        bytes.clear();
        // One byte past the limit tells a line of exactly MAX_LINE bytes
        // (and its newline) from a longer one.
        let taken = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(read_failed)?;
        if taken == 0 {
            return Ok(targets);
        }
        line += 1;
        let ended = bytes.last() == Some(&b'\n');
        if !ended && bytes.len() > MAX_LINE {
            // Past the limit inside a comment: the rest is skipped unread.
            if !bytes.contains(&b'#') {
                return Err(ListError::LineTooLong {
                    name: name.to_string(),
                    line,
                    max: MAX_LINE,
                });
            }
            reader.skip_until(b'\n').map_err(read_failed)?;
        }
        let Some(text) = target_text(&bytes, line == 1) else {
            continue;
        };
        let text = std::str::from_utf8(text).map_err(|_| ListError::NotUtf8 {
            name: name.to_string(),
            line,
        })?;
        if !limits.words && text.contains(char::is_whitespace) {
            return Err(ListError::SeveralOnALine {
                name: name.to_string(),
                line,
                text: text.to_string(),
            });
        }
        if targets.len() == limits.max_targets {
            return Err(ListError::TooMany {
                name: name.to_string(),
                limit: limits.max_targets,
                remedy: limits.remedy,
            });
        }
        let target = parse(text).map_err(|reason| ListError::Invalid {
            name: name.to_string(),
            line,
            reason,
        })?;
        targets.push(target);
    }
}

/// What a line holds once its comment (from the first `#`), a leading
/// byte-order mark on the first line and surrounding whitespace are gone;
/// `None` when nothing is left. Bytes, so a comment need not be UTF-8.
fn target_text(bytes: &[u8], first_line: bool) -> Option<&[u8]> {
    let mut bytes = bytes;
    if first_line {
        bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    }
    if let Some(at) = bytes.iter().position(|&b| b == b'#') {
        bytes = &bytes[..at];
    }
    let bytes = bytes.trim_ascii();
    (!bytes.is_empty()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: Limits = Limits {
        max_targets: 100,
        remedy: "split it",
        words: false,
    };

    fn words(text: &[u8]) -> Result<Vec<String>, ListError> {
        read_from(text, "'list'", ROOMY, |word| Ok(word.to_string()))
    }

    #[test]
    fn blanks_comments_crlf_and_whitespace_are_skipped() {
        let text = b"\xef\xbb\xbf# routers\n10.0.0.1\r\n\n   \t\n  10.0.0.2  # core\n#10.0.0.3\nhost-4\t\r\n  # indented comment\nlast-without-newline";
        assert_eq!(
            words(text).unwrap(),
            ["10.0.0.1", "10.0.0.2", "host-4", "last-without-newline"]
        );
    }

    #[test]
    fn an_empty_list_and_a_list_of_comments_hold_no_targets() {
        assert!(words(b"").unwrap().is_empty());
        assert!(words(b"\n\n# nothing here\r\n   \n").unwrap().is_empty());
    }

    #[test]
    fn a_comment_need_not_be_utf8_but_a_target_must() {
        assert_eq!(words(b"10.0.0.1 # caf\xe9\n").unwrap(), ["10.0.0.1"]);
        let err = words(b"10.0.0.1\nho\xffst\n").unwrap_err();
        assert!(matches!(err, ListError::NotUtf8 { line: 2, .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "'list' line 2: not UTF-8 text; a target list holds host names and addresses"
        );
    }

    #[test]
    fn lines_up_to_the_limit_are_read_and_longer_ones_refused() {
        let longest = "a".repeat(MAX_LINE);
        let text = format!("{longest}\n{longest}");
        assert_eq!(words(text.as_bytes()).unwrap().len(), 2);
        let crlf = format!("{}\r\n", "b".repeat(MAX_LINE - 1));
        assert_eq!(words(crlf.as_bytes()).unwrap().len(), 1);
        let text = format!("ok\n{}x\nnever read\n", "a".repeat(MAX_LINE));
        let err = words(text.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ListError::LineTooLong { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_long_comment_is_skipped_without_being_held() {
        let comment = "x".repeat(50 * MAX_LINE);
        let text = format!("# {comment}\n10.0.0.9\n10.0.0.10 # {comment}\n10.0.0.11");
        assert_eq!(
            words(text.as_bytes()).unwrap(),
            ["10.0.0.9", "10.0.0.10", "10.0.0.11"]
        );
    }

    #[test]
    fn a_stream_without_newlines_is_refused_after_one_line_s_worth() {
        // An endless source: the reader stops at the limit, not at memory's end.
        let endless = io::repeat(b'a');
        let err = read_from(BufReader::new(endless), "standard input", ROOMY, |w| {
            Ok(w.len())
        })
        .unwrap_err();
        assert!(
            matches!(err, ListError::LineTooLong { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_list_of_words_hands_the_whole_trimmed_line_to_its_parser() {
        let limits = Limits {
            words: true,
            ..ROOMY
        };
        let lines = read_from(
            &b"example.org MX  # mail\n  host\tAAAA\n"[..],
            "'list'",
            limits,
            |line| Ok(line.to_string()),
        )
        .unwrap();
        assert_eq!(lines, ["example.org MX", "host\tAAAA"]);
    }

    #[test]
    fn two_targets_on_one_line_are_refused_with_the_line_number() {
        let err = words(b"10.0.0.1\n10.0.0.2 10.0.0.3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'list' line 2: '10.0.0.2 10.0.0.3' is more than one target; give one a line"
        );
    }

    #[test]
    fn the_parser_s_refusal_names_the_line() {
        let err = read_from(&b"# header\n\n7\nx\n"[..], "'list'", ROOMY, |w| {
            w.parse::<u8>()
                .map_err(|_| format!("'{w}' is not a number"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "'list' line 4: 'x' is not a number");
    }

    #[test]
    fn more_targets_than_the_limit_are_refused_with_the_remedy() {
        let limits = Limits {
            max_targets: 2,
            remedy: "lists this long need --force",
            words: false,
        };
        let ok = read_from(&b"a\nb\n# c\n"[..], "'l'", limits, |w| Ok(w.to_string()));
        assert_eq!(ok.unwrap().len(), 2);
        let err = read_from(&b"a\nb\nc\n"[..], "'l'", limits, |w| Ok(w.to_string())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'l' holds more than 2 targets; lists this long need --force"
        );
    }

    #[test]
    fn files_that_cannot_be_read_say_why_and_what_to_do() {
        let missing = ListSource::parse("/nonexistent/netdx/hosts.txt").unwrap();
        let err = read(&missing, ROOMY, |w| Ok(w.to_string())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot open the target list '/nonexistent/netdx/hosts.txt': no such file; check the path, or give --file - to read standard input"
        );
        let dir = ListSource::parse(env!("CARGO_MANIFEST_DIR")).unwrap();
        let err = read(&dir, ROOMY, |w| Ok(w.to_string())).unwrap_err();
        assert!(err.to_string().contains("it is a directory"), "{err}");
    }

    #[test]
    fn a_dash_is_standard_input() {
        assert_eq!(ListSource::parse("-"), Ok(ListSource::Stdin));
        assert_eq!(
            ListSource::parse("hosts.txt"),
            Ok(ListSource::File("hosts.txt".into()))
        );
        assert!(ListSource::parse("").is_err());
    }
}
