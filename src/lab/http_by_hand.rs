//! `netdx lab http-by-hand`: HTTP/1.1 written with send() and read with
//! recv() on a plain TCP socket, to a tiny server in a namespace: a
//! response read until its Content-Length is satisfied, a chunked one
//! decoded by hand, `Connection: close` ending in recv() returning 0; then
//! the roles flip and a tiny server answers a browser's request, as the
//! course's raw-socket web server does.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::Socket;

use super::calls;
use super::hosts;
use super::netns::Pair;
use super::{Actor, Conclusion, LabError, Need, Transcript};

/// The size of every recv() buffer: a response bigger than this takes several.
const RECV_SIZE: usize = 4096;
/// The plain response's body length.
const BODY_LEN: usize = 10_000;
/// The chunked response's chunks.
const CHUNKS: [usize; 3] = [26, 300, 1000];
/// The most a message head may take before the lab gives up on it.
const HEAD_LIMIT: usize = 16 * 1024;
/// How long any receive may wait (everything is sent at once).
const BOUND: Duration = Duration::from_secs(3);
/// The request a browser (Firefox 128 on Linux) sends for a typed-in URL,
/// every header of it; `{host}` is the server's address.
const BROWSER_REQUEST: &str = "GET / HTTP/1.1\r\n\
Host: {host}\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate\r\n\
Connection: keep-alive\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: none\r\n\
Sec-Fetch-User: ?1\r\n\
Priority: u=0, i\r\n\
\r\n";
/// The page the tiny server in A serves.
const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>netdx lab</title></head>\n<body><h1>Hello from a raw socket</h1><p>Written with send(), one byte string.</p></body></html>\n";

/// A message's head: the start line and the header fields.
struct Head {
    start: String,
    fields: Vec<(String, String)>,
}

impl Head {
    /// A header's value (names compare without regard to case).
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads the head at the start of `bytes` (which holds its closing empty line).
    fn parse(bytes: &[u8]) -> Head {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
        let start = lines.next().unwrap_or_default().to_string();
        let fields = lines
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect();
        Head { start, fields }
    }
}

/// Where the head ends: just past the empty line (`\r\n\r\n`).
fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// The plain response's body: 10,000 bytes of a repeating line.
fn body() -> Vec<u8> {
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
    line.iter().copied().cycle().take(BODY_LEN).collect()
}

/// The i-th chunk's bytes.
fn chunk(i: usize) -> Vec<u8> {
    let fill = [b'a', b'b', b'c'][i % 3];
    let mut data = vec![fill; CHUNKS[i]];
    if let Some(last) = data.last_mut() {
        *last = b'\n';
    }
    data
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let pair = hosts::pair(t, 1500)?;
    t.note(format!(
        "the client in A ({}), the server in B ({})",
        pair.a.v4(),
        pair.b.v4()
    ));

    // 1. A client in A, a tiny server in B (on its own thread).
    let server_address = SocketAddr::from((pair.b.v4(), 80));
    let listener = hosts::socket(t, Actor::Server, (&pair.b, "B"), false, true)?;
    calls::bind(t, Actor::Server, &listener, server_address).need("bind")?;
    calls::listen(t, Actor::Server, &listener, 4)?;
    t.note("a tiny HTTP/1.1 server in B, on its own thread: it answers /page with a Content-Length, /chunked in chunks, /bye and then closes");
    listener
        .set_read_timeout(Some(BOUND))
        .map_err(|source| LabError::Call {
            what: "the server's accept timeout".into(),
            source,
        })?;
    let client_part = std::thread::scope(|scope| {
        let server = scope.spawn(move || serve(listener.into()));
        let part = client(t, &pair, server_address);
        let served = server.join().unwrap_or_default();
        (part, served)
    });
    let (part, served) = client_part;
    let client = part?;
    t.observe(
        "server log",
        "what the server in B read and wrote",
        if served.is_empty() {
            "nothing".to_string()
        } else {
            served.join("; ")
        },
    )?;

    // 2. The roles flip: a server in A answers a browser in B.
    let (read_ok, browser_ok, header_count) = flipped(t, &pair)?;

    let as_expected = client.sized && client.chunked && client.closed && read_ok && browser_ok;
    let mut text = String::new();
    // The run as a whole first: `lab all` shows this sentence.
    text.push_str(&if as_expected {
        format!("Every response's end was found from what the stream says, never from how its bytes arrived: {BODY_LEN} Content-Length bytes over {} recv()s, hex-sized chunks up to the 0-size one, recv() = 0 after Connection: close; and the tiny server read a browser's {header_count} headers and served its page whole. ", client.sized_reads)
    } else {
        "Not every HTTP exchange ended as the lesson says; what differed is below. ".to_string()
    });
    text.push_str(&if client.sized {
        format!("The response with Content-Length: {BODY_LEN} took {} recv()s of at most {RECV_SIZE} bytes: the client knows the body is complete only by counting bytes against that header. ", client.sized_reads)
    } else {
        "The Content-Length response was not read whole. ".to_string()
    });
    text.push_str(&if client.chunked {
        format!("The chunked response came as chunks of {} bytes, each behind its size in hex, ended by a chunk of size 0. ", client.chunk_sizes)
    } else {
        "The chunked response did not decode as sent. ".to_string()
    });
    text.push_str(if client.closed {
        "After the response marked Connection: close, recv() returned 0: the server had closed, end of stream. "
    } else {
        "After Connection: close, recv() did not return 0. "
    });
    text.push_str(&if read_ok && browser_ok {
        format!("With the roles flipped, the server read the browser's request line and {header_count} header lines up to the empty line, and the browser got the page whole. ")
    } else {
        "With the roles flipped, the exchange did not complete as expected. ".to_string()
    });
    text.push_str("HTTP/1.1 is text on a byte stream: a reader finds the head's end at the empty line and the body's end from Content-Length, the chunk sizes, or the close — never from how the bytes happened to arrive.");
    Ok(Conclusion::new(as_expected, text))
}

