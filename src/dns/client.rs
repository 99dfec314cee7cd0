//! One lookup: the query encoded, sent to the server over UDP (tried
//! again after each timeout) or TCP, the response read, decoded and
//! matched to the query — same ID, a response, the same question — and a
//! truncated UDP answer asked again over TCP.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};

use super::{DnsError, Question, Server, Transport, server_label};
use crate::net::FamilyChoice;

/// The EDNS0 buffer offered (dig's and the 4,096 bytes).
pub const EDNS_BUFFER: u16 = 4096;

/// How to ask.
#[derive(Debug, Clone)]
pub struct Options {
    /// TCP from the start (`--tcp`); else UDP, and TCP after a truncated answer.
    pub tcp: bool,
    /// DNS over TLS with this configuration (`--tls`; and for `--https`).
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// DNS over HTTPS to this endpoint (`--https URL`).
    pub https: Option<super::https::Endpoint>,
    /// How long each try waits.
    pub timeout: Duration,
    /// Tries over UDP before giving up.
    pub tries: u32,
    /// The RD bit (`--norecurse` clears it).
    pub recurse: bool,
    /// The DO bit (`+dnssec`).
    pub dnssec: bool,
    /// Send an OPT record (EDNS0); `+noedns` turns it off.
    pub edns: bool,
}

/// A response that answered the query.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Who answered.
    pub server: Server,
    /// Over what the answer came.
    pub transport: Transport,
    /// The UDP answer was truncated (TC) and this one came over TCP.
    pub retried_over_tcp: bool,
    /// From the query's send to the answer's arrival (dig's "Query time").
    pub elapsed: Duration,
    /// The query as sent.
    pub query: Vec<u8>,
    /// The response as received.
    pub response: Vec<u8>,
    /// The response.
    pub message: Message,
    /// Datagrams read and dropped: undecodable, or not about this query.
    pub ignored: u32,
    /// Over TLS: the session.
    pub tls: Option<super::tls::TlsInfo>,
}

/// How a lookup ended.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// A response came.
    Answered(Box<Exchange>),
    /// Nothing matching came in any try.
    NoReply {
        /// Who was asked.
        server: Server,
        /// Over what.
        transport: Transport,
        /// How many tries.
        tries: u32,
        /// The query as sent.
        query: Vec<u8>,
        /// Datagrams read and dropped.
        ignored: u32,
    },
}

/// Asks `server` `question`.
pub fn lookup(question: &Question, server: &Server, options: &Options) -> Result<Lookup, DnsError> {
    if let (Some(endpoint), Some(config)) = (&options.https, &options.tls) {
        return super::https::lookup(question, server, endpoint, config, options);
    }
    let id = crate::names::dns::random_id();
    let query = encode(question, id, options)?;
    if options.tcp || options.tls.is_some() {
        return tcp(question, server, &query, id, options, false);
    }
    let socket = udp_socket(server)?;
    let mut buffer = vec![0u8; crate::net::LARGEST_DATAGRAM];
    let mut ignored = 0;
    for _ in 0..options.tries.max(1) {
        let sent = Instant::now();
        socket
            .send(&query)
            .map_err(|source| failure("sending the query", server, Transport::Udp, source))?;
        if let Some((message, response)) = udp_answer(
            &socket,
            server,
            question,
            id,
            sent + options.timeout,
            &mut buffer,
            &mut ignored,
        )? {
            let elapsed = sent.elapsed();
            if message.metadata.truncation {
                return tcp(question, server, &query, id, options, true);
            }
            return Ok(Lookup::Answered(Box::new(Exchange {
                server: server.clone(),
                transport: Transport::Udp,
                retried_over_tcp: false,
                elapsed,
                query,
                response,
                message,
                ignored,
                tls: None,
            })));
        }
    }
    Ok(Lookup::NoReply {
        server: server.clone(),
        transport: Transport::Udp,
        tries: options.tries.max(1),
        ignored,
        query,
    })
}

/// The query message as bytes.
pub(super) fn encode(question: &Question, id: u16, options: &Options) -> Result<Vec<u8>, DnsError> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = options.recurse;
    let mut query = Query::query(question.name.clone(), question.rtype);
    query.query_class = question.class;
    message.add_query(query);
    if options.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_BUFFER)
            .set_dnssec_ok(options.dnssec);
        message.set_edns(edns);
    }
    message
        .to_vec()
        .map_err(|err| DnsError::Encode(err.to_string()))
}

