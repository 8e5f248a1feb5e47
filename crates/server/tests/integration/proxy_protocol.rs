//! Nodes behind a load balancer speaking the PROXY protocol: the balancer is
//! 127.0.0.1 (`proxy_protocol.trusted = ["127.0.0.1/32"]`), and the clients
//! it stands for are the addresses named in each connection's header.
//! 127.0.0.2 is an untrusted peer (and the address ordinary HTTP calls of
//! these tests come from, since the balancer's own must carry a header).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::json;
use thingstead_server::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::common::{connect_from, message_frame, read_to_close};

const BALANCER: &str = "127.0.0.1";
const UNTRUSTED: &str = "127.0.0.2";

async fn server_behind_balancer(configure: impl FnOnce(&mut thingstead_server::Settings)) -> TestServer {
    TestServer::start_with(|s| {
        s.proxy_protocol.trusted = vec![format!("{BALANCER}/32")];
        configure(s);
    })
    .await
}

/// `PROXY TCP4 <client> <server> <ports>\r\n`.
fn v1(client: &str, server: SocketAddr) -> Vec<u8> {
    let client: SocketAddr = client.parse().expect("client");
    format!(
        "PROXY TCP4 {} {} {} {}\r\n",
        client.ip(),
        server.ip(),
        client.port(),
        server.port()
    )
    .into_bytes()
}

/// A v2 PROXY (command 1) header for TCP over IPv4, written byte by byte
/// from HAProxy's spec.
fn v2(client: &str, server: SocketAddr) -> Vec<u8> {
    let client: SocketAddr = client.parse().expect("client");
    let (IpAddr::V4(c), IpAddr::V4(s)) = (client.ip(), server.ip()) else {
        panic!("IPv4 only")
    };
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.extend([0x21, 0x11, 0, 12]);
    h.extend(c.octets());
    h.extend(s.octets());
    h.extend(client.port().to_be_bytes());
    h.extend(server.port().to_be_bytes());
    h
}

/// Sends `bytes` from `from` on a fresh connection; everything the server
/// sent before closing.
async fn exchange_from(from: &str, server: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = connect_from(from, server).await;
    s.write_all(bytes).await.expect("write");
    read_to_close(&mut s).await
}

/// One device frame through the balancer on behalf of `client`.
async fn frame_via_balancer(server: SocketAddr, header: Vec<u8>, frame: &[u8]) -> Vec<u8> {
    exchange_from(BALANCER, server, &[header, frame.to_vec()].concat()).await
}

/// An HTTP client on the untrusted address (no header needed).
fn plain_http() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(UNTRUSTED.parse::<IpAddr>().expect("ip"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// The value of one `/metrics` series (0 when absent), asked from 127.0.0.2.
async fn metric(server: &TestServer, series: &str) -> f64 {
    super::common::metric_via(&plain_http(), server, series).await
}

/// `GET /healthz` on an open keep-alive connection: the status, or `None`
/// when the server closed it instead of answering.
async fn healthz(s: &mut TcpStream) -> Option<u16> {
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                return head.split(' ').nth(1).and_then(|c| c.parse().ok());
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("answered or closed within 5 s")
}

/// Opens a connection through the balancer for `client` (header only).
async fn http_via_balancer(server: SocketAddr, header: Vec<u8>) -> TcpStream {
    let mut s = connect_from(BALANCER, server).await;
    s.write_all(&header).await.expect("header");
    s
}

#[tokio::test]
async fn a_guessing_device_behind_the_balancer_does_not_throttle_its_neighbours() {
    let server = server_behind_balancer(|s| {
        s.device.auth_failures_per_sec = 0.01;
        s.device.auth_failure_burst = 3;
    })
    .await;
    server.create_org("acme").await;
    let guessed = server.create_device("acme").await;
    let neighbour = server.create_device("acme").await;
    let tcp = server.device_tcp;
    let throttled = "thingstead_device_auth_refused_total{reason=\"address_throttled\"}";
    let before = metric(&server, throttled).await;

    // Client A guesses keys (v1 headers), past its burst.
    for i in 0..8 {
        let frame = message_frame(&format!("zz{i:06}"), &[], "guess");
        let reply = frame_via_balancer(tcp, v1("192.0.2.10:4000", tcp), &frame).await;
        assert_eq!(reply, b"[3,0]", "guess {i}");
    }
    assert!(
        metric(&server, throttled).await - before >= 4.0,
        "client A's guesses beyond its burst are refused unchecked"
    );
    // A is throttled: even a right key it never used is refused...
    let reply = frame_via_balancer(
        tcp,
        v1("192.0.2.10:4001", tcp),
        &message_frame(&guessed.devicekey, &[], "A"),
    )
    .await;
    assert_eq!(reply, b"[3,0]");
    // ...while client B behind the same balancer (v2 header) is served.
    let reply = frame_via_balancer(
        tcp,
        v2("192.0.2.20:5000", tcp),
        &message_frame(&neighbour.devicekey, &[], "B"),
    )
    .await;
    assert_eq!(reply, b"[0,0]", "client B is not throttled for client A's guesses");
    let stored = server.messages("acme").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].payload, b"B");
    assert!(
        stored[0].peer.starts_with("192.0.2.20"),
        "the message records the client's address, got {}",
        stored[0].peer
    );
    server.stop().await;
}

