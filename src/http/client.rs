//! The requests: connections (socket2, rustls), one request at a time on
//! each, the response read through [`super::message`], every phase stamped
//! right after the call that ends it, redirects and `-c N` repeats.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use socket2::{Domain, Protocol, Socket, Type};

use super::message::{self, Chunked, Framing, Head};
use super::{
    Certificate, Exchange, Field, HttpError, Lookup, LookupSource, Phase, PhaseStats, Report,
    Request, Scheme, Timeout, Timings, TlsSession, Url, cert, tls,
};
use crate::rtt::Rtt;
use crate::sockets::tcp_info::{TcpInfo, TcpInfoView};

/// One read's worth: the only buffer a body passes through.
const READ_SIZE: usize = 16 * 1024;

/// How a request failed: out of time (exit 1), or an error (exit 2).
enum Failure {
    Timeout(Phase, &'static str, Duration),
    Error(HttpError),
    /// A kept connection the server had closed: reconnect and ask again.
    Stale,
}

impl From<HttpError> for Failure {
    fn from(err: HttpError) -> Self {
        Failure::Error(err)
    }
}

/// The connection's byte stream, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            // A server that closes without close_notify ends the stream as a close does.
            Stream::Tls(tls) => match tls.read(buf) {
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// An open connection and what was learnt opening it.
struct Connection {
    scheme: Scheme,
    host: String,
    port: u16,
    stream: Stream,
    remote: SocketAddr,
    lookup: Lookup,
    tls: Option<TlsSession>,
    certificate: Option<Certificate>,
    /// The server may take another request on it.
    reusable: bool,
}

/// A deadline and the option that set it.
#[derive(Clone, Copy)]
struct Limit {
    at: Option<Instant>,
    limit: &'static str,
    length: Duration,
}

impl Limit {
    fn new(start: Instant, length: Option<Duration>, limit: &'static str) -> Limit {
        Limit {
            at: length.map(|l| start + l),
            limit,
            length: length.unwrap_or_default(),
        }
    }

    /// The earlier of two limits.
    fn min(self, other: Limit) -> Limit {
        match (self.at, other.at) {
            (Some(a), Some(b)) if b < a => other,
            (None, Some(_)) => other,
            _ => self,
        }
    }

    /// Time left, or the timeout failure once none is.
    fn left(&self, phase: Phase) -> Result<Option<Duration>, Failure> {
        match self.at {
            None => Ok(None),
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(Failure::Timeout(phase, self.limit, self.length))
                } else {
                    Ok(Some(left))
                }
            }
        }
    }

    /// Sets the socket's timeouts to what is left.
    fn apply(&self, tcp: &TcpStream, phase: Phase) -> Result<(), Failure> {
        let left = self.left(phase)?;
        tcp.set_read_timeout(left)
            .and_then(|()| tcp.set_write_timeout(left))
            .map_err(|source| {
                Failure::Error(HttpError::Io {
                    action: "setting the socket's timeout for",
                    host: String::new(),
                    source,
                })
            })
    }

    fn timed_out(&self, phase: Phase) -> Failure {
        Failure::Timeout(phase, self.limit, self.length)
    }
}

fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Milliseconds from `start` to now.
fn since(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1e9).round() / 1e6
}

/// Makes the requests: `count` times (one connection while the server
/// keeps it), each following redirects when asked.
pub fn run(request: &Request) -> Result<Report, HttpError> {
    let config = match request.url.scheme {
        Scheme::Https => Some(tls::client_config(
            request.cacert.as_deref(),
            request.insecure,
        )?),
        Scheme::Http => None,
    };
    let mut session = Session {
        request,
        config,
        connection: None,
        connects: 0,
        exchanges: Vec::new(),
        finals: Vec::new(),
        redirects: 0,
    };
    let mut timeout = None;
    for index in 1..=request.count.max(1) {
        match session.repeat() {
            Ok(()) => {}
            Err(Failure::Timeout(phase, limit, length)) => {
                timeout = Some(Timeout {
                    phase,
                    after_ms: length.as_secs_f64() * 1000.0,
                    limit,
                    request: index,
                });
                break;
            }
            Err(Failure::Error(err)) => return Err(err),
            Err(Failure::Stale) => {
                return Err(HttpError::NoResponse {
                    host: request.url.host.clone(),
                });
            }
        }
    }
    Ok(session.report(timeout))
}

/// The state across requests.
struct Session<'a> {
    request: &'a Request,
    config: Option<Arc<ClientConfig>>,
    connection: Option<Connection>,
    connects: u32,
    exchanges: Vec<Exchange>,
    /// Index in `exchanges` of each repeat's last response.
    finals: Vec<usize>,
    redirects: u32,
}

