//! TLS client settings every TLS client of netdx shares (DNS over TLS and
//! HTTPS, `dns --tls` and `http`): the trust anchors — the system's store
//! (/etc/ssl/certs) or a `--cacert FILE` — ring's cryptography, and the
//! names of what a session agreed on.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// Why no trust anchors (or no configuration) could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustError {
    /// Where they were to come from: the file, "the system trust store", "rustls".
    pub from: String,
    /// What went wrong, with the remedy.
    pub reason: String,
}

/// The certificates of `cacert` (PEM), else the system's.
pub fn roots(cacert: Option<&Path>) -> Result<RootCertStore, TrustError> {
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(path) => {
            let bad = |reason: String| TrustError {
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
                return Err(TrustError {
                    from: "the system trust store".into(),
                    reason: "no certificates (is ca-certificates installed?); name one with --cacert FILE"
                        .into(),
                });
            }
        }
    }
    Ok(roots)
}

/// The configuration builder with ring's provider and the safe default versions.
pub fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TrustError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| TrustError {
            from: "rustls".into(),
            reason: err.to_string(),
        })
}

/// A client configuration trusting `cacert`'s certificates, else the
/// system's, offering `alpn`.
pub fn client_config(cacert: Option<&Path>, alpn: &[u8]) -> Result<Arc<ClientConfig>, TrustError> {
    let mut config = builder()?
        .with_root_certificates(roots(cacert)?)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
}

/// The session's version as OpenSSL names it (`TLSv1.3`).
pub fn version(connection: &rustls::ClientConnection) -> String {
    connection.protocol_version().map_or_else(
        || "?".into(),
        |v| v.as_str().unwrap_or("?").replace("TLSv1_", "TLSv1."),
    )
}

/// The session's cipher suite (`TLS13_AES_256_GCM_SHA384`).
pub fn cipher(connection: &rustls::ClientConnection) -> String {
    connection.negotiated_cipher_suite().map_or_else(
        || "?".into(),
        |s| s.suite().as_str().unwrap_or("?").to_string(),
    )
}

/// The protocol ALPN agreed on, if any.
pub fn alpn(connection: &rustls::ClientConnection) -> Option<String> {
    connection
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned())
}
