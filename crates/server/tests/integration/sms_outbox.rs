//! The SMS outbox end to end: device SMS frames, the dispatcher, a real
//! HTTP webhook peer with a transient failure, and no provider at all.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use thingstead_core::records::SmsState;
use thingstead_server::settings::SmsProviderKind;
use thingstead_server::testing::TestServer;

use super::common::{eventually, send_frame};

type Seen = Arc<Mutex<Vec<Value>>>;

async fn webhook(State(seen): State<Seen>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let mut seen = seen.lock().unwrap();
    seen.push(body);
    if seen.len() == 1 {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "busy"})))
    } else {
        (StatusCode::OK, Json(json!({"id": format!("wh-{}", seen.len())})))
    }
}

#[tokio::test]
async fn sms_are_retried_with_backoff_and_recorded_sent() {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/sms", post(webhook))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = TestServer::start_with(|s| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.webhook.url = url;
        s.sms.backoff_initial_ms = 50;
        s.sms.poll_interval_ms = 20;
    })
    .await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    assert_eq!(
        send_frame(
            server.device_tcp,
            format!("S{}+15555550123 hello\r\r", d.devicekey).as_bytes()
        )
        .await,
        b"0"
    );
    let sent = eventually(10, || async { server.sms("acme").await[0].state == SmsState::Sent }).await;
    assert!(
        sent,
        "SMS sent after one transient failure: {:?}",
        server.sms("acme").await
    );
    let sms = &server.sms("acme").await[0];
    assert_eq!(sms.attempts, 2);
    assert_eq!(sms.provider_id.as_deref(), Some("wh-2"));
    let key = server.create_api_key("acme").await;
    let one = super::common::get_json(&server.url(&format!("/api/1/sms/{}?apikey={key}", sms.id))).await;
    let states: Vec<_> = one["data"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].clone())
        .collect();
    assert_eq!(
        states,
        [json!("queued"), json!("queued"), json!("sent")],
        "every state change is recorded"
    );
    assert!(one["data"]["history"][1]["detail"].as_str().unwrap().contains("503"));
    assert_eq!(one["data"]["history"][2]["provider_id"], "wh-2");
    let second = seen.lock().unwrap()[1].clone();
    assert_eq!(second["to"], "+15555550123");
    assert_eq!(second["text"], "hello");
    server.stop().await;
}

