//! DNS over TLS (RFC 7858): the TCP exchange inside a TLS session made by
//! rustls (ring's cryptography), the server's certificate verified against
//! the system's trust store (/etc/ssl/certs) or `--cacert FILE`, and the
//! name checked is the one the server was given by (`@dns.example`), or its
//! address (an IP subjectAltName).
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

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
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(path) => {
            let bad = |reason: String| DnsError::Trust {
                from: path.display().to_string(),
                reason,
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|err| bad(err.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|err| bad(err.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no PEM certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|err| bad(err.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(DnsError::Trust {
                    from: "the system trust store".into(),
                    reason: "no certificates (is ca-certificates installed?); name one with --cacert FILE"
                        .into(),
                });
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| DnsError::Trust {
            from: "rustls".into(),
            reason: err.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
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
    TlsInfo {
        version: connection.protocol_version().map_or_else(
            || "?".into(),
            |v| v.as_str().unwrap_or("?").replace("TLSv1_", "TLSv1."),
        ),
        cipher: connection.negotiated_cipher_suite().map_or_else(
            || "?".into(),
            |s| s.suite().as_str().unwrap_or("?").to_string(),
        ),
        alpn: connection
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        handshake_ms,
    }
}
