//! The requests: one at a time on a connection from [`super::connection`],
//! the response head read through [`super::message`] and the body through
//! [`super::body`], every phase stamped right after the call that ends it,
//! redirects and `-c N` repeats.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use super::body::{READ_SIZE, Sink, read_body};
use super::connection::{
    Connection, Failure, Limit, Stream, connect, handshake, is_timeout, resolve, tcp_info,
};
use super::message::{self, Framing, Head};
use super::{
    Exchange, Field, HttpError, Phase, PhaseStats, Report, Request, Scheme, Timeout, Timings,
    TlsSession, Url, tls,
};
use crate::rtt::Rtt;

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
        let file = match &location {
            None => request.output.as_deref(),
            Some(_) => None,
        };
        let keep = if location.is_none() {
            request.keep_body
        } else {
            0
        };
        let mut sink = Sink::new(file, request.max_filesize, keep)?;
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
        let (size_download, body) = sink.finish()?;
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
            body,
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
