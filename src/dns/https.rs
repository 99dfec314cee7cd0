//! DNS over HTTPS (RFC 8484): the query POSTed as `application/dns-message`
//! to the URL over HTTP/2 (the h2 crate) inside TLS (rustls, ALPN `h2`),
//! the response body read as the answer — at most 65,535 bytes, whatever
//! the server sends — and matched to the query like any other.
//!
//! HTTP/2 is what RFC 8484 recommends and what servers such as unbound
//! speak only; the exchange is one request on one connection, run on a
//! current-thread tokio runtime made for it.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hickory_proto::op::Message;

use super::client::{Exchange, Lookup, Options, answers, encode};
use super::tls::TlsInfo;
use super::{DnsError, Question, Server, Transport, server_label};
use crate::net::FamilyChoice;

/// The HTTPS port.
pub const PORT: u16 = 443;
/// The ALPN of HTTP/2.
pub const ALPN_H2: &[u8] = b"h2";
/// The media type of a DNS message (RFC 8484 §6).
const MEDIA_TYPE: &str = "application/dns-message";
/// The largest DNS message.
const MAX_MESSAGE: usize = 65_535;

/// `--https URL`, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// As given.
    pub url: String,
    /// The host (a name or an address; brackets removed).
    pub host: String,
    /// The port (443 unless the URL names one).
    pub port: u16,
    /// The path and query (`/dns-query`).
    pub path: String,
}

/// Reads `https://HOST[:PORT][/PATH]` (PATH defaults to `/dns-query`).
pub fn endpoint(url: &str) -> Result<Endpoint, DnsError> {
    let bad = |reason: &str| DnsError::BadServer {
        server: url.to_string(),
        reason: reason.to_string(),
    };
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| bad("not an https:// URL (DNS over HTTPS: https://HOST/dns-query)"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/dns-query"),
    };
    if authority.contains('@') {
        return Err(bad(
            "user information in the URL is not used for DNS over HTTPS",
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("an unclosed '[' in the host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad("the port is not a number"))?,
            None if after.is_empty() => PORT,
            None => return Err(bad("text after the IPv6 address")),
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, p)) => (
                host.to_string(),
                p.parse().map_err(|_| bad("the port is not a number"))?,
            ),
            None => (authority.to_string(), PORT),
        }
    };
    if host.is_empty() {
        return Err(bad("no host in the URL"));
    }
    if port == 0 {
        return Err(bad("port 0"));
    }
    Ok(Endpoint {
        url: url.to_string(),
        host,
        port,
        path: path.to_string(),
    })
}

/// The server of an endpoint: the URL's host, looked up unless an address.
pub fn server(endpoint: &Endpoint, family: FamilyChoice) -> Result<Server, DnsError> {
    super::client::server(&endpoint.host, endpoint.port, family)
}

/// Asks `server` (reached at its address, named as the URL names it)
/// `question` over DNS over HTTPS.
pub fn lookup(
    question: &Question,
    server: &Server,
    endpoint: &Endpoint,
    config: &Arc<rustls::ClientConfig>,
    options: &Options,
) -> Result<Lookup, DnsError> {
    // RFC 8484 §4.1: ID 0 makes the answer cacheable by HTTP; any ID works.
    let id = crate::names::dns::random_id();
    let query = encode(question, id, options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| DnsError::Socket {
            action: "starting the HTTP/2 runtime",
            server: server_label(server.address),
            source,
        })?;
    let sent = Instant::now();
    let fail = |reason: String| DnsError::Https {
        url: endpoint.url.clone(),
        reason,
    };
    let outcome = runtime.block_on(async {
        tokio::time::timeout(
            options.timeout,
            exchange(server.address, endpoint, config, &query),
        )
        .await
    });
    let (answer, tls) = match outcome {
        Err(_elapsed) => {
            return Ok(Lookup::NoReply {
                server: server.clone(),
                transport: Transport::Https,
                tries: 1,
                ignored: 0,
                query,
            });
        }
        Ok(Err(Failure::Connect(source))) => {
            return Err(super::client::failure(
                "connecting",
                server,
                Transport::Https,
                source,
            ));
        }
        Ok(Err(Failure::Tls(reason))) => {
            return Err(DnsError::Tls {
                server: server_label(server.address),
                reason,
            });
        }
        Ok(Err(Failure::Http(reason))) => return Err(fail(reason)),
        Ok(Ok(done)) => done,
    };
    let elapsed = sent.elapsed();
    let message = Message::from_vec(&answer)
        .map_err(|err| fail(format!("the body is not a DNS message: {err}")))?;
    if !answers(&message, question, id) {
        return Err(fail(format!(
            "the body answers another query (ID {}, our {id})",
            message.metadata.id
        )));
    }
    Ok(Lookup::Answered(Box::new(Exchange {
        server: server.clone(),
        transport: Transport::Https,
        retried_over_tcp: false,
        elapsed,
        query,
        response: answer,
        message,
        ignored: 0,
        tls: Some(tls),
    })))
}

