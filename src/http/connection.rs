//! Connections: the name or pin to addresses, the TCP connect (socket2),
//! the TLS handshake (rustls) and its certificate, the byte stream either
//! way, the deadlines every call is held to, and TCP_INFO at the end.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use socket2::{Domain, Protocol, Socket, Type};

use super::{
    Certificate, HttpError, Lookup, LookupSource, Phase, Request, Scheme, TlsSession, Url, cert,
    tls,
};
use crate::sockets::tcp_info::{TcpInfo, TcpInfoView};

/// How a request failed: out of time (exit 1), or an error (exit 2).
pub(super) enum Failure {
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
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    pub(super) fn tcp(&self) -> &TcpStream {
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
pub(super) struct Connection {
    pub(super) scheme: Scheme,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) stream: Stream,
    pub(super) remote: SocketAddr,
    pub(super) lookup: Lookup,
    pub(super) tls: Option<TlsSession>,
    pub(super) certificate: Option<Certificate>,
    /// The server may take another request on it.
    pub(super) reusable: bool,
}

/// A deadline and the option that set it.
#[derive(Clone, Copy)]
pub(super) struct Limit {
    at: Option<Instant>,
    limit: &'static str,
    length: Duration,
}

impl Limit {
    pub(super) fn new(start: Instant, length: Option<Duration>, limit: &'static str) -> Limit {
        Limit {
            at: length.map(|l| start + l),
            limit,
            length: length.unwrap_or_default(),
        }
    }

    /// The earlier of two limits.
    pub(super) fn min(self, other: Limit) -> Limit {
        match (self.at, other.at) {
            (Some(a), Some(b)) if b < a => other,
            (None, Some(_)) => other,
            _ => self,
        }
    }

    /// Time left, or the timeout failure once none is.
    pub(super) fn left(&self, phase: Phase) -> Result<Option<Duration>, Failure> {
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
    pub(super) fn apply(&self, tcp: &TcpStream, phase: Phase) -> Result<(), Failure> {
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

    pub(super) fn timed_out(&self, phase: Phase) -> Failure {
        Failure::Timeout(phase, self.limit, self.length)
    }
}

pub(super) fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The address(es) for `url`'s host: a literal, a `--resolve` pin, or the resolver's.
pub(super) fn resolve(request: &Request, url: &Url, limit: Limit) -> Result<Lookup, Failure> {
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
pub(super) fn connect(
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
pub(super) fn handshake(
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
    let now = SystemTime::now();
    let chain = session.conn.peer_certificates().unwrap_or_default();
    let certificate = chain
        .first()
        .and_then(|leaf| cert::describe(leaf.as_ref(), now))
        .map(|mut leaf| {
            leaf.chain_earliest_expiry_unix = chain
                .iter()
                .filter_map(|c| cert::describe(c.as_ref(), now))
                .map(|c| c.not_after_unix)
                .min()
                .unwrap_or(leaf.not_after_unix);
            leaf
        });
    Ok((session, certificate))
}

/// The connection's TCP_INFO and congestion control, if the kernel gives them.
pub(super) fn tcp_info(tcp: &TcpStream) -> Option<TcpInfo> {
    let bytes = crate::net::tcp_info::read(tcp).ok()?;
    let congestion = nix::sys::socket::getsockopt(tcp, nix::sys::socket::sockopt::TcpCongestion)
        .ok()
        .map(|name| name.to_string_lossy().into_owned());
    Some(TcpInfoView::new(&bytes)?.parse(congestion))
}