#[tokio::test]
async fn permanent_failures_are_recorded_with_a_reason() {
    let app = axum::Router::new().route("/sms", post(|| async { (StatusCode::BAD_REQUEST, "bad number") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let server = TestServer::start_with(|s| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.webhook.url = url;
        s.sms.poll_interval_ms = 20;
    })
    .await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    send_frame(
        server.device_tcp,
        format!("S{}+15555550123 hello\r\r", d.devicekey).as_bytes(),
    )
    .await;
    assert!(eventually(10, || async { server.sms("acme").await[0].state == SmsState::Failed }).await);
    assert!(server.sms("acme").await[0].reason.is_some());
    server.stop().await;
}

#[tokio::test]
async fn without_a_provider_sms_stay_queued() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    send_frame(
        server.device_tcp,
        format!("S{}+15555550123 hello\r\r", d.devicekey).as_bytes(),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let sms = &server.sms("acme").await[0];
    assert_eq!(sms.state, SmsState::Queued);
    assert_eq!(sms.attempts, 0);
    server.stop().await;
}

/// A webhook peer that takes every SMS.
async fn accepting_webhook() -> String {
    let app = axum::Router::new().route("/sms", post(|| async { Json(json!({"id": "ok"})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn queue_sms(server: &TestServer, key: &str, text: &str) -> i64 {
    let r = super::common::http()
        .post(server.url(&format!("/api/1/sms?apikey={key}")))
        .json(&json!({"destination": "+15555550123", "body": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["data"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn device_messages_do_not_wake_the_dispatcher_but_an_enqueue_does() {
    // The test runtime has one thread: the server's tasks record here.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let scans = || {
        metrics
            .render()
            .lines()
            .find_map(|l| {
                l.strip_prefix("thingstead_sms_scans_total ")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0)
    };
    let url = accepting_webhook().await;
    let server = TestServer::start_with(|s| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.webhook.url = url;
        s.sms.poll_interval_ms = 3_600_000; // no poll tick during the test
    })
    .await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    assert!(eventually(5, || async { scans() >= 1 }).await, "the start-up scan");
    let before = scans();

    let p = server.platform();
    let t = p.tenant("acme").await.unwrap();
    let device = p.device(&t, &d.uuid).await.unwrap();
    for i in 0..200 {
        let m = thingstead_core::IncomingMessage {
            topics: vec![],
            payload: format!("m{i}").into_bytes(),
            peer: "127.0.0.1:1".into(),
            metadata: None,
            idempotency_key: None,
        };
        p.ingest_message(&t, &device, m).await.unwrap();
    }
    for i in 0..5 {
        let frame = super::common::message_frame(&d.devicekey, &[], &format!("tcp{i}"));
        assert_eq!(send_frame(server.device_tcp, &frame).await, b"[0,0]");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(scans(), before, "205 device messages caused no due-SMS scan");

    // An enqueue wakes it at once (the poll tick is an hour away).
    queue_sms(&server, &key, "wake up").await;
    assert!(
        eventually(5, || async { server.sms("acme").await[0].state == SmsState::Sent }).await,
        "{:?}",
        server.sms("acme").await
    );
    assert!(scans() > before);
    server.stop().await;
}

#[tokio::test]
async fn the_outbox_says_whether_more_sms_follow() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    for i in 0..3 {
        queue_sms(&server, &key, &format!("s{i}")).await;
    }
    let page = |q: String| {
        let url = server.url(&format!("/api/1/sms?apikey={key}&limit=2{q}"));
        async move { super::common::get_json(&url).await }
    };
    let first = page(String::new()).await;
    assert_eq!(first["size"], 2);
    assert_eq!(first["continues"], true, "{first}");
    let second = page(format!("&cursor={}", first["lastid"])).await;
    assert_eq!(second["size"], 1);
    assert_eq!(second["continues"], false, "{second}");
    server.stop().await;
}

/// Every event logged on this thread, as text: a minimal subscriber.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<String>>);

impl tracing::field::Visit for CapturedLogs {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.lock().unwrap().push_str(&format!(" {}={value:?}", field.name()));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.lock().unwrap().push_str(&format!(" {}={value}", field.name()));
    }
}

impl tracing::Subscriber for CapturedLogs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut self.clone());
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut self.clone());
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        self.0
            .lock()
            .unwrap()
            .push_str(&format!("\n{} ", event.metadata().level()));
        event.record(&mut self.clone());
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn webhook_secrets_stay_out_of_logs_and_sms_reasons() {
    let logs = CapturedLogs::default();
    // The test runtime has one thread: the server's tasks log here.
    let _guard = tracing::subscriber::set_default(logs.clone());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://hookuser:hookpw@127.0.0.1:{port}/sms?token=SECRETTOKEN");
    let server = TestServer::start_with(|s| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.webhook.url = url;
        s.sms.max_attempts = 1;
        s.sms.poll_interval_ms = 20;
    })
    .await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let id = queue_sms(&server, &key, "hello").await;
    assert!(eventually(10, || async { server.sms("acme").await[0].state == SmsState::Failed }).await);

    let shown = super::common::http()
        .get(server.url(&format!("/api/1/sms/{id}?apikey={key}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let logs = logs.0.lock().unwrap().clone();
    assert!(shown.contains("unreachable"), "the reason is there: {shown}");
    assert!(logs.contains("effective settings"), "{logs}");
    assert!(logs.contains("webhook unreachable"), "{logs}");
    for secret in ["SECRETTOKEN", "hookpw", "hookuser"] {
        assert!(!shown.contains(secret), "{secret} in GET /api/1/sms/{id}: {shown}");
        assert!(!logs.contains(secret), "{secret} in the log: {logs}");
    }
    server.stop().await;
}