impl Session<'_> {
    /// One request and the redirects it leads to.
    fn repeat(&mut self) -> Result<(), Failure> {
        let request = self.request;
        let mut url = request.url.clone();
        let mut method = request.method.clone();
        let mut body = request.body.clone();
        let mut hops = 0;
        loop {
            let start = Instant::now();
            let limit = Limit::new(start, request.max_time, "max-time");
            let (exchange, location) =
                match self.exchange(&url, &method, body.as_deref(), start, limit) {
                    Err(Failure::Stale) => {
                        // Asked again once, on a new connection.
                        self.connection = None;
                        let start = Instant::now();
                        let limit = Limit::new(start, request.max_time, "max-time");
                        self.exchange(&url, &method, body.as_deref(), start, limit)?
                    }
                    other => other?,
                };
            let status = exchange.status;
            self.exchanges.push(exchange);
            let Some(location) = location else {
                self.finals.push(self.exchanges.len() - 1);
                return Ok(());
            };
            if hops == request.max_redirects {
                return Err(HttpError::TooManyRedirects {
                    limit: request.max_redirects,
                }
                .into());
            }
            hops += 1;
            self.redirects += 1;
            url = url.join(&location).map_err(|source| HttpError::Url {
                url: location.clone(),
                source,
            })?;
            // As curl and browsers do: 303 always, 301/302 after a POST, become a GET.
            if status == 303 || (matches!(status, 301 | 302) && method == "POST") {
                if !method.eq_ignore_ascii_case("HEAD") {
                    method = "GET".into();
                }
                body = None;
            }
        }
    }

    /// The connection for `url`: the kept one when it matches (`true`),
    /// else a new one, with the times it took.
    fn connect(
        &mut self,
        url: &Url,
        start: Instant,
        limit: Limit,
    ) -> Result<(Timings, bool), Failure> {
        let mut timings = Timings::default();
        if let Some(kept) = &self.connection
            && kept.reusable
            && kept.scheme == url.scheme
            && kept.host == url.host
            && kept.port == url.port
        {
            return Ok((timings, true));
        }
        self.connection = None;
        let request = self.request;
        let lookup = resolve(request, url, limit)?;
        timings.time_namelookup = since(start);
        let connect_limit = Limit::new(
            Instant::now(),
            Some(request.connect_timeout),
            "connect-timeout",
        )
        .min(limit);
        let (tcp, remote) = connect(&lookup.addresses, url.port, connect_limit)?;
        timings.time_connect = since(start);
        self.connects += 1;
        let (stream, tls, certificate) = match url.scheme {
            Scheme::Http => (Stream::Plain(tcp), None, None),
            Scheme::Https => {
                let config = match &self.config {
                    Some(config) => Arc::clone(config),
                    None => {
                        let config =
                            tls::client_config(request.cacert.as_deref(), request.insecure)?;
                        self.config = Some(Arc::clone(&config));
                        config
                    }
                };
                let (session, certificate) = handshake(tcp, url, config, connect_limit)?;
                timings.time_appconnect = since(start);
                let info = TlsSession {
                    version: crate::net::tls::version(&session.conn),
                    cipher: crate::net::tls::cipher(&session.conn),
                    alpn: crate::net::tls::alpn(&session.conn),
                    verified: !request.insecure,
                };
                (Stream::Tls(Box::new(session)), Some(info), certificate)
            }
        };
        self.connection = Some(Connection {
            scheme: url.scheme,
            host: url.host.clone(),
            port: url.port,
            stream,
            remote,
            lookup,
            tls,
            certificate,
            reusable: true,
        });
        Ok((timings, false))
    }

    /// One request on the connection; the exchange, and where it redirects
    /// to when that is to be followed.
    fn exchange(
        &mut self,
        url: &Url,
        method: &str,
        body: Option<&[u8]>,
        start: Instant,
        limit: Limit,
    ) -> Result<(Exchange, Option<String>), Failure> {
        let (mut timings, reused) = self.connect(url, start, limit)?;
        let request = self.request;
        let Some(connection) = self.connection.as_mut() else {
            return Err(HttpError::NoResponse {
                host: url.host.clone(),
            }
            .into());
        };
        timings.time_pretransfer = since(start);
        let wire = request_bytes(request, url, method, body);
        let host = url.host.clone();
        let io_error = |action: &'static str, source: io::Error| {
            Failure::Error(HttpError::Io {
                action,
                host: host.clone(),
                source,
            })
        };
        limit.apply(connection.stream.tcp(), Phase::Send)?;
        if let Err(err) = connection
            .stream
            .write_all(&wire)
            .and_then(|()| connection.stream.flush())
        {
            return Err(match err {
                err if is_timeout(&err) => limit.timed_out(Phase::Send),
                _ if reused => Failure::Stale,
                err => io_error("sending the request to", err),
            });
        }
        timings.time_requestsent = since(start);
        // The head: read until it is whole (bounded by MAX_HEAD).
        let mut buf = vec![0u8; READ_SIZE];
        let mut head_bytes: Vec<u8> = Vec::new();
        let mut phase = Phase::FirstByte;
        // Parsed again only when a line may have ended: a server trickling
        // a byte at a time costs a scan per line, not per byte.
        let mut fresh = true;
        let (head, head_len) = loop {
            match fresh.then(|| message::parse_head(&head_bytes)) {
                None | Some(Ok(None)) => {}
                // 1xx interim responses (100 Continue) precede the real one.
                Some(Ok(Some((head, used))))
                    if (100..200).contains(&head.status) && head.status != 101 =>
                {
                    head_bytes.drain(..used);
                    continue;
                }
                Some(Ok(Some(found))) => break found,
                Some(Err(source)) => return Err(HttpError::Malformed { host, source }.into()),
            }
            limit.apply(connection.stream.tcp(), phase)?;
            let n = match connection.stream.read(&mut buf) {
                Ok(n) => n,
                Err(err) if is_timeout(&err) => return Err(limit.timed_out(phase)),
                Err(_) if reused && phase == Phase::FirstByte => return Err(Failure::Stale),
                Err(err) => return Err(io_error("reading the response from", err)),
            };
            if n == 0 {
                if reused && phase == Phase::FirstByte {
                    return Err(Failure::Stale);
                }
                return Err(match head_bytes.is_empty() {
                    true => HttpError::NoResponse { host },
                    false => HttpError::Malformed {
                        host,
                        source: message::MessageError::Truncated,
                    },
                }
                .into());
            }
            if phase == Phase::FirstByte {
                timings.time_starttransfer = since(start);
                phase = Phase::Transfer;
            }
            head_bytes.extend_from_slice(&buf[..n]);
            fresh = buf[..n].contains(&b'\n')
                || head_bytes.len() < 16
                || head_bytes.len() > message::MAX_HEAD;
        };
        let framing = head
            .framing(method)
            .map_err(|source| HttpError::Malformed {
                host: host.clone(),
                source,
            })?;
        let location = redirect_target(request, &head);
        // A followed redirect's body is read (to keep the connection) but not kept.
        let kind = match (&request.output, &location) {
            (Some(path), None) => Sink::file(path)?,
            _ => SinkKind::Discard,
        };
        let mut sink = Sink {
            kind,
            count: 0,
            limit: request.max_filesize,
        };
        let leftover = head_bytes.split_off(head_len);
        let body_start = Instant::now();
        let extra = read_body(
            &mut connection.stream,
            framing,
            leftover,
            &mut buf,
            &mut sink,
            limit,
            &host,
        )?;
        timings.time_total = since(start);
        let transfer = body_start.elapsed().as_secs_f64();
        let size_download = sink.finish()?;
        connection.reusable = head.keeps_alive() && framing != Framing::UntilClose && !extra;
        let exchange = Exchange {
            url: url.to_string(),
            method: method.to_string(),
            status: head.status,
            reason: head.reason.clone(),
            http_version: head.version.as_str().to_string(),
            headers: head
                .fields
                .iter()
                .map(|(name, value)| Field {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            size_download,
            size_header: head_len as u64,
            size_request: wire.len() as u64,
            speed_download: if transfer > 0.0 {
                (size_download as f64 / transfer).round()
            } else {
                0.0
            },
            remote_ip: connection.remote.ip(),
            remote_port: connection.remote.port(),
            reused,
            timings,
        };
        Ok((exchange, location))
    }

    fn report(self, timeout: Option<Timeout>) -> Report {
        let request = self.request;
        let last = self.exchanges.last().cloned();
        let (tcp_info, lookup, tls, certificate) = match &self.connection {
            Some(connection) => (
                tcp_info(connection.stream.tcp()),
                Some(connection.lookup.clone()),
                connection.tls.clone(),
                connection.certificate.clone(),
            ),
            None => (None, None, None, None),
        };
        let stats = if self.finals.len() > 1 {
            let finals: Vec<&Exchange> = self.finals.iter().map(|&i| &self.exchanges[i]).collect();
            let summary = |pick: fn(&Timings) -> f64| {
                let mut rtt = Rtt::default();
                for exchange in &finals {
                    rtt.add(Duration::from_secs_f64(
                        pick(&exchange.timings).max(0.0) / 1000.0,
                    ));
                }
                rtt.summary()
            };
            (|| {
                Some(PhaseStats {
                    time_namelookup: summary(|t| t.time_namelookup)?,
                    time_connect: summary(|t| t.time_connect)?,
                    time_appconnect: summary(|t| t.time_appconnect)?,
                    time_pretransfer: summary(|t| t.time_pretransfer)?,
                    time_starttransfer: summary(|t| t.time_starttransfer)?,
                    time_total: summary(|t| t.time_total)?,
                })
            })()
        } else {
            None
        };
        Report {
            url: request.url.to_string(),
            url_effective: last
                .as_ref()
                .map_or_else(|| request.url.to_string(), |e| e.url.clone()),
            status: last.as_ref().map_or(0, |e| e.status),
            reason: last.as_ref().map(|e| e.reason.clone()).unwrap_or_default(),
            http_version: last
                .as_ref()
                .map(|e| e.http_version.clone())
                .unwrap_or_default(),
            headers: last.as_ref().map(|e| e.headers.clone()).unwrap_or_default(),
            size_download: last.as_ref().map_or(0, |e| e.size_download),
            speed_download: last.as_ref().map_or(0.0, |e| e.speed_download),
            timings: last.as_ref().map(|e| e.timings).unwrap_or_default(),
            lookup,
            tls,
            certificate,
            tcp_info,
            num_redirects: self.redirects,
            num_connects: self.connects,
            exchanges: self.exchanges,
            stats,
            timeout,
            output: request.output.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// The Location to follow, when `-L` is on and the status is a redirect.
fn redirect_target(request: &Request, head: &Head) -> Option<String> {
    if !request.follow || !matches!(head.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    head.value("location").map(str::to_string)
}

/// The request's bytes: request line, fields (netdx's, replaced or removed
/// by `-H`), the body.
fn request_bytes(request: &Request, url: &Url, method: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut fields: Vec<(String, String)> = vec![
        ("Host".into(), url.authority()),
        (
            "User-Agent".into(),
            format!("netdx/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("Accept".into(), "*/*".into()),
    ];
    if let Some(body) = body {
        fields.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        fields.push(("Content-Length".into(), body.len().to_string()));
    }
    for header in &request.headers {
        let position = fields
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case(&header.name));
        match (position, header.value.is_empty()) {
            (Some(at), true) => {
                fields.remove(at);
            }
            (Some(at), false) => fields[at].1 = header.value.clone(),
            (None, true) => {}
            (None, false) => fields.push((header.name.clone(), header.value.clone())),
        }
    }
    let mut wire = format!("{method} {} HTTP/1.1\r\n", url.target).into_bytes();
    for (name, value) in fields {
        wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        wire.extend_from_slice(body);
    }
    wire
}

/// The address(es) for `url`'s host: a literal, a `--resolve` pin, or the resolver's.
fn resolve(request: &Request, url: &Url, limit: Limit) -> Result<Lookup, Failure> {
    let family_of = |address: &IpAddr| crate::net::family_name(address.is_ipv6()).to_string();
    if let Ok(address) = url.host.parse::<IpAddr>() {
        return Ok(Lookup {
            host: url.host.clone(),
            addresses: vec![address],
            family: family_of(&address),
            source: LookupSource::Literal,
        });
    }
    if let Some(pin) = request
        .pins
        .iter()
        .find(|pin| pin.host.eq_ignore_ascii_case(&url.host) && pin.port == url.port)
    {
        return Ok(Lookup {
            host: url.host.clone(),
            addresses: vec![pin.address],
            family: family_of(&pin.address),
            source: LookupSource::Pinned,
        });
    }
    limit.left(Phase::Namelookup)?;
    let resolved =
        crate::names::resolve(&url.host, request.family).map_err(|source| HttpError::Resolve {
            host: url.host.clone(),
            source,
        })?;
    limit.left(Phase::Namelookup)?;
    let first = resolved.addresses[0];
    Ok(Lookup {
        host: url.host.clone(),
        family: family_of(&first),
        addresses: resolved.addresses,
        source: LookupSource::Resolver,
    })
}

/// A TCP connection to the first of `addresses` that accepts one.
fn connect(
    addresses: &[IpAddr],
    port: u16,
    limit: Limit,
) -> Result<(TcpStream, SocketAddr), Failure> {
    let mut last = None;
    for &address in addresses {
        let remote = SocketAddr::new(address, port);
        let socket = Socket::new(
            Domain::for_address(remote),
            Type::STREAM,
            Some(Protocol::TCP),
        )
        .map_err(|source| HttpError::Connect {
            address,
            port,
            source,
        })?;
        let _ = socket.set_tcp_nodelay(true);
        let left = limit.left(Phase::Connect)?;
        let result = match left {
            Some(left) => socket.connect_timeout(&remote.into(), left),
            None => socket.connect(&remote.into()),
        };
        match result {
            Ok(()) => return Ok((socket.into(), remote)),
            Err(err) if is_timeout(&err) => return Err(limit.timed_out(Phase::Connect)),
            Err(source) => {
                last = Some(HttpError::Connect {
                    address,
                    port,
                    source,
                })
            }
        }
    }
    Err(last
        .unwrap_or(HttpError::NoResponse {
            host: String::new(),
        })
        .into())
}

/// The TLS handshake, and the leaf certificate's facts.
fn handshake(
    tcp: TcpStream,
    url: &Url,
    config: Arc<ClientConfig>,
    limit: Limit,
) -> Result<
    (
        StreamOwned<ClientConnection, TcpStream>,
        Option<Certificate>,
    ),
    Failure,
> {
    let name = tls::server_name(&url.host)?;
    let connection = ClientConnection::new(config, name).map_err(|err| HttpError::Tls {
        host: url.host.clone(),
        reason: err.to_string(),
    })?;
    let mut session = StreamOwned::new(connection, tcp);
    while session.conn.is_handshaking() {
        limit.apply(&session.sock, Phase::Tls)?;
        if let Err(err) = session.conn.complete_io(&mut session.sock) {
            if let Some(reason) = tls::failure_reason(&err, &url.host) {
                return Err(HttpError::Tls {
                    host: url.host.clone(),
                    reason,
                }
                .into());
            }
            if is_timeout(&err) {
                return Err(limit.timed_out(Phase::Tls));
            }
            let reason = match err.kind() {
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                    "the server closed the connection during the handshake (is it TLS on this port? try http://)"
                        .to_string()
                }
                _ => err.to_string(),
            };
            return Err(HttpError::Tls {
                host: url.host.clone(),
                reason,
            }
            .into());
        }
    }
    let certificate = session
        .conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| cert::describe(leaf.as_ref(), SystemTime::now()));
    Ok((session, certificate))
}

/// Where a body goes: counted and dropped, or streamed to a file.
enum SinkKind {
    Discard,
    File(BufWriter<File>, std::path::PathBuf),
}

/// A body's destination, its count so far and `--max-filesize`.
struct Sink {
    kind: SinkKind,
    count: u64,
    limit: Option<u64>,
}

impl Sink {
    fn file(path: &std::path::Path) -> Result<SinkKind, HttpError> {
        let file = File::create(path).map_err(|source| HttpError::Output {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(SinkKind::File(BufWriter::new(file), path.to_path_buf()))
    }

    fn write(&mut self, data: &[u8]) -> Result<(), HttpError> {
        self.count += data.len() as u64;
        if let Some(limit) = self.limit
            && self.count > limit
        {
            return Err(HttpError::TooLarge { limit });
        }
        if let SinkKind::File(file, path) = &mut self.kind {
            file.write_all(data).map_err(|source| HttpError::Output {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The bytes written, once flushed.
    fn finish(self) -> Result<u64, HttpError> {
        if let SinkKind::File(mut file, path) = self.kind {
            file.flush()
                .map_err(|source| HttpError::Output { path, source })?;
        }
        Ok(self.count)
    }
}

/// Reads the body as `framing` delimits it into `sink`, starting with the
/// bytes that came with the head; whether bytes past its end arrived.
fn read_body(
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
                    got: sink.count,
                    expected: length.to_string(),
                }
                .into()),
                Framing::Chunked => Err(HttpError::ShortBody {
                    got: sink.count,
                    expected: "the chunked body's last chunk".into(),
                }
                .into()),
            };
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// The connection's TCP_INFO and congestion control, if the kernel gives them.
fn tcp_info(tcp: &TcpStream) -> Option<TcpInfo> {
    let bytes = crate::net::tcp_info::read(tcp).ok()?;
    let congestion = nix::sys::socket::getsockopt(tcp, nix::sys::socket::sockopt::TcpCongestion)
        .ok()
        .map(|name| name.to_string_lossy().into_owned());
    Some(TcpInfoView::new(&bytes)?.parse(congestion))
}
