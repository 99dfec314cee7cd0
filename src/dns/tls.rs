//! DNS over TLS (RFC 7858): the TCP exchange inside a TLS session made by
//! rustls (ring's cryptography), the server's certificate verified against
//! the system's trust store (/etc/ssl/certs) or `--cacert FILE`, and the
//! name checked is the one the server was given by (`@dns.example`), or its
//! address (an IP subjectAltName).
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::DnsError;

/// The TLS port of DNS (RFC 7858).
pub const PORT: u16 = 853;
/// The ALPN of DNS over TLS (RFC 7858 §3.1's "dot").
pub const ALPN_DOT: &[u8] = b"dot";

/// What the session was.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct TlsInfo {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite.
    pub cipher: String,
    /// The protocol agreed by ALPN (`dot`, `h2`), null if none.
    pub alpn: Option<String>,
    /// The handshake: from the TCP connection to the session's keys, ms.
    pub handshake_ms: f64,
}

/// A client configuration trusting `cacert`'s certificates, else the
/// system's, offering `alpn`.
pub fn client_config(cacert: Option<&Path>, alpn: &[u8]) -> Result<Arc<ClientConfig>, DnsError> {
    crate::net::tls::client_config(cacert, alpn).map_err(|err| DnsError::Trust {
        from: err.from,
        reason: err.reason,
    })
}

/// The name to verify the certificate against: the server's name, or its address.
pub fn server_name(name: &str) -> Result<ServerName<'static>, DnsError> {
    ServerName::try_from(name.to_string()).map_err(|err| DnsError::BadServer {
        server: name.to_string(),
        reason: format!("not a name a certificate can be checked against: {err}"),
    })
}

/// The session's version, suite and ALPN.
pub fn info(connection: &rustls::ClientConnection, handshake_ms: f64) -> TlsInfo {
    use crate::net::tls;
    TlsInfo {
        version: tls::version(connection),
        cipher: tls::cipher(connection),
        alpn: tls::alpn(connection),
        handshake_ms,
    }
}
