//! HTTP/1.1 responses as bytes arrive (RFC 9112): the head (status line and
//! header fields) parsed once it is whole, the body's framing decided from
//! it, and a chunked body decoded as a stream.
//!
//! Nothing here allocates by what the peer announces: the head is refused
//! past [`MAX_HEAD`] bytes or [`MAX_FIELDS`] fields, a chunk-size line past
//! [`MAX_CHUNK_LINE`], trailers past [`MAX_HEAD`]; chunk data is handed on
//! as it arrives, never gathered.
#![forbid(unsafe_code)]

/// The most bytes a response head may take (curl allows 100 KiB, nginx reads 1 KiB–8 KiB lines).
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields a response may have.
pub const MAX_FIELDS: usize = 128;
/// The longest chunk-size line (size, extensions, CRLF).
pub const MAX_CHUNK_LINE: usize = 4096;

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The first line is not `HTTP/1.x NNN reason`.
    #[error("bad status line {0:?}")]
    StatusLine(String),
    /// The head did not end within [`MAX_HEAD`] bytes.
    #[error("response head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    /// More than [`MAX_FIELDS`] header fields.
    #[error("more than {MAX_FIELDS} header fields")]
    TooManyFields,
    /// A header line that is not `name: value`.
    #[error("bad header line {0:?}")]
    FieldLine(String),
    /// Content-Length is not a number, or two disagree.
    #[error("bad Content-Length {0:?}")]
    ContentLength(String),
    /// A chunk-size line that is not hex, too long or overflowing.
    #[error("bad chunk size line {0:?}")]
    ChunkSize(String),
    /// Chunk data not followed by CRLF.
    #[error("chunk data not followed by CRLF")]
    ChunkEnd,
    /// The connection closed in the middle of the head.
    #[error("the connection closed in the middle of the response head")]
    Truncated,
    /// Trailer fields past [`MAX_HEAD`] bytes.
    #[error("trailer fields larger than {MAX_HEAD} bytes")]
    TrailerTooLarge,
}

/// The protocol version of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    Http11,
}

impl Version {
    /// As curl's `http_version` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "1.0",
            Version::Http11 => "1.1",
        }
    }
}

/// A response's status line and header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The version on the status line.
    pub version: Version,
    /// The status code.
    pub status: u16,
    /// The reason phrase (may be empty).
    pub reason: String,
    /// The header fields in order, names as sent.
    pub fields: Vec<(String, String)>,
}

impl Head {
    /// The values of every field named `name` (case-insensitive).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`.
    pub fn value<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.values(name).next()
    }

    /// Whether a `Connection` field holds `token`.
    fn connection_has(&self, token: &str) -> bool {
        self.values("connection")
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the server lets the connection carry another request.
    pub fn keeps_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.connection_has("close"),
            Version::Http10 => self.connection_has("keep-alive"),
        }
    }

    /// How the body is delimited (RFC 9112 §6.3), for a request with `method`.
    pub fn framing(&self, method: &str) -> Result<Framing, MessageError> {
        if method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
        {
            return Ok(Framing::Empty);
        }
        if method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&self.status) {
            return Ok(Framing::UntilClose);
        }
        let codings: Vec<&str> = self
            .values("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if let Some(last) = codings.last() {
            // Chunked last delimits the body; any other coding last runs to the close.
            return Ok(if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            });
        }
        let mut length = None;
        for value in self.values("content-length") {
            for part in value.split(',') {
                let part = part.trim();
                let parsed = (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| part.parse::<u64>().ok())
                    .flatten()
                    .ok_or_else(|| MessageError::ContentLength(value.to_string()))?;
                if length.is_some_and(|l| l != parsed) {
                    return Err(MessageError::ContentLength(value.to_string()));
                }
                length = Some(parsed);
            }
        }
        Ok(length.map_or(Framing::UntilClose, Framing::Length))
    }
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Whatever arrives until the server closes.
    UntilClose,
}

/// The head at the start of `buf`, and how many bytes it took; `None`
/// while it is incomplete.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, MessageError> {
    let Some(end) = head_end(buf) else {
        if buf.len() > MAX_HEAD {
            return Err(MessageError::HeadTooLarge);
        }
        // A first line that is already wrong need not wait for the rest.
        if let Some(line_end) = buf.iter().position(|&b| b == b'\n') {
            status_line(trim_cr(&buf[..line_end]))?;
        } else if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
            return Err(MessageError::StatusLine(lossy(&buf[..buf.len().min(80)])));
        }
        return Ok(None);
    };
    if end > MAX_HEAD {
        return Err(MessageError::HeadTooLarge);
    }
    let mut lines = buf[..end].split(|&b| b == b'\n').map(trim_cr);
    let (version, status, reason) = status_line(lines.next().unwrap_or_default())?;
    let mut fields = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if fields.len() == MAX_FIELDS {
            return Err(MessageError::TooManyFields);
        }
        fields.push(field_line(line)?);
    }
    Ok(Some((
        Head {
            version,
            status,
            reason,
            fields,
        },
        end,
    )))
}

