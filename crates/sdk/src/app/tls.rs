//! TLS for `https://` servers: ONE rustls client configuration serves both
//! the HTTP calls (reqwest) and the realtime websocket (`wss://`), so both
//! trust exactly the same roots: the Mozilla roots of `webpki-roots`, plus
//! any CA given with [`Options::root_certificate_pem`](super::Options::root_certificate_pem)
//! (a self-hosted server behind a private CA). The configuration itself is
//! the SDK's shared one (`crate::http::tls`).

use super::error::{Error, Result};

/// The client TLS configuration of one [`App`](super::App).
pub(crate) type TlsConfig = crate::http::tls::TlsConfig;

/// The configuration trusting the public roots and `extra_pem` (zero or
/// more PEM certificates).
pub(crate) fn config(extra_pem: &[Vec<u8>]) -> Result<TlsConfig> {
    crate::http::tls::config(extra_pem).map_err(Error::Runtime)
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
