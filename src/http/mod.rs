//! `netdx http`: HTTP/1.1 requests written and read by netdx itself over a
//! socket2 TCP socket (TLS by rustls), each phase timed next to the call
//! that ends it — the name lookup, connect(2), the TLS handshake, the
//! request's last write, the read that brings the first byte, the read
//! that ends the body — and the connection's TCP_INFO at the end.
//!
//! Only HTTP/1.1 is spoken (ALPN offers `http/1.1` alone). Memory is bounded
//! whatever the server sends: the head by [`message::MAX_HEAD`], the body
//! streamed to its sink through one fixed buffer.
#![forbid(unsafe_code)]

pub mod body;
pub mod cert;
pub mod client;
pub mod connection;
pub mod message;
pub mod tls;
pub mod url;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::net::FamilyChoice;
use crate::rtt::RttSummary;
use crate::sockets::tcp_info::TcpInfo;
pub use url::{Scheme, Url, UrlError};

/// The most redirects `-L` follows unless told otherwise (curl's default).
pub const DEFAULT_MAX_REDIRECTS: u32 = 50;

/// A header field to send, checked for CR, LF and a valid name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name.
    pub name: String,
    /// The value; empty removes a field netdx would send itself (as curl's `-H 'Name:'`).
    pub value: String,
}

/// `--resolve HOST:PORT:ADDR`: this address for that host and port, no lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The host as the URL names it.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The address to connect to.
    pub address: IpAddr,
}

/// What to ask and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The first URL.
    pub url: Url,
    /// The method (`GET`, `HEAD`, `POST`, …).
    pub method: String,
    /// Extra fields, after (or instead of) Host, User-Agent and Accept.
    pub headers: Vec<Header>,
    /// The request body (`-d`).
    pub body: Option<Vec<u8>>,
    /// Follow redirects (`-L`).
    pub follow: bool,
    /// The most redirects to follow.
    pub max_redirects: u32,
    /// `--resolve` pins.
    pub pins: Vec<Pin>,
    /// Which family a name may resolve to.
    pub family: FamilyChoice,
    /// Skip certificate verification (`-k`).
    pub insecure: bool,
    /// Trust these CA certificates instead of the system's.
    pub cacert: Option<PathBuf>,
    /// How many times to make the request (`-c`), one connection while it is kept.
    pub count: u32,
    /// The largest body to take (`--max-filesize`); a larger one is an error.
    pub max_filesize: Option<u64>,
    /// Keep the first this many bytes of the final response's body (0:
    /// none; the exporter matches them against its body regexps).
    pub keep_body: usize,
    /// Where the body goes; discarded (counted) when `None`.
    pub output: Option<PathBuf>,
    /// The longest one request (lookup to last byte) may take (`-m`).
    pub max_time: Option<Duration>,
    /// The longest the connect (and TLS handshake) may take.
    pub connect_timeout: Duration,
}

/// The phase a request was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Resolving the host.
    Namelookup,
    /// The TCP handshake.
    Connect,
    /// The TLS handshake.
    Tls,
    /// Writing the request.
    Send,
    /// Waiting for the response's first byte.
    FirstByte,
    /// Reading the response head and body.
    Transfer,
}

/// Cumulative times from the start of one request, in ms, named as curl's
/// `-w` variables. A reused connection's lookup, connect and TLS times are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, JsonSchema)]
pub struct Timings {
    /// Name lookup done.
    pub time_namelookup: f64,
    /// TCP connection established.
    pub time_connect: f64,
    /// TLS handshake done (0 for plain HTTP, as curl reports it).
    pub time_appconnect: f64,
    /// Ready to send the request.
    pub time_pretransfer: f64,
    /// The request's last byte written (not a curl variable).
    pub time_requestsent: f64,
    /// The response's first byte read.
    pub time_starttransfer: f64,
    /// The body's last byte read.
    pub time_total: f64,
}