pub(super) fn udp_socket(server: &Server) -> Result<UdpSocket, DnsError> {
    let local: SocketAddr = match server.address {
        SocketAddr::V4(_) => (IpAddr::from([0, 0, 0, 0]), 0).into(),
        SocketAddr::V6(_) => (IpAddr::from([0u16; 8]), 0).into(),
    };
    let socket = UdpSocket::bind(local)
        .map_err(|source| failure("opening a UDP socket", server, Transport::Udp, source))?;
    // Connected: the kernel drops datagrams from anyone else, and an ICMP
    // port unreachable comes back as ECONNREFUSED.
    socket
        .connect(server.address)
        .map_err(|source| failure("connecting", server, Transport::Udp, source))?;
    Ok(socket)
}

/// Reads datagrams until one answers the query or `deadline` passes.
fn udp_answer(
    socket: &UdpSocket,
    server: &Server,
    question: &Question,
    id: u16,
    deadline: Instant,
    buffer: &mut [u8],
    ignored: &mut u32,
) -> Result<Option<(Message, Vec<u8>)>, DnsError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|source| failure("setting the timeout", server, Transport::Udp, source))?;
        match socket.recv(buffer) {
            Ok(n) => match Message::from_vec(&buffer[..n]) {
                Ok(message) if answers(&message, question, id) => {
                    return Ok(Some((message, buffer[..n].to_vec())));
                }
                _ => *ignored += 1,
            },
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(failure(
                    "reading the answer",
                    server,
                    Transport::Udp,
                    source,
                ));
            }
        }
    }
}

/// Whether `message` is the response to our query: a response, our ID,
/// and our question (names compared case-blind, as DNS compares them).
pub(super) fn answers(message: &Message, question: &Question, id: u16) -> bool {
    let meta = &message.metadata;
    meta.id == id
        && meta.message_type == MessageType::Response
        && match message.queries.as_slice() {
            [q] => {
                q.query_type == question.rtype
                    && q.query_class == question.class
                    && q.name
                        .to_ascii()
                        .eq_ignore_ascii_case(&question.name.to_ascii())
            }
            // Some servers leave the question out of an error response.
            [] => u16::from(meta.response_code) != 0,
            _ => false,
        }
}

/// The exchange over TCP (inside TLS with `options.tls`): the query after
/// its two-byte length, the answer read the same way (at most 65,535 bytes,
/// whatever the server claims).
pub(super) fn tcp(
    question: &Question,
    server: &Server,
    query: &[u8],
    id: u16,
    options: &Options,
    retried: bool,
) -> Result<Lookup, DnsError> {
    let transport = if options.tls.is_some() {
        Transport::Tls
    } else {
        Transport::Tcp
    };
    let sent = Instant::now();
    let no_reply = || {
        Ok(Lookup::NoReply {
            server: server.clone(),
            transport,
            tries: 1,
            ignored: 0,
            query: query.to_vec(),
        })
    };
    let mut stream = match TcpStream::connect_timeout(&server.address, options.timeout) {
        Ok(stream) => stream,
        Err(err) if err.kind() == io::ErrorKind::TimedOut => return no_reply(),
        Err(source) => return Err(failure("connecting", server, transport, source)),
    };
    let left = options
        .timeout
        .saturating_sub(sent.elapsed())
        .max(Duration::from_millis(1));
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(left))
        .and_then(|()| stream.set_write_timeout(Some(left)))
        .map_err(|source| failure("setting the timeout", server, transport, source))?;
    let (read, tls) = match &options.tls {
        None => (framed(&mut stream, query), None),
        Some(config) => {
            let name = super::tls::server_name(&server.name)?;
            let connection =
                rustls::ClientConnection::new(config.clone(), name).map_err(|err| {
                    DnsError::Tls {
                        server: server_label(server.address),
                        reason: err.to_string(),
                    }
                })?;
            let mut session = rustls::StreamOwned::new(connection, stream);
            let handshake = Instant::now();
            let shaken = (|| {
                while session.conn.is_handshaking() {
                    session.conn.complete_io(&mut session.sock)?;
                }
                Ok::<(), io::Error>(())
            })();
            if let Err(err) = shaken {
                return match tls_reason(&err, &server.name) {
                    Some(reason) => Err(DnsError::Tls {
                        server: server_label(server.address),
                        reason,
                    }),
                    None if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                    {
                        no_reply()
                    }
                    None => Err(failure("the TLS handshake", server, transport, err)),
                };
            }
            let info = super::tls::info(&session.conn, handshake.elapsed().as_secs_f64() * 1000.0);
            (framed(&mut session, query), Some(info))
        }
    };
    let answer = match read {
        Ok(answer) => answer,
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return no_reply();
        }
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(DnsError::Malformed {
                server: server_label(server.address),
                transport: transport.upper(),
                reason: "the server closed the connection before a whole message".into(),
            });
        }
        Err(source) => {
            return Err(failure("talking to the server", server, transport, source));
        }
    };
    let elapsed = sent.elapsed();
    let malformed = |reason: String| DnsError::Malformed {
        server: server_label(server.address),
        transport: transport.upper(),
        reason,
    };
    let message = Message::from_vec(&answer).map_err(|err| malformed(err.to_string()))?;
    if !answers(&message, question, id) {
        return Err(malformed(format!(
            "it answers another query (ID {}, our {id})",
            message.metadata.id
        )));
    }
    Ok(Lookup::Answered(Box::new(Exchange {
        server: server.clone(),
        transport,
        retried_over_tcp: retried,
        elapsed,
        query: query.to_vec(),
        response: answer,
        message,
        ignored: 0,
        tls,
    })))
}

