//! HTTPS's TLS settings: ALPN `http/1.1` only, the shared trust anchors,
//! and `-k`'s verifier, which accepts any certificate but still checks the
//! handshake's signatures (so the session is still the server's key's).
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use super::HttpError;
use crate::net::tls;

/// The one protocol offered: HTTP/2 is not spoken.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// The client configuration: verifying against `cacert` or the system's
/// store, or (`insecure`) accepting any certificate.
pub fn client_config(
    cacert: Option<&Path>,
    insecure: bool,
) -> Result<Arc<ClientConfig>, HttpError> {
    let trust = |err: tls::TrustError| HttpError::Trust {
        from: err.from,
        reason: err.reason,
    };
    let mut config = if insecure {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        tls::builder()
            .map_err(trust)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { algorithms }))
            .with_no_client_auth()
    } else {
        tls::builder()
            .map_err(trust)?
            .with_root_certificates(tls::roots(cacert).map_err(trust)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// The name a certificate is checked against: the URL's host (a name or an address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, HttpError> {
    ServerName::try_from(host.to_string()).map_err(|err| HttpError::Tls {
        host: host.to_string(),
        reason: format!("not a name a certificate can be checked against: {err}"),
    })
}

/// rustls's reason for a failed handshake, with the remedy; `None` when
/// the failure was the connection's, not TLS's.
pub fn failure_reason(err: &std::io::Error, host: &str) -> Option<String> {
    use rustls::CertificateError as Cert;
    let error = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    let skip = "or -k to skip verification";
    Some(match error {
        rustls::Error::InvalidCertificate(why) => match why {
            Cert::UnknownIssuer => format!(
                "certificate verification failed: signed by an unknown CA (trust it with --cacert FILE, {skip})"
            ),
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => format!(
                "certificate verification failed: not valid for {host:?} (use the name it was issued for, with --resolve HOST:PORT:ADDR; {skip})"
            ),
            Cert::Expired | Cert::ExpiredContext { .. } => {
                format!("certificate verification failed: expired ({skip})")
            }
            Cert::NotValidYet | Cert::NotValidYetContext { .. } => format!(
                "certificate verification failed: not valid yet (is the clock right? {skip})"
            ),
            other => format!("certificate verification failed: {other:?} ({skip})"),
        },
        rustls::Error::NoApplicationProtocol => {
            "the server speaks no HTTP/1.1 (ALPN); netdx does not speak HTTP/2".to_string()
        }
        other => other.to_string(),
    })
}

/// `-k`: every certificate is taken; the handshake's signatures are still checked.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
