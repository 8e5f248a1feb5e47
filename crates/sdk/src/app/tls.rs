//! TLS for `https://` servers: ONE rustls client configuration serves both
//! the HTTP calls (reqwest) and the realtime websocket (`wss://`), so both
//! trust exactly the same roots: the Mozilla roots of `webpki-roots`, plus
//! any CA given with [`Options::root_certificate_pem`](super::Options::root_certificate_pem)
//! (a self-hosted server behind a private CA).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::error::{Error, Result};

/// The client TLS configuration of one [`App`](super::App).
pub(crate) type TlsConfig = Arc<rustls::ClientConfig>;

/// The configuration trusting the public roots and `extra_pem` (zero or
/// more PEM certificates).
pub(crate) fn config(extra_pem: &[Vec<u8>]) -> Result<TlsConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in extra_pem {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| Error::Runtime(format!("root certificate: not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Runtime(format!("root certificate refused: {e}")))?;
            found = true;
        }
        if !found {
            return Err(Error::Runtime("root certificate: no CERTIFICATE in the PEM".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Runtime(format!("TLS set-up: {e}")))?
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
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
    }
}