/// One message each way over a stream, each after its two-byte length.
fn framed(stream: &mut (impl Read + Write), query: &[u8]) -> io::Result<Vec<u8>> {
    let mut message = Vec::with_capacity(query.len() + 2);
    message.extend_from_slice(&(query.len() as u16).to_be_bytes());
    message.extend_from_slice(query);
    stream.write_all(&message)?;
    stream.flush()?;
    let mut length = [0u8; 2];
    stream.read_exact(&mut length)?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut answer)?;
    Ok(answer)
}

/// rustls's reason for a failed handshake, with the remedy for a
/// certificate it does not accept; None for an error of the connection.
pub(super) fn tls_reason(err: &io::Error, name: &str) -> Option<String> {
    use rustls::CertificateError as Cert;
    let tls = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(why) => match why {
            Cert::UnknownIssuer => "the server's certificate is signed by a CA not trusted here; \
                                    trust that CA with --cacert FILE"
                .to_string(),
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => format!(
                "the server's certificate is not valid for {name:?}; name the server as its \
                 certificate does (@NAME, with -p for the port)"
            ),
            Cert::Expired | Cert::ExpiredContext { .. } => {
                "the server's certificate has expired".to_string()
            }
            Cert::NotValidYet | Cert::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (is the clock right?)".to_string()
            }
            other => format!("the server's certificate is not accepted: {other:?}"),
        },
        other => other.to_string(),
    })
}

pub(super) fn failure(
    action: &'static str,
    server: &Server,
    transport: Transport,
    source: io::Error,
) -> DnsError {
    use io::ErrorKind::*;
    match source.kind() {
        ConnectionRefused | HostUnreachable | NetworkUnreachable | ConnectionReset => {
            DnsError::Unreachable {
                server: server_label(server.address),
                transport: transport.upper(),
                source,
            }
        }
        _ => DnsError::Socket {
            action,
            server: server_label(server.address),
            source,
        },
    }
}

/// The server of `@SERVER` (an address, `address:port`, `[v6]:port`, or a
/// name looked up by the system resolver), on `port` unless it names one.
pub fn server(text: &str, port: u16, family: FamilyChoice) -> Result<Server, DnsError> {
    let bad = |reason: String| DnsError::BadServer {
        server: text.to_string(),
        reason,
    };
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(Server {
            address: (address, port).into(),
            name: address.to_string(),
        });
    }
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(Server {
            address,
            name: address.ip().to_string(),
        });
    }
    if text.is_empty() {
        return Err(bad("no server after '@'".into()));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, p)) if !host.contains(':') => (
            host,
            p.parse::<u16>()
                .map_err(|_| bad(format!("{p:?} is not a port")))?,
        ),
        _ => (text, port),
    };
    let resolved = crate::names::resolve(host, family).map_err(|err| bad(err.to_string()))?;
    Ok(Server {
        address: (resolved.addresses[0], port).into(),
        name: host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_addresses_with_ports_or_names() {
        let any = FamilyChoice::Any;
        assert_eq!(
            server("10.0.0.53", 53, any).unwrap().address,
            "10.0.0.53:53".parse().unwrap()
        );
        assert_eq!(
            server("10.0.0.53:5353", 53, any).unwrap().address,
            "10.0.0.53:5353".parse().unwrap()
        );
        assert_eq!(
            server("::1", 5300, any).unwrap().address,
            "[::1]:5300".parse().unwrap()
        );
        assert_eq!(
            server("[::1]:54", 53, any).unwrap().address,
            "[::1]:54".parse().unwrap()
        );
        assert!(server("", 53, any).is_err());
        assert!(server("localhost:notaport", 53, any).is_err());
    }
}
