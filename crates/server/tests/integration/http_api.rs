//! HTTP-wide behaviour: health, metrics, errors in one JSON shape, limits.

use reqwest::StatusCode;
use serde_json::Value;
use thingstead_server::testing::TestServer;

use super::common::{http, message_frame, send_frame};

#[tokio::test]
async fn healthz_answers_ok() {
    let server = TestServer::start().await;
    let r = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({ "status": "ok" }));
    server.stop().await;
}

#[tokio::test]
async fn metrics_cover_requests_connections_and_commits() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "m")).await,
        b"[0,0]"
    );
    http().get(server.url("/healthz")).send().await.unwrap();
    let text = http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "thingstead_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}",
        "thingstead_http_request_duration_seconds_bucket",
        "thingstead_open_connections{listener=\"http\"}",
        "thingstead_open_connections{listener=\"device_tcp\"}",
        "thingstead_store_commits_total",
        "thingstead_store_commit_seconds_bucket",
        "thingstead_device_frames_total{result=\"0\"}",
    ] {
        assert!(text.contains(name), "metrics lack {name}:\n{text}");
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_bad_bodies_get_json_errors() {
    let server = TestServer::start_with(|s| s.http_limits.max_body_bytes = 1024).await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let c = http();

    let r = c.get(server.url("/no/such/route")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "route_not_found");

    let sms = server.url(&format!("/api/1/sms?apikey={key}"));
    let r = c
        .post(&sms)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
    assert!(body["message"].as_str().is_some());

    let big = format!(
        "{{\"destination\": \"+15555550123\", \"body\": \"{}\"}}",
        "x".repeat(4096)
    );
    let r = c
        .post(&sms)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "payload_too_large");

    let r = c.delete(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "method_not_allowed");
    server.stop().await;
}

#[tokio::test]
async fn idle_http_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(|s| s.http_limits.idle_timeout_secs = 1).await;
    let mut s = tokio::net::TcpStream::connect(server.http).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap(); // and never finish the headers
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "a stalled connection is closed by the idle timeout");
    server.stop().await;
}

#[tokio::test]
async fn healthz_reports_an_unavailable_store_and_device_frames_get_an_internal_error() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    server.platform().close().await;
    let r = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "unavailable");
    // Nothing can be stored, so the device must not hear "stored".
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "lost?")).await,
        b"[6,0]"
    );
    server.stop().await;
}

#[tokio::test]
async fn http_connections_past_the_cap_wait_for_a_slot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(|s| s.http_limits.max_connections = 1).await;
    let hold = tokio::net::TcpStream::connect(server.http).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let url = server.url("/healthz");
    let waiting = tokio::spawn(async move { http().get(url).send().await.map(|r| r.status()) });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a second connection waits while the only slot is taken"
    );
    let mut hold = hold;
    hold.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    hold.read_to_end(&mut reply).await.unwrap();
    assert!(reply.starts_with(b"HTTP/1.1 200"));
    let status = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}