/// A response header field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Field {
    /// The name as the server wrote it.
    pub name: String,
    /// The value.
    pub value: String,
}

/// The facts of the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Certificate {
    /// The subject's distinguished name (`CN=…, O=…`).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Valid from (UTC, ISO 8601).
    pub not_before: String,
    /// Valid until (UTC, ISO 8601).
    pub not_after: String,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    /// `not_after` in seconds since the epoch (not in the JSON).
    #[serde(skip)]
    pub not_after_unix: i64,
    /// The earliest `not_after` of every certificate the server sent, the
    /// leaf's included (the exporter's `probe_ssl_earliest_cert_expiry`;
    /// not in the JSON).
    #[serde(skip)]
    pub chain_earliest_expiry_unix: i64,
    /// The subjectAltName's DNS names (not in the JSON).
    #[serde(skip)]
    pub dns_names: Vec<String>,
    /// SHA-256 of the certificate's DER, lower-case hex (not in the JSON).
    #[serde(skip)]
    pub sha256_fingerprint: String,
    /// The subject as Go writes it, for blackbox_exporter's labels (not in the JSON).
    #[serde(skip)]
    pub go_subject: String,
    /// The issuer as Go writes it (not in the JSON).
    #[serde(skip)]
    pub go_issuer: String,
}

/// The TLS session of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TlsSession {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite.
    pub cipher: String,
    /// The protocol agreed by ALPN (`http/1.1`), null if the server chose none.
    pub alpn: Option<String>,
    /// Whether the certificate was verified (false with `-k`).
    pub verified: bool,
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Exchange {
    /// The URL asked for.
    pub url: String,
    /// The method sent.
    pub method: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// `1.1` or `1.0`.
    pub http_version: String,
    /// The response's header fields in order.
    pub headers: Vec<Field>,
    /// Body bytes received (after removing chunked framing).
    pub size_download: u64,
    /// Bytes of the response head.
    pub size_header: u64,
    /// Bytes of the request sent.
    pub size_request: u64,
    /// Body bytes per second over the transfer phase.
    pub speed_download: f64,
    /// The address connected to.
    pub remote_ip: IpAddr,
    /// The port connected to.
    pub remote_port: u16,
    /// Whether this request reused the previous request's connection.
    pub reused: bool,
    /// The phases.
    #[serde(flatten)]
    pub timings: Timings,
    /// The body's first `keep_body` bytes (not in the JSON).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// How the name became an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Lookup {
    /// The host.
    pub host: String,
    /// Every address found, the one used first.
    pub addresses: Vec<IpAddr>,
    /// The family of the address used: `IPv4` or `IPv6`.
    pub family: String,
    /// Where the address came from.
    pub source: LookupSource,
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookupSource {
    /// The URL held an address.
    Literal,
    /// `--resolve`.
    Pinned,
    /// /etc/hosts or DNS.
    Resolver,
}

/// Percentiles of each phase over `-c N` requests, ms (curl's cumulative times).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PhaseStats {
    /// time_namelookup.
    pub time_namelookup: RttSummary,
    /// time_connect.
    pub time_connect: RttSummary,
    /// time_appconnect.
    pub time_appconnect: RttSummary,
    /// time_pretransfer.
    pub time_pretransfer: RttSummary,
    /// time_starttransfer.
    pub time_starttransfer: RttSummary,
    /// time_total.
    pub time_total: RttSummary,
}

/// A request that ran out of time.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Timeout {
    /// The phase it was in.
    pub phase: Phase,
    /// The limit it hit, ms.
    pub after_ms: f64,
    /// Which limit: `max-time` or `connect-timeout`.
    pub limit: &'static str,
    /// Which request (1-based) of `-c N`.
    pub request: u32,
}

