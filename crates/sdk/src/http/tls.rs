//! TLS for `https://` servers: ONE rustls client configuration trusting the
//! Mozilla roots of `webpki-roots` plus any private CA the caller gives as
//! PEM (a self-hosted server behind its own CA). The app client uses it for
//! HTTP and its websocket, the things client for HTTP.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// A client TLS configuration.
pub(crate) type TlsConfig = Arc<rustls::ClientConfig>;

/// The configuration trusting the public roots and `extra_pem` (zero or
/// more PEM certificates). The error is a sentence for the caller's error type.
pub(crate) fn config(extra_pem: &[Vec<u8>]) -> Result<TlsConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in extra_pem {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("root certificate: not PEM: {e}"))?;
            roots.add(cert).map_err(|e| format!("root certificate refused: {e}"))?;
            found = true;
        }
        if !found {
            return Err("root certificate: no CERTIFICATE in the PEM".into());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_without_certificates_is_refused_with_a_clear_error() {
        assert!(config(&[]).is_ok());
        let err = config(&[b"not a certificate".to_vec()]).expect_err("refused");
        assert!(err.contains("no CERTIFICATE"), "{err}");
    }
}