enum Failure {
    Connect(std::io::Error),
    Tls(String),
    Http(String),
}

/// Connection, TLS, HTTP/2, one POST, the body.
async fn exchange(
    address: SocketAddr,
    endpoint: &Endpoint,
    config: &Arc<rustls::ClientConfig>,
    query: &[u8],
) -> Result<(Vec<u8>, TlsInfo), Failure> {
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .map_err(Failure::Connect)?;
    let _ = tcp.set_nodelay(true);
    let name =
        super::tls::server_name(&endpoint.host).map_err(|err| Failure::Tls(err.to_string()))?;
    let handshake = Instant::now();
    let tls = tokio_rustls::TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .map_err(
            |err| match super::client::tls_reason(&err, &endpoint.host) {
                Some(reason) => Failure::Tls(reason),
                None => Failure::Connect(err),
            },
        )?;
    let info = super::tls::info(tls.get_ref().1, handshake.elapsed().as_secs_f64() * 1000.0);
    if info.alpn.as_deref() != Some("h2") {
        return Err(Failure::Http(format!(
            "the server did not agree to HTTP/2 (ALPN: {}); DNS over HTTPS here speaks HTTP/2",
            info.alpn.as_deref().unwrap_or("none")
        )));
    }
    let http = |err: h2::Error| Failure::Http(format!("HTTP/2: {err}"));
    let (client, connection) = h2::client::handshake(tls).await.map_err(http)?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let authority = if endpoint.port == PORT {
        bracketed(&endpoint.host)
    } else {
        format!("{}:{}", bracketed(&endpoint.host), endpoint.port)
    };
    let request = http::Request::post(format!("https://{authority}{}", endpoint.path))
        .header("content-type", MEDIA_TYPE)
        .header("accept", MEDIA_TYPE)
        .header("content-length", query.len())
        .body(())
        .map_err(|err| Failure::Http(format!("the request: {err}")))?;
    let mut client = client.ready().await.map_err(http)?;
    let (response, mut body) = client.send_request(request, false).map_err(http)?;
    body.send_data(Bytes::copy_from_slice(query), true)
        .map_err(http)?;
    let response = response.await.map_err(http)?;
    let status = response.status();
    if status != http::StatusCode::OK {
        return Err(Failure::Http(format!(
            "HTTP status {status} (is {} the server's DNS endpoint?)",
            endpoint.path
        )));
    }
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !media.starts_with(MEDIA_TYPE) {
        return Err(Failure::Http(format!(
            "the response is {:?}, not {MEDIA_TYPE}",
            media
        )));
    }
    let mut stream = response.into_body();
    let mut answer = Vec::new();
    while let Some(chunk) = stream.data().await {
        let chunk = chunk.map_err(http)?;
        let _ = stream.flow_control().release_capacity(chunk.len());
        if answer.len() + chunk.len() > MAX_MESSAGE {
            return Err(Failure::Http(format!(
                "the body is longer than a DNS message ({MAX_MESSAGE} bytes)"
            )));
        }
        answer.extend_from_slice(&chunk);
    }
    driver.abort();
    Ok((answer, info))
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_and_path() {
        let e = endpoint("https://dns.test/dns-query").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("dns.test", 443, "/dns-query")
        );
        let e = endpoint("https://10.9.0.2:8443").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("10.9.0.2", 8443, "/dns-query")
        );
        let e = endpoint("https://[fd09::2]/q?x=1").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.path.as_str()),
            ("fd09::2", 443, "/q?x=1")
        );
        for bad in [
            "http://dns.test/",
            "https://",
            "https://h:x/",
            "https://[::1/",
            "https://u@h/",
        ] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }
}