/// Everything `netdx http` found: the last response (after redirects) at
/// the top, as curl's `-w` reports it, and every request made.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Report {
    /// The URL given.
    pub url: String,
    /// The final URL (after redirects).
    pub url_effective: String,
    /// The last response's status code (0 if none arrived).
    pub status: u16,
    /// The last response's reason phrase.
    pub reason: String,
    /// The last response's version.
    pub http_version: String,
    /// The last response's header fields.
    pub headers: Vec<Field>,
    /// The last response's body size.
    pub size_download: u64,
    /// The last response's body rate, bytes/s.
    pub speed_download: f64,
    /// The last request's phases.
    #[serde(flatten)]
    pub timings: Timings,
    /// How the last host's address was found.
    pub lookup: Option<Lookup>,
    /// The last connection's TLS session (null for plain HTTP).
    pub tls: Option<TlsSession>,
    /// The last TLS server's certificate (its leaf).
    pub certificate: Option<Certificate>,
    /// The last connection's TCP_INFO after the last response.
    pub tcp_info: Option<TcpInfo>,
    /// Redirects followed (each is one of `exchanges`).
    pub num_redirects: u32,
    /// TCP connections opened.
    pub num_connects: u32,
    /// Every request made, redirects included, in order.
    pub exchanges: Vec<Exchange>,
    /// Per-phase percentiles of the final requests of `-c N` (null for one).
    pub stats: Option<PhaseStats>,
    /// Set when a request ran out of time (exit 1).
    pub timeout: Option<Timeout>,
    /// Where the body went (`-o`), null when discarded.
    pub output: Option<String>,
}

/// Why `netdx http` could not go on (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL (or a redirect's Location) is not one netdx fetches.
    #[error("bad URL {url:?}: {source}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        source: UrlError,
    },
    /// The host does not resolve.
    #[error("{host}: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's answer.
        source: crate::names::NameError,
    },
    /// The server refused the connection (or the network is unreachable).
    #[error("connecting to {address}: {source} (is a server listening on port {port}?)", address = addr_label(*address, *port), port = port)]
    Connect {
        /// The address.
        address: IpAddr,
        /// The port.
        port: u16,
        /// What the kernel said.
        source: std::io::Error,
    },
    /// The trust anchors could not be loaded.
    #[error("TLS trust anchors from {from}: {reason}")]
    Trust {
        /// Where they were to come from.
        from: String,
        /// Why not.
        reason: String,
    },
    /// The TLS handshake failed (certificate refused, protocol error).
    #[error("TLS handshake with {host}: {reason}")]
    Tls {
        /// The host.
        host: String,
        /// Why, with the remedy.
        reason: String,
    },
    /// The response broke HTTP/1.1.
    #[error("malformed response from {host}: {source}")]
    Malformed {
        /// The host.
        host: String,
        /// What was wrong.
        source: message::MessageError,
    },
    /// The body ended before its Content-Length or last chunk.
    #[error("the server closed the connection after {got} of {expected} body bytes")]
    ShortBody {
        /// Bytes received.
        got: u64,
        /// What was announced (`the chunked body's last chunk` when chunked).
        expected: String,
    },
    /// The server closed the connection before a response.
    #[error("{host} closed the connection without a response")]
    NoResponse {
        /// The host.
        host: String,
    },
    /// `-L` hit its limit.
    #[error("maximum ({limit}) redirects followed (raise it with --max-redirs N)")]
    TooManyRedirects {
        /// The limit.
        limit: u32,
    },
    /// A redirect without a Location.
    #[error("a {status} redirect without a Location field")]
    NoLocation {
        /// The status.
        status: u16,
    },
    /// The socket failed mid-request.
    #[error("{action} {host}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The host.
        host: String,
        /// What the kernel said.
        source: std::io::Error,
    },
    /// The body passed `--max-filesize`.
    #[error("the body is larger than --max-filesize ({limit} bytes); stopped reading it")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The `-o` file could not be written.
    #[error("writing {}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
}

/// `addr:port`, IPv6 in brackets.
fn addr_label(address: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(address, port).to_string()
}
