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
