//! HTTP under attack (issue 6): slow request heads, connection floods from
//! one address, made-up methods in metric labels, large bodies, failed
//! authentications. Misbehaving clients use real sockets; 127.0.0.2 stands
//! for "another address".

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use thingstead_server::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::common::{http, metric};

/// A client whose connections come from `ip`, giving up after 1 s.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client")
}

/// Writes a few header lines, one every 300 ms, until the server closes
/// the connection; how long that took, or `None` if it did not within `limit`.
async fn trickle_until_closed(s: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let (mut r, mut w) = s.into_split();
    let closed = async {
        let mut buf = [0u8; 1024];
        while let Ok(n) = r.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if w.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break;
            }
        }
    };
    let ended = async {
        tokio::select! {
            _ = closed => {}
            _ = trickle => {}
        }
    };
    tokio::time::timeout(limit, ended).await.ok().map(|_| started.elapsed())
}

/// Reads one HTTP/1.1 response (with a `Content-Length`): status and body.
async fn read_response(s: &mut TcpStream) -> (u16, Vec<u8>) {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let status: u16 = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status");
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    return (status, buf[end + 4..end + 4 + len].to_vec());
                }
            }
            let n = s.read(&mut chunk).await.expect("read");
            assert!(
                n > 0,
                "closed before a whole response: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("a response within 5 s")
}

#[tokio::test]
async fn slow_headers_from_one_address_leave_http_to_everyone_else() {
    let server = TestServer::start_with(|s| {
        s.http_limits.max_connections = 128;
        s.http_limits.max_connections_per_ip = 32;
    })
    .await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;

    // 200 connections from 127.0.0.1, each with a request head that never ends.
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(server.http).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        slow.push(s);
    }

    tokio::time::sleep(Duration::from_millis(200)).await;

    // Everyone else is served promptly while the attack goes on.
    let other = client_from("127.0.0.2");
    let r = other
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("/healthz answers within 1 s");
    assert_eq!(r.status(), StatusCode::OK);
    let r = other
        .get(server.url(&format!("/api/1/devices?apikey={key}")))
        .send()
        .await
        .expect("an authenticated request answers within 1 s");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["success"], true);

    // Past its address's share, a connection is closed at once.
    let mut closed = 0;
    for s in &mut slow {
        let mut b = [0u8; 16];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(20), s.read(&mut b)).await {
            closed += 1;
        }
    }
    assert!(
        closed >= 200 - 32,
        "only {closed} of 200 connections over the cap were closed"
    );

    drop(slow);
    server.stop().await;
}

#[tokio::test]
async fn a_request_head_must_arrive_within_the_head_timeout() {
    // The idle timeout stays at its default (60 s): each trickled line restarts it.
    let server = TestServer::start_with(|s| s.http_limits.head_timeout_secs = 1).await;

    // A first request's head.
    let mut s = TcpStream::connect(server.http).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let took = trickle_until_closed(s, Duration::from_secs(4)).await;
    let took = took.expect("a trickled head is cut off by the head deadline");
    assert!(
        took >= Duration::from_millis(500),
        "closed after {took:?}, before the deadline"
    );

    // The next request's head on a keep-alive connection.
    let mut s = TcpStream::connect(server.http).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (status, body) = read_response(&mut s).await;
    assert_eq!((status, body.as_slice()), (200, &b"{\"status\":\"ok\"}"[..]));
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let took = trickle_until_closed(s, Duration::from_secs(4)).await;
    assert!(
        took.is_some(),
        "a trickled keep-alive head is cut off by the head deadline"
    );
    server.stop().await;
}