/// The offset just past the blank line ending the head (CRLF CRLF, or bare LFs).
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(nl) = buf[at..].iter().position(|&b| b == b'\n') {
        let line = &buf[at..at + nl];
        if at > 0 && trim_cr(line).is_empty() {
            return Some(at + nl + 1);
        }
        at += nl + 1;
    }
    None
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn status_line(line: &[u8]) -> Result<(Version, u16, String), MessageError> {
    let bad = || MessageError::StatusLine(lossy(&line[..line.len().min(80)]));
    let version = match line.get(..9) {
        Some(b"HTTP/1.1 ") => Version::Http11,
        Some(b"HTTP/1.0 ") => Version::Http10,
        _ => return Err(bad()),
    };
    let code = line.get(9..12).ok_or_else(bad)?;
    if !code.iter().all(u8::is_ascii_digit) || code[0] == b'0' {
        return Err(bad());
    }
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let reason = match line.get(12..) {
        None | Some([]) => String::new(),
        Some([b' ', rest @ ..]) => lossy(rest),
        Some(_) => return Err(bad()),
    };
    Ok((version, status, reason))
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn field_line(line: &[u8]) -> Result<(String, String), MessageError> {
    let bad = || MessageError::FieldLine(lossy(&line[..line.len().min(80)]));
    let colon = line.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    // Obsolete line folding (a line starting with white space) is refused too:
    // its name would be empty or hold a space.
    if name.is_empty() || !name.iter().copied().all(is_token) {
        return Err(bad());
    }
    let value = value.trim_ascii();
    if value.iter().any(|&b| b == 0 || b == b'\r') {
        return Err(bad());
    }
    Ok((lossy(name), lossy(value)))
}

/// Where a chunked body's decoder is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line (bytes kept so far).
    Size(Vec<u8>),
    /// This many data bytes of the current chunk still to come.
    Data(u64),
    /// The CR after a chunk's data.
    DataCr,
    /// The LF after a chunk's data.
    DataLf,
    /// Trailer lines after the last chunk (bytes of the current line, total seen).
    Trailer(Vec<u8>, usize),
    /// The body is complete.
    Done,
}

/// A streaming decoder of the chunked transfer coding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunked {
    state: ChunkState,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked {
            state: ChunkState::Size(Vec::new()),
        }
    }
}

impl Chunked {
    /// Whether the last chunk and the trailers have been read.
    pub fn done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes `input`, handing each piece of body data to `data`; returns
    /// how many bytes were used (less than all once the body is done).
    pub fn feed(
        &mut self,
        input: &[u8],
        mut data: impl FnMut(&[u8]),
    ) -> Result<usize, MessageError> {
        let mut at = 0;
        while at < input.len() {
            match &mut self.state {
                ChunkState::Done => break,
                ChunkState::Size(line) => {
                    let byte = input[at];
                    at += 1;
                    if byte == b'\n' {
                        let size = chunk_size(trim_cr(line))?;
                        self.state = if size == 0 {
                            ChunkState::Trailer(Vec::new(), 0)
                        } else {
                            ChunkState::Data(size)
                        };
                    } else if line.len() >= MAX_CHUNK_LINE {
                        return Err(MessageError::ChunkSize(lossy(&line[..80])));
                    } else {
                        line.push(byte);
                    }
                }
                ChunkState::Data(left) => {
                    let take = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(input.len() - at);
                    data(&input[at..at + take]);
                    at += take;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = ChunkState::DataCr;
                    }
                }
                ChunkState::DataCr => {
                    self.state = match input[at] {
                        b'\r' => ChunkState::DataLf,
                        b'\n' => ChunkState::Size(Vec::new()),
                        _ => return Err(MessageError::ChunkEnd),
                    };
                    at += 1;
                }
                ChunkState::DataLf => {
                    if input[at] != b'\n' {
                        return Err(MessageError::ChunkEnd);
                    }
                    at += 1;
                    self.state = ChunkState::Size(Vec::new());
                }
                ChunkState::Trailer(line, seen) => {
                    let byte = input[at];
                    at += 1;
                    *seen += 1;
                    if *seen > MAX_HEAD {
                        return Err(MessageError::TrailerTooLarge);
                    }
                    if byte == b'\n' {
                        if trim_cr(line).is_empty() {
                            self.state = ChunkState::Done;
                        } else {
                            line.clear();
                        }
                    } else {
                        line.push(byte);
                    }
                }
            }
        }
        Ok(at)
    }
}

/// The size on a chunk-size line, extensions (`;name=value`) ignored.
fn chunk_size(line: &[u8]) -> Result<u64, MessageError> {
    let bad = || MessageError::ChunkSize(lossy(&line[..line.len().min(80)]));
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    u64::from_str_radix(text, 16).map_err(|_| bad())
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
