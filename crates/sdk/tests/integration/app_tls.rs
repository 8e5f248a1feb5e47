//! `https://` servers: API calls and the realtime websocket (`wss://`)
//! through a TLS terminator in front of the server (as a self-hosted
//! deployment puts one), trusting a private CA given in the options.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use thingstead::app::{App, Error, Options};
use thingstead_server::testing::TestServer;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::app_support::{PASSWORD, org};

pub const CA: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
const CERT: &[u8] = include_bytes!("../fixtures/tls/server.pem");
const KEY: &[u8] = include_bytes!("../fixtures/tls/server.key");

/// A TLS terminator on 127.0.0.1 forwarding to `target`; its `https://localhost:PORT` URL.
pub async fn tls_terminator(target: std::net::SocketAddr) -> (String, tokio::task::JoinHandle<()>) {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT).map(|c| c.expect("cert")).collect();
    let key = PrivateKeyDer::from_pem_slice(KEY).expect("key");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Ok(mut up) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    (format!("https://localhost:{port}"), task)
}

#[tokio::test]
async fn api_calls_and_channels_work_over_https_and_wss_with_a_private_ca() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let (url, terminator) = tls_terminator(server.http).await;
    let options = || {
        Options::new(url.clone())
            .root_certificate_pem(CA)
            .user("alice", PASSWORD, "acme")
    };

    let listening = App::start(options()).await.expect("login over https");
    let talking = App::start(options()).await.expect("login over https");
    let lobby = listening.get_channel("lobby", false, false).unwrap();
    let listener = lobby
        .listen("hello", Duration::from_secs(10), Duration::from_secs(60))
        .await
        .expect("subscribed over wss://");
    assert!(listening.is_connected());
    let channel = talking.get_channel("lobby", false, false).unwrap();
    channel
        .broadcast("hello", json!({"over": "wss"}), Duration::from_millis(100))
        .await
        .expect("broadcast over https");
    let got = listener
        .wait(Duration::from_secs(10))
        .await
        .expect("wait")
        .expect("a broadcast within 10 s");
    assert_eq!(got.payload, json!({"over": "wss"}));
    assert!(talking.devices().find(&[]).await.is_ok(), "resources over https");

    // Without the CA the server's certificate is not trusted.
    let Err(refused) = App::start(Options::new(url.clone()).user("alice", PASSWORD, "acme")).await else {
        panic!("the certificate of a private CA was trusted without it");
    };
    assert!(matches!(refused, Error::Network(_)), "{refused:?}");

    listening.stop();
    talking.stop();
    terminator.abort();
    server.stop().await;
}
