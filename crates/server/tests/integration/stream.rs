//! `GET /api/1/csr/rdm/stream`: each message stored after the stream opened
//! arrives as one Server-Sent Event shaped like an item of the list; only
//! the caller's organization's; within the limits; ended by shutdown.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use thingstead_server::testing::TestServer;

use super::common::{get_json, message_frame, metric, send_frame};

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// A client side of an open stream; every read bounded.
pub struct SseStream {
    response: reqwest::Response,
    buf: String,
}

impl SseStream {
    /// GETs `url`; the response (whatever its status) and, on 200, the stream.
    pub async fn open(url: &str) -> Result<SseStream, (StatusCode, Value)> {
        // No overall timeout: the body never ends; reads are bounded instead.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let response = tokio::time::timeout(Duration::from_secs(10), client.get(url).send())
            .await
            .expect("stream headers within 10 s")
            .expect("GET stream");
        let status = response.status();
        if status != StatusCode::OK {
            let body = response.json().await.unwrap_or(Value::Null);
            return Err((status, body));
        }
        let ct = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        Ok(SseStream {
            response,
            buf: String::new(),
        })
    }

    /// The next event (comments skipped) within `within`; `None` when the
    /// server ended the stream. Panics when nothing comes in time.
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(e) = parse(&block) {
                    return Some(e);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {within:?}; buffered {:?}", self.buf));
            match chunk {
                Ok(Some(bytes)) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Asserts no event arrives within `quiet`.
    pub async fn assert_quiet(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                assert_eq!(parse(&block), None, "unexpected event");
                continue;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => panic!("stream ended"),
            }
        }
    }
}

/// One event block; `None` for a comment-only block.
fn parse(block: &str) -> Option<SseEvent> {
    let mut e = SseEvent {
        event: "message".into(),
        id: None,
        data: String::new(),
    };
    let mut any = false;
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        any = true;
        match field {
            "event" => e.event = value,
            "id" => e.id = Some(value),
            "data" => {
                if !e.data.is_empty() {
                    e.data.push('\n');
                }
                e.data.push_str(&value);
            }
            _ => {}
        }
    }
    any.then_some(e)
}

const WAIT: Duration = Duration::from_secs(5);

async fn acme(server: &TestServer) -> (String, String, String) {
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    (key, d.devicekey, d.uuid)
}

async fn send(server: &TestServer, devicekey: &str, data: &str) {
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(devicekey, &["t"], data)).await,
        b"[0,0]"
    );
}

#[tokio::test]
async fn each_new_message_arrives_shaped_like_an_item_of_the_list() {
    let server = TestServer::start().await;
    let (key, devicekey, _) = acme(&server).await;
    send(&server, &devicekey, "before").await;
    let mut stream = SseStream::open(&server.url(&format!("/api/1/csr/rdm/stream?apikey={key}")))
        .await
        .unwrap();
    send(&server, &devicekey, "after").await;
    let e = stream.next(WAIT).await.expect("an event");
    let list = get_json(&server.url(&format!("/api/1/csr/rdm?apikey={key}&limit=1"))).await;
    let newest = &list["data"][0];
    assert_eq!(e.event, "message");
    assert_eq!(e.id.as_deref(), Some(newest["id"].to_string().as_str()));
    let data: Value = serde_json::from_str(&e.data).unwrap();
    assert_eq!(&data, newest, "the item of GET /api/1/csr/rdm, exactly");
    stream.assert_quiet(Duration::from_millis(300)).await; // "before" is not replayed
    server.stop().await;
}