#[tokio::test]
async fn the_http_per_address_cap_counts_each_client_behind_the_balancer() {
    let server = server_behind_balancer(|s| s.http_limits.max_connections_per_ip = 2).await;
    let refused = "thingstead_connections_refused_total{listener=\"http\",reason=\"per_ip\"}";
    let before = metric(&server, refused).await;

    // Client A holds its two connections (v1)...
    let mut a1 = http_via_balancer(server.http, v1("198.51.100.1:1000", server.http)).await;
    let mut a2 = http_via_balancer(server.http, v1("198.51.100.1:1001", server.http)).await;
    assert_eq!(healthz(&mut a1).await, Some(200));
    assert_eq!(healthz(&mut a2).await, Some(200));
    // ...a third from A is closed at once...
    let mut a3 = http_via_balancer(server.http, v1("198.51.100.1:1002", server.http)).await;
    assert_eq!(healthz(&mut a3).await, None, "client A is over its cap");
    // ...but client B (v2) and client C (v1), through the same balancer, are served.
    let mut b = http_via_balancer(server.http, v2("198.51.100.2:2000", server.http)).await;
    assert_eq!(healthz(&mut b).await, Some(200), "client B has its own share");
    let mut c = http_via_balancer(server.http, v1("198.51.100.3:3000", server.http)).await;
    assert_eq!(healthz(&mut c).await, Some(200), "client C has its own share");
    // (Other tests' servers share the process's metrics: at least A's third.)
    assert!(
        metric(&server, refused).await - before >= 1.0,
        "client A's third is counted"
    );
    drop((a1, a2, a3, b, c));
    server.stop().await;
}

#[tokio::test]
async fn the_balancer_without_a_header_is_closed_and_counted() {
    let server = server_behind_balancer(|_| {}).await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let device_rejected = "thingstead_proxy_header_rejected_total{listener=\"device_tcp\"}";
    let http_rejected = "thingstead_proxy_header_rejected_total{listener=\"http\"}";
    let (device_before, http_before) = (
        metric(&server, device_rejected).await,
        metric(&server, http_rejected).await,
    );

    let reply = exchange_from(BALANCER, server.device_tcp, &message_frame(&d.devicekey, &[], "bare")).await;
    assert!(reply.is_empty(), "no answer, got {:?}", String::from_utf8_lossy(&reply));
    assert!(server.messages("acme").await.is_empty(), "nothing stored");
    let reply = exchange_from(
        BALANCER,
        server.device_tcp,
        b"PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n[]",
    )
    .await;
    assert!(reply.is_empty(), "a garbled header gets no answer either");
    assert_eq!(metric(&server, device_rejected).await - device_before, 2.0);

    let mut s = connect_from(BALANCER, server.http).await;
    assert_eq!(healthz(&mut s).await, None, "HTTP without a header is closed");
    assert_eq!(metric(&server, http_rejected).await - http_before, 1.0);
    // Health checks of the balancer itself (PROXY UNKNOWN) are served.
    let mut s = http_via_balancer(server.http, b"PROXY UNKNOWN\r\n".to_vec()).await;
    assert_eq!(healthz(&mut s).await, Some(200));
    server.stop().await;
}

#[tokio::test]
async fn an_untrusted_peer_cannot_claim_another_address() {
    let server = server_behind_balancer(|_| {}).await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;

    // 127.0.0.2 is not a balancer: its header is no header, just bytes in
    // front of the frame, and the frame is refused as the garbage it is.
    let spoofed = [
        v1("203.0.113.9:4000", server.device_tcp),
        message_frame(&d.devicekey, &[], "spoofed"),
    ]
    .concat();
    let reply = exchange_from(UNTRUSTED, server.device_tcp, &spoofed).await;
    assert_ne!(reply, b"[0,0]");
    assert!(server.messages("acme").await.is_empty());
    let (_, device) = server.platform().find_device(&d.uuid).await.expect("device");
    assert_eq!(device.last_seen_addr, None, "no address was recorded, spoofed or not");

    // Its plain frames are served as before, under its own address.
    let reply = exchange_from(UNTRUSTED, server.device_tcp, &message_frame(&d.devicekey, &[], "plain")).await;
    assert_eq!(reply, b"[0,0]");
    assert!(server.messages("acme").await[0].peer.starts_with(UNTRUSTED));
    let mut s = connect_from(UNTRUSTED, server.http).await;
    s.write_all(&v1("203.0.113.9:4000", server.http)).await.expect("write");
    assert_ne!(healthz(&mut s).await, Some(200), "HTTP does not honour its header");
    server.stop().await;
}

#[tokio::test]
async fn pushes_go_to_the_client_address_the_balancer_reported() {
    let server = server_behind_balancer(|_| {}).await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    // The device is "at" 127.0.0.3; the balancer (127.0.0.1) relays it.
    let device_side = TcpListener::bind("127.0.0.3:0").await.expect("bind 127.0.0.3");
    let port = device_side.local_addr().expect("addr").port();
    let reply = frame_via_balancer(
        server.device_tcp,
        v2("127.0.0.3:40000", server.device_tcp),
        &message_frame(&d.devicekey, &[], "here I am"),
    )
    .await;
    assert_eq!(reply, b"[0,0]");

    let received = tokio::spawn(async move {
        let (mut s, _) = device_side.accept().await.expect("accept");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        buf
    });
    let url = server.url(&format!("/api/1/devices/messages?apikey={key}"));
    let body = json!({"deviceids": [d.uuid], "protocol": "TCP", "port": port, "data": "wake"});
    let r: serde_json::Value = plain_http()
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    assert_eq!(r["data"][0]["result"], "delivered", "{r}");
    let got = tokio::time::timeout(Duration::from_secs(5), received)
        .await
        .expect("delivered to 127.0.0.3")
        .expect("join");
    assert_eq!(got, b"wake");
    server.stop().await;
}
