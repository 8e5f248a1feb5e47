//! Helpers shared by the integration tests.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one frame on a fresh connection, as hologram-python does, and
/// reads the reply until the server closes.
pub async fn send_frame(addr: SocketAddr, frame: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(frame).await.expect("write");
    read_to_close(&mut s).await
}

/// Reads until the server closes (bounded by 5 s).
pub async fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut reply))
        .await
        .expect("server closes within 5 s")
        .expect("read reply");
    reply
}

/// A csrpsk message frame in hologram-python's bytes.
pub fn message_frame(key: &str, topics: &[&str], data: &str) -> Vec<u8> {
    use thingstead_proto::device::{DeviceFrame, DeviceKey, MessageFrame};
    DeviceFrame::Message(MessageFrame {
        key: DeviceKey::parse(key).expect("key"),
        metadata: Some("\u{1}agnostic-0.9.1".into()),
        topics: topics.iter().map(|t| t.parse().expect("topic")).collect(),
        data: data.into(),
        idempotency_key: None,
    })
    .encode()
}

/// An HTTP client with a timeout.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Polls `check` every 50 ms until it is true or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// GETs `url` and parses the JSON body.
pub async fn get_json(url: &str) -> serde_json::Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON body")
}

/// POSTs `body` as JSON to `url` and parses the JSON answer.
pub async fn post_json(url: &str, body: &serde_json::Value) -> serde_json::Value {
    http()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON body")
}

/// Accepts one connection on `listener` and returns everything it carried.
pub fn accept_one(listener: tokio::net::TcpListener) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        buf
    })
}

/// The value of one series in `/metrics` (0 when absent).
pub async fn metric(server: &thingstead_server::testing::TestServer, series: &str) -> f64 {
    metric_via(&http(), server, series).await
}

/// [`metric`], asked through `client` (e.g. one bound to another address).
pub async fn metric_via(
    client: &reqwest::Client,
    server: &thingstead_server::testing::TestServer,
    series: &str,
) -> f64 {
    let text = client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// Connects to `server` from the local address `from` (any 127.x works on Linux loopback).
pub async fn connect_from(from: &str, server: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    socket.connect(server).await.expect("connect")
}