#[tokio::test]
async fn an_api_key_is_required_and_deviceid_filters() {
    let server = TestServer::start().await;
    let (key, a_key, a_uuid) = acme(&server).await;
    let b = server.create_device("acme").await;
    let unauth = SseStream::open(&server.url("/api/1/csr/rdm/stream?apikey=wrong")).await;
    let (status, body) = unauth.err().expect("refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["success"], false);

    let mut only_a = SseStream::open(&server.url(&format!("/api/1/csr/rdm/stream?apikey={key}&deviceid={a_uuid}")))
        .await
        .unwrap();
    send(&server, &b.devicekey, "from b").await;
    send(&server, &a_key, "from a").await;
    let e = only_a.next(WAIT).await.unwrap();
    let data: Value = serde_json::from_str(&e.data).unwrap();
    assert_eq!(data["deviceid"], a_uuid.as_str(), "b's message skipped");
    server.stop().await;
}

#[tokio::test]
async fn a_stream_never_carries_another_organizations_messages() {
    let server = TestServer::start().await;
    let (key, devicekey, uuid) = acme(&server).await;
    server.create_org("other").await;
    let other_key = server.create_api_key("other").await;
    let other_device = server.create_device("other").await;
    let mut mine = SseStream::open(&server.url(&format!("/api/1/csr/rdm/stream?apikey={key}")))
        .await
        .unwrap();
    // Even naming the other organization's device does not reach it.
    let url = format!("/api/1/csr/rdm/stream?apikey={key}&deviceid={}", other_device.uuid);
    let mut peeking = SseStream::open(&server.url(&url)).await.unwrap();
    let mut theirs = SseStream::open(&server.url(&format!("/api/1/csr/rdm/stream?apikey={other_key}")))
        .await
        .unwrap();
    send(&server, &other_device.devicekey, "theirs").await;
    send(&server, &devicekey, "mine").await;
    let e: Value = serde_json::from_str(&mine.next(WAIT).await.unwrap().data).unwrap();
    assert_eq!(e["deviceid"], uuid.as_str());
    let e: Value = serde_json::from_str(&theirs.next(WAIT).await.unwrap().data).unwrap();
    assert_eq!(e["deviceid"], other_device.uuid.as_str());
    mine.assert_quiet(Duration::from_millis(300)).await;
    theirs.assert_quiet(Duration::from_millis(10)).await;
    peeking.assert_quiet(Duration::from_millis(10)).await;
    server.stop().await;
}

#[tokio::test]
async fn streams_beyond_the_limits_get_429_and_a_closed_one_frees_its_place() {
    let server = TestServer::start_with(|s| {
        s.http_limits.max_streams = 3;
        s.http_limits.max_streams_per_org = 2;
    })
    .await;
    let (key, _, _) = acme(&server).await;
    server.create_org("other").await;
    let other_key = server.create_api_key("other").await;
    let url = |k: &str| server.url(&format!("/api/1/csr/rdm/stream?apikey={k}"));
    let first = SseStream::open(&url(&key)).await.unwrap();
    let _second = SseStream::open(&url(&key)).await.unwrap();
    let (status, body) = SseStream::open(&url(&key)).await.err().expect("third of acme refused");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], "too_many_requests", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("max_streams_per_org"),
        "{body}"
    );
    let _third = SseStream::open(&url(&other_key)).await.unwrap();
    assert!(metric(&server, "thingstead_streams_open").await >= 3.0);
    let (status, body) = SseStream::open(&url(&other_key)).await.err().expect("node full");
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body["message"].as_str().unwrap().contains("max_streams"), "{body}");

    // A client that hangs up gives its place back.
    drop(first);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match SseStream::open(&url(&key)).await {
            Ok(_) => break,
            Err((status, _)) => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the closed stream's place was not freed"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams_promptly() {
    let server = TestServer::start().await;
    let (key, _, _) = acme(&server).await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let s = SseStream::open(&server.url(&format!("/api/1/csr/rdm/stream?apikey={key}")))
            .await
            .unwrap();
        streams.push(s);
    }
    let started = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(3), server.stop())
        .await
        .expect("shutdown does not wait for open streams");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    for mut s in streams {
        assert_eq!(s.next(Duration::from_secs(2)).await, None, "the stream ended");
    }
}

#[tokio::test]
async fn a_stream_outlives_the_request_timeout() {
    let server = TestServer::start_with(|s| s.http_limits.request_timeout_secs = 1).await;
    let (key, devicekey, _) = acme(&server).await;
    let mut stream = SseStream::open(&server.url(&format!("/api/1/csr/rdm/stream?apikey={key}")))
        .await
        .unwrap();
    stream.assert_quiet(Duration::from_millis(1500)).await;
    send(&server, &devicekey, "later").await;
    assert_eq!(stream.next(WAIT).await.expect("still open").event, "message");
    server.stop().await;
}