#[tokio::test]
async fn made_up_methods_are_counted_as_other() {
    let server = TestServer::start().await;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut x = seed;
    let mut methods = Vec::new();
    for _ in 0..50 {
        let name: String = (0..40)
            .map(|_| {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'A' + (x % 26) as u8)
            })
            .collect();
        methods.push(name);
    }
    let c = http();
    for m in &methods {
        let method = reqwest::Method::from_bytes(m.as_bytes()).expect("method");
        let r = c.request(method, server.url("/healthz")).send().await.expect("request");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let text = c
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for m in &methods {
        assert!(!text.contains(m.as_str()), "/metrics carries the client's method {m}");
    }
    assert!(
        text.contains("thingstead_http_requests_total{route=\"/healthz\",method=\"other\",status=\"405\"}"),
        "made-up methods are counted as method=\"other\":\n{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn each_api_route_takes_bodies_no_larger_than_it_needs() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let device = server.create_device("acme").await;
    let c = http();
    let too_large = |body: Value| {
        assert_eq!(body["success"], false, "{body}");
        assert_eq!(body["code"], "payload_too_large", "{body}");
    };

    // An SMS is a few hundred bytes; 9 KiB is refused.
    let sms = server.url(&format!("/api/1/sms?apikey={key}"));
    let text = "x".repeat(9 * 1024);
    let r = c
        .post(&sms)
        .json(&serde_json::json!({ "destination": "+15555550123", "body": text }))
        .send()
        .await
        .expect("POST /sms");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    too_large(r.json().await.expect("json"));
    let r = c
        .post(&sms)
        .json(&serde_json::json!({ "destination": "+15555550123", "body": "hello" }))
        .send()
        .await
        .expect("POST /sms");
    assert_eq!(r.status(), StatusCode::CREATED, "a normal SMS still goes");

    // The same without a Content-Length (chunked): 413 once the limit is crossed.
    let mut s = TcpStream::connect(server.http).await.expect("connect");
    let head = format!(
        "POST /api/1/sms?apikey={key} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let chunk = format!("{:x}\r\n{}\r\n", 4096, "y".repeat(4096));
    for _ in 0..3 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let (status, body) = read_response(&mut s).await;
    assert_eq!(status, 413);
    too_large(serde_json::from_slice(&body).expect("json"));

    // A push carries one device frame's worth of data at most.
    let max_frame = thingstead_proto::device::DEFAULT_MAX_FRAME;
    let push = server.url(&format!("/api/1/devices/messages?apikey={key}"));
    let push_body = |bytes: usize| {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD.encode(vec![b'z'; bytes]);
        serde_json::json!({ "deviceids": [device.uuid], "port": 1, "protocol": "TCP", "base64data": data })
    };
    let r = c
        .post(&push)
        .json(&push_body(2 * max_frame))
        .send()
        .await
        .expect("push");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    too_large(r.json().await.expect("json"));
    let r = c.post(&push).json(&push_body(max_frame)).send().await.expect("push");
    assert_ne!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "a whole frame's worth fits");

    // GET routes take no body.
    let r = c
        .get(server.url(&format!("/api/1/devices?apikey={key}")))
        .body(vec![b'{'; 4096])
        .send()
        .await
        .expect("GET /devices");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    too_large(r.json().await.expect("json"));
    server.stop().await;
}

#[tokio::test]
async fn a_body_announced_too_large_is_refused_unread() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    for announced in [100_000u64, 10_000_000_000] {
        let mut s = TcpStream::connect(server.http).await.expect("connect");
        let head = format!(
            "POST /api/1/sms?apikey={key} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {announced}\r\n\r\n"
        );
        s.write_all(head.as_bytes()).await.expect("write");
        // Not one byte of the body is sent: the answer cannot wait for it.
        let (status, body) = read_response(&mut s).await;
        assert_eq!(status, 413, "Content-Length: {announced}");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["success"], false, "{body}");
        assert_eq!(body["code"], "payload_too_large", "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn failed_api_authentications_are_counted() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let series = "thingstead_auth_failures_total{face=\"api\"}";
    let before = metric(&server, series).await;
    let r = http()
        .get(server.url("/api/1/devices?apikey=not-a-key"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http().get(server.url("/api/1/devices")).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let after = metric(&server, series).await;
    assert!(
        after >= before + 2.0,
        "{series}: {before} before, {after} after two refusals"
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let addr: SocketAddr = server.http;
    let body = br#"{"destination": "+15555550123", "body": "sent during shutdown"}"#;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/1/sms?apikey={key} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write");
    s.write_all(&body[..10]).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connection is accepted once shutdown began"
    );
    s.write_all(&body[10..]).await.expect("write the rest");
    let (status, reply) = read_response(&mut s).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&reply));
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("shutdown finishes")
        .expect("join");
}
