//! TLS to PostgreSQL with rustls (the ring provider, the one the rest of
//! the binary uses), chosen by `sslmode` in `store.url` as libpq does:
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default): TLS when the server offers it, else plain; the
//!   certificate is not checked (encryption against passive listeners only).
//! - `require`: TLS or no connection; the certificate is not checked.
//! - `verify-full`: TLS, the certificate chains to a trusted root and names
//!   the host of the URL. The roots are the system's, or only the CA file
//!   given (`store.ca_file`, PEM), like libpq's `sslrootcert`.
//!
//! tokio-postgres knows only the first three; `verify-full` is taken out
//! of the URL here and handed to it as `require` with a verifying connector.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use crate::store::StoreError;

/// TLS settings of a PostgreSQL store beside the URL.
#[derive(Debug, Clone, Default)]
pub struct PgTls {
    /// A PEM file of the CA certificates `sslmode=verify-full` trusts
    /// instead of the system's (a private CA).
    pub ca_file: Option<PathBuf>,
}

/// What `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

/// The URL tokio-postgres can parse (`verify-full` read as `require`) and
/// the mode asked for.
pub(crate) fn split_sslmode(url: &str) -> Result<(String, SslMode), StoreError> {
    let mut mode = SslMode::Prefer;
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    // Parameters follow `?` or `&` in a URL, whitespace in key=value form.
    while let Some(i) = find_param(rest, "sslmode=") {
        let start = i + "sslmode=".len();
        let end = rest[start..]
            .find(|c: char| c == '&' || c.is_whitespace())
            .map_or(rest.len(), |e| start + e);
        let value = &rest[start..end];
        mode = match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(StoreError::Unavailable(format!(
                    "store.url: sslmode={other} is not supported (use disable, prefer, require or verify-full)"
                )));
            }
        };
        out.push_str(&rest[..start]);
        out.push_str(if mode == SslMode::VerifyFull { "require" } else { value });
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok((out, mode))
}

/// Where parameter `name` (`key=`) starts in `s`, at a parameter boundary.
fn find_param(s: &str, name: &str) -> Option<usize> {
    s.match_indices(name).map(|(i, _)| i).find(|&i| {
        i == 0
            || s[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c == '?' || c == '&' || c.is_whitespace())
    })
}

/// The connector for `mode`. Certificates are only loaded when checked.
pub(crate) fn connector(mode: SslMode, tls: &PgTls) -> Result<RustlsConnect, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("TLS to PostgreSQL: {e}")))?;
    let config = if mode == SslMode::VerifyFull {
        builder.with_root_certificates(roots(tls.ca_file.as_deref())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
    }
    .with_no_client_auth();
    Ok(RustlsConnect {
        config: Arc::new(config),
        verify: mode == SslMode::VerifyFull,
    })
}

/// The roots `verify-full` trusts: the CA file alone, or the system's.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, StoreError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad =
                |e: &dyn std::fmt::Display| StoreError::Unavailable(format!("store.ca_file {}: {e}", path.display()));
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(&e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(&e))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad(&"no CA certificate in the file (PEM expected)"));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(StoreError::Unavailable(
                    "sslmode=verify-full: no system root certificates found; set store.ca_file to the CA of the \
                     PostgreSQL server"
                        .into(),
                ));
            }
        }
    }
    Ok(roots)
}

/// Accepts any certificate (`prefer`, `require`) but still checks the
/// handshake signatures, so the session is encrypted to whoever answered.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Makes a TLS connector per host for tokio-postgres.
#[derive(Clone)]
pub(crate) struct RustlsConnect {
    config: Arc<ClientConfig>,
    verify: bool,
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnector;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnector, io::Error> {
        let name = match ServerName::try_from(domain.to_owned()) {
            Ok(name) => name,
            // Nothing to check a name against without verification (a Unix socket).
            Err(_) if !self.verify => ServerName::try_from("localhost").map_err(io::Error::other)?,
            Err(e) => {
                return Err(io::Error::other(format!(
                    "sslmode=verify-full: {domain:?} is not a host name to verify: {e}"
                )));
            }
        };
        Ok(RustlsConnector {
            connector: tokio_rustls::TlsConnector::from(self.config.clone()),
            name,
        })
    }
}

/// Connects one stream.
pub(crate) struct RustlsConnector {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move { self.connector.connect(self.name, stream).await.map(RustlsStream) })
    }
}

/// A TLS session to PostgreSQL. No channel binding: SCRAM without `-PLUS`.
pub(crate) struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_read_and_verify_full_reaches_tokio_postgres_as_require() {
        let (url, mode) = split_sslmode("postgres://u:p@h/db").unwrap();
        assert_eq!((url.as_str(), mode), ("postgres://u:p@h/db", SslMode::Prefer));
        let (url, mode) = split_sslmode("postgres://u:p@h/db?sslmode=verify-full&connect_timeout=3").unwrap();
        assert_eq!(url, "postgres://u:p@h/db?sslmode=require&connect_timeout=3");
        assert_eq!(mode, SslMode::VerifyFull);
        let (url, mode) = split_sslmode("host=h sslmode=disable user=u").unwrap();
        assert_eq!(
            (url.as_str(), mode),
            ("host=h sslmode=disable user=u", SslMode::Disable)
        );
        // A password that merely contains the text is no parameter.
        let (url, mode) = split_sslmode("postgres://u:xsslmode=verify-full@h/db?sslmode=require").unwrap();
        assert_eq!(url, "postgres://u:xsslmode=verify-full@h/db?sslmode=require");
        assert_eq!(mode, SslMode::Require);
        let err = split_sslmode("postgres://h/db?sslmode=verify-ca")
            .unwrap_err()
            .to_string();
        assert!(err.contains("verify-ca") && err.contains("verify-full"), "{err}");
    }
}