/// What the client's part showed.
struct ClientPart {
    sized: bool,
    sized_reads: usize,
    chunked: bool,
    chunk_sizes: String,
    closed: bool,
}

fn client(t: &mut Transcript<'_>, pair: &Pair, server: SocketAddr) -> Result<ClientPart, LabError> {
    let socket = hosts::socket(t, Actor::Client, (&pair.a, "A"), false, true)?;
    calls::receive_timeout(t, Actor::Client, &socket, BOUND)?;
    calls::connect(t, Actor::Client, &socket, server).need("connect")?;
    let host = server.ip().to_string();
    let mut buffer = Vec::new();

    // A response sized by Content-Length.
    request(
        t,
        &socket,
        &format!(
            "GET /page HTTP/1.1\r\nHost: {host}\r\nUser-Agent: netdx-lab\r\nAccept: */*\r\n\r\n"
        ),
    )?;
    t.note("the request line (method, target, version), one header per line, each ending in \\r\\n, and an empty line that ends the head; no body");
    let (head, mut reads) = read_head(t, &socket, &mut buffer)?;
    let length = head
        .as_ref()
        .and_then(|h| h.field("Content-Length"))
        .and_then(|v| v.parse::<usize>().ok());
    let mut sized = false;
    if let Some(length) = length {
        t.note(format!(
            "Content-Length: {length}: {} body bytes came with the head; recv() until all {length} are here",
            buffer.len().min(length)
        ));
        while buffer.len() < length {
            let got = calls::recv(t, Actor::Client, &socket, RECV_SIZE).need("recv")?;
            reads += 1;
            if got.is_empty() {
                t.note("end of stream before the body was whole");
                break;
            }
            buffer.extend(got);
            t.note(format!(
                "{} of {length} body bytes",
                buffer.len().min(length)
            ));
        }
        let body_bytes: Vec<u8> = buffer.drain(..buffer.len().min(length)).collect();
        sized = body_bytes == body() && reads >= 2;
        t.note(format!(
            "the body is complete: {} bytes, read with {reads} recv() call(s) in all (head included), however the segments fell",
            body_bytes.len()
        ));
    }

    // A chunked response, decoded by hand.
    request(
        t,
        &socket,
        &format!("GET /chunked HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    )?;
    let (head, _) = read_head(t, &socket, &mut buffer)?;
    let is_chunked = head
        .as_ref()
        .and_then(|h| h.field("Transfer-Encoding"))
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if is_chunked {
        t.note("Transfer-Encoding: chunked and no Content-Length: the body comes as chunks, each behind its size in hex, until a chunk of size 0");
    }
    let (decoded, sizes) = if is_chunked {
        read_chunks(t, &socket, &mut buffer)?
    } else {
        (Vec::new(), Vec::new())
    };
    let expected: Vec<u8> = (0..CHUNKS.len()).flat_map(chunk).collect();
    let chunked = is_chunked && decoded == expected && sizes == CHUNKS;

    // Connection: close, and the end of the stream.
    request(
        t,
        &socket,
        &format!("GET /bye HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )?;
    t.note("Connection: close: this is the connection's last request; the server will close once it has answered");
    let (head, _) = read_head(t, &socket, &mut buffer)?;
    let length = head
        .as_ref()
        .and_then(|h| h.field("Content-Length"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < length {
        let got = calls::recv(t, Actor::Client, &socket, RECV_SIZE).need("recv")?;
        if got.is_empty() {
            break;
        }
        buffer.extend(got);
    }
    buffer.drain(..buffer.len().min(length));
    let end = calls::recv(t, Actor::Client, &socket, RECV_SIZE)?;
    let closed = head
        .as_ref()
        .and_then(|h| h.field("Connection"))
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        && matches!(&end, Ok(data) if data.is_empty());
    t.note(if closed {
        "recv() returns 0: the server closed its end after the response it marked Connection: close — end of stream, not an error"
    } else {
        "recv() did not return 0 after Connection: close"
    });
    calls::close(t, Actor::Client, socket)?;
    Ok(ClientPart {
        sized,
        sized_reads: reads,
        chunked,
        chunk_sizes: sizes
            .iter()
            .map(|s| format!("{s} (0x{s:x})"))
            .collect::<Vec<_>>()
            .join(", "),
        closed,
    })
}

/// send(): one request, whole.
fn request(t: &mut Transcript<'_>, socket: &Socket, text: &str) -> Result<(), LabError> {
    let sent = calls::send(t, Actor::Client, socket, text.as_bytes()).need("send")?;
    if sent < text.len() {
        t.note(format!("only {sent} of {} bytes went", text.len()));
    }
    Ok(())
}

/// recv() until the head's empty line is in `buffer`; the head is taken
/// out of it and shown, what follows it stays. Returns the head (None if
/// the stream ended first) and how many recv()s it took.
fn read_head(
    t: &mut Transcript<'_>,
    socket: &Socket,
    buffer: &mut Vec<u8>,
) -> Result<(Option<Head>, usize), LabError> {
    let mut reads = 0;
    while head_end(buffer).is_none() {
        if buffer.len() > HEAD_LIMIT {
            t.note("no end of the head in 16 KiB: given up");
            return Ok((None, reads));
        }
        let got = calls::recv(t, Actor::Client, socket, RECV_SIZE).need("recv")?;
        reads += 1;
        if got.is_empty() {
            t.note("end of stream before the head was whole");
            return Ok((None, reads));
        }
        buffer.extend(got);
    }
    let end = head_end(buffer).unwrap_or(0);
    let head = Head::parse(&buffer[..end]);
    buffer.drain(..end);
    let fields: Vec<String> = head
        .fields
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    t.observe(
        "parse head",
        format!("{end} bytes up to the empty line"),
        format!("{} | {}", head.start, fields.join(" | ")),
    )?;
    Ok((Some(head), reads))
}

/// The chunked body: a size line in hex, that many bytes and \r\n, again
/// until size 0 (then the empty trailer line). Returns the body and the sizes.
fn read_chunks(
    t: &mut Transcript<'_>,
    socket: &Socket,
    buffer: &mut Vec<u8>,
) -> Result<(Vec<u8>, Vec<usize>), LabError> {
    let mut body = Vec::new();
    let mut sizes = Vec::new();
    // At most a few more chunks than the server sends: a hostile stream cannot keep us here.
    for _ in 0..CHUNKS.len() + 4 {
        let Some(line_end) = fill_until(t, socket, buffer, |b| {
            b.windows(2).position(|w| w == b"\r\n")
        })?
        else {
            return Ok((body, sizes));
        };
        let line = String::from_utf8_lossy(&buffer[..line_end]).into_owned();
        buffer.drain(..line_end + 2);
        // A size may carry extensions after ';' (RFC 9112 §7.1.1).
        let hex = line
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let size = usize::from_str_radix(&hex, 16).ok();
        t.observe(
            "chunk size",
            format!("\"{hex}\\r\\n\""),
            match size {
                Some(0) => "0x0 = 0: the last chunk".to_string(),
                Some(size) => format!("0x{hex} = {size} bytes follow, then \\r\\n"),
                None => "not a hexadecimal size".to_string(),
            },
        )?;
        let Some(size) = size else {
            return Ok((body, sizes));
        };
        if size == 0 {
            let trailer = fill_until(t, socket, buffer, |b| {
                b.windows(2).position(|w| w == b"\r\n")
            })?;
            if let Some(end) = trailer {
                buffer.drain(..end + 2);
            }
            return Ok((body, sizes));
        }
        if fill_until(t, socket, buffer, |b| (b.len() >= size + 2).then_some(size))?.is_none() {
            return Ok((body, sizes));
        }
        body.extend(buffer.drain(..size));
        buffer.drain(..2);
        sizes.push(size);
    }
    Ok((body, sizes))
}

/// recv() into `buffer` until `found` finds what it looks for (or the
/// stream ends: None).
fn fill_until(
    t: &mut Transcript<'_>,
    socket: &Socket,
    buffer: &mut Vec<u8>,
    found: impl Fn(&[u8]) -> Option<usize>,
) -> Result<Option<usize>, LabError> {
    loop {
        if let Some(at) = found(buffer) {
            return Ok(Some(at));
        }
        if buffer.len() > HEAD_LIMIT + BODY_LEN {
            return Ok(None);
        }
        let got = calls::recv(t, Actor::Client, socket, RECV_SIZE).need("recv")?;
        if got.is_empty() {
            return Ok(None);
        }
        buffer.extend(got);
    }
}

/// The tiny server in B: one connection, its requests answered in turn
/// until /bye; returns what it read and wrote.
fn serve(listener: TcpListener) -> Vec<String> {
    let mut log = Vec::new();
    let Ok((mut stream, _)) = listener.accept() else {
        return log;
    };
    let _ = stream.set_read_timeout(Some(BOUND));
    // Each write goes out at once: with Nagle on, a small chunk written
    // behind the unacknowledged head would wait ~40 ms for a delayed ACK
    // (netdx lab nagle).
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::new();
    for _ in 0..3 {
        let Some(head) = server_read_head(&mut stream, &mut buffer) else {
            return log;
        };
        let target = head
            .start
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let written = match target.as_str() {
            "/page" => {
                let body = body();
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend(body);
                stream
                    .write_all(&response)
                    .map(|()| format!("{} bytes", response.len()))
            }
            "/chunked" => write_chunked(&mut stream),
            _ => {
                let response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbye\n";
                stream
                    .write_all(response.as_bytes())
                    .map(|()| format!("{} bytes, then close()", response.len()))
            }
        };
        log.push(format!(
            "{} → {}",
            head.start,
            written.unwrap_or_else(|e| e.to_string())
        ));
        if target != "/page" && target != "/chunked" {
            break;
        }
    }
    log
}

/// The chunked response: head, then each chunk in its own write.
fn write_chunked(stream: &mut TcpStream) -> std::io::Result<String> {
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
    )?;
    let mut writes = 1;
    for (i, size) in CHUNKS.iter().enumerate() {
        let mut piece = format!("{size:x}\r\n").into_bytes();
        piece.extend(chunk(i));
        piece.extend_from_slice(b"\r\n");
        stream.write_all(&piece)?;
        writes += 1;
    }
    stream.write_all(b"0\r\n\r\n")?;
    Ok(format!(
        "{} chunks and the last, in {} writes",
        CHUNKS.len(),
        writes + 1
    ))
}

/// A server's read of one request head (no bodies here: GETs only).
fn server_read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Head> {
    let mut piece = [0u8; RECV_SIZE];
    while head_end(buffer).is_none() {
        if buffer.len() > HEAD_LIMIT {
            return None;
        }
        let n = stream.read(&mut piece).ok().filter(|&n| n > 0)?;
        buffer.extend_from_slice(&piece[..n]);
    }
    let end = head_end(buffer)?;
    let head = Head::parse(&buffer[..end]);
    buffer.drain(..end);
    Some(head)
}

/// The flip: a server in A, on the lab's own calls, answers a browser in B
/// (its own thread). Returns whether the server read the whole request,
/// whether the browser got the page, and how many header lines came.
fn flipped(t: &mut Transcript<'_>, pair: &Pair) -> Result<(bool, bool, usize), LabError> {
    let address = SocketAddr::from((pair.a.v4(), 8080));
    let listener = hosts::socket(t, Actor::Server, (&pair.a, "A"), false, true)?;
    t.note("the roles flip: now A serves and a browser in B asks, as in the course's raw-socket web server");
    calls::bind(t, Actor::Server, &listener, address).need("bind")?;
    calls::listen(t, Actor::Server, &listener, 4)?;
    let browser = pair
        .b
        .run(|| {
            Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )
        })?
        .map_err(|source| LabError::Call {
            what: "the browser's socket".into(),
            source,
        })?;
    let request = BROWSER_REQUEST.replace("{host}", &address.to_string());
    std::thread::scope(|scope| {
        let asking = scope.spawn(move || browse(browser, address, &request));
        let served = serve_browser(t, &listener);
        let got = asking.join().unwrap_or_default();
        let (read_ok, header_count) = served?;
        let page = got.as_deref().and_then(|response| {
            head_end(response).map(|end| (Head::parse(&response[..end]), &response[end..]))
        });
        let browser_ok = page.as_ref().is_some_and(|(head, body)| {
            head.start == "HTTP/1.1 200 OK" && *body == PAGE.as_bytes()
        });
        t.observe(
            "browser",
            "what the browser in B received, read until the server closed",
            match &page {
                Some((head, body)) => format!(
                    "{}, {} body bytes{}",
                    head.start,
                    body.len(),
                    if browser_ok { ": the page, whole" } else { "" }
                ),
                None => "no response".to_string(),
            },
        )?;
        calls::close(t, Actor::Server, listener)?;
        Ok((read_ok, browser_ok, header_count))
    })
}

/// The browser's side: connect, send the request, read until end of stream.
fn browse(socket: Socket, server: SocketAddr, request: &str) -> Option<Vec<u8>> {
    socket.set_read_timeout(Some(BOUND)).ok()?;
    socket.connect(&server.into()).ok()?;
    let mut stream = TcpStream::from(socket);
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream
        .take(HEAD_LIMIT as u64)
        .read_to_end(&mut response)
        .ok()?;
    Some(response)
}

/// The server's calls, each in the transcript: accept, read the request
/// head, show each line, write the page, close.
fn serve_browser(t: &mut Transcript<'_>, listener: &Socket) -> Result<(bool, usize), LabError> {
    let (connection, _) = calls::accept(t, Actor::Server, listener).need("accept")?;
    calls::receive_timeout(t, Actor::Server, &connection, BOUND)?;
    let mut buffer = Vec::new();
    while head_end(&buffer).is_none() && buffer.len() <= HEAD_LIMIT {
        let got = calls::recv(t, Actor::Server, &connection, RECV_SIZE).need("recv")?;
        if got.is_empty() {
            break;
        }
        buffer.extend(got);
        t.note(format!(
            "{} bytes so far; the head ends at the first empty line (\\r\\n\\r\\n)",
            buffer.len()
        ));
    }
    let Some(end) = head_end(&buffer) else {
        calls::close(t, Actor::Server, connection)?;
        return Ok((false, 0));
    };
    let head = Head::parse(&buffer[..end]);
    t.observe(
        "request line",
        format!("\"{}\"", head.start),
        "method GET, target /, version HTTP/1.1",
    )?;
    for (name, value) in &head.fields {
        t.observe(
            "header",
            format!("\"{name}: {value}\""),
            header_meaning(name),
        )?;
    }
    let read_ok = head.start == "GET / HTTP/1.1"
        && head.field("Host").is_some()
        && head
            .field("User-Agent")
            .is_some_and(|ua| ua.starts_with("Mozilla/"));
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
        PAGE.len()
    );
    let sent = calls::send(t, Actor::Server, &connection, response.as_bytes()).need("send")?;
    t.note(format!(
        "{sent} bytes: the status line, Content-Type, Content-Length {} (the page's exact size), Connection: close, the empty line, then the page — no gzip: an identity body is always acceptable, whatever Accept-Encoding offered",
        PAGE.len()
    ));
    calls::close(t, Actor::Server, connection)?;
    t.note("the server closes first, as it announced: the browser's read ends with end of stream, and the kept-alive connection it asked for is not granted");
    Ok((read_ok, head.fields.len()))
}

/// What a browser's header asks for.
fn header_meaning(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "host" => {
            "the only header HTTP/1.1 requires: which site, for servers hosting several on one address"
        }
        "user-agent" => "which browser: Mozilla/5.0 for historical reasons, whatever the browser",
        "accept" => "the media types it takes, in order of preference (q = weight)",
        "accept-language" => "the languages it prefers",
        "accept-encoding" => "the compressions it can undo; the server may use one, or none",
        "connection" => "keep-alive: it would like to reuse the connection for the next request",
        "upgrade-insecure-requests" => "it would rather be sent to https",
        "sec-fetch-dest" | "sec-fetch-mode" | "sec-fetch-site" | "sec-fetch-user" => {
            "fetch metadata: what kind of request this is and who started it (a user typing a URL)"
        }
        "priority" => "how urgent the response is (RFC 9218)",
        _ => "another header",
    }
}
