//! The life of an Engine.IO 4 websocket connection on the server's own
//! path (`realtime/eio4`): a refused CONNECT closes at once, a client that
//! stops answering PING is closed, shutdown closes every connection, an ack
//! id on `subscribe` is answered, and old (Engine.IO 3 polling) and new
//! clients share channels.

use std::time::{Duration, Instant};

use serde_json::json;
use thingstead_proto::channel::ChannelId;
use thingstead_proto::engineio::Packet;
use thingstead_server::testing::TestServer;

use super::realtime_clients::{Eio3, Eio4, TokenIn, broadcast, event, user_token};

#[tokio::test]
async fn a_refused_connect_gets_44_and_the_connection_closes_at_once() {
    // A connect timeout far longer than the test: closing must not wait for it.
    let server = TestServer::start_with(|s| s.realtime.connect_timeout_ms = 60_000).await;
    server.create_org("acme").await;
    let started = Instant::now();
    let (mut ws, answer) = Eio4::connect(&server, TokenIn::Connect("not-a-token")).await;
    assert!(answer.starts_with("4{\"message\":"), "{answer}");
    assert_eq!(ws.next_text().await, "", "closed after 44");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_answering_ping_is_closed() {
    let server = TestServer::start_with(|s| {
        s.realtime.ping_interval_ms = 200;
        s.realtime.ping_timeout_ms = 300;
    })
    .await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let mut ws = Eio4::connected(&server, &token).await;
    // Answered PINGs keep it up, across several intervals.
    assert!(ws.answer_pings_for(Duration::from_millis(1200)).await >= 3);
    let channel = ChannelId::new("acme", "c", false, false).encode();
    assert_eq!(ws.subscribe(std::slice::from_ref(&channel)).await, [channel.as_str()]);
    // Now read without answering.
    let started = Instant::now();
    let closed = ws.read_until_closed_without_pong(Duration::from_secs(5)).await;
    assert!(closed, "closed for a missing PONG");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test]
async fn shutting_down_closes_every_websocket() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let mut ws = Eio4::connected(&server, &token).await;
    let channel = ChannelId::new("acme", "c", false, false).encode();
    ws.subscribe(std::slice::from_ref(&channel)).await;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(ws.next_text().await, "", "the server closed the connection");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops")
        .expect("stop");
}

#[tokio::test]
async fn a_subscribe_with_an_ack_id_gets_the_ack_and_subscribed() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let mut ws = Eio4::connected(&server, &token).await;
    let channel = ChannelId::new("acme", "c", false, false).encode();
    ws.send(&format!("427{}", json!(["subscribe", [channel]]))).await;
    assert_eq!(ws.next_text().await, format!("437{}", json!([[channel]])));
    assert_eq!(ws.next_text().await, format!("42{}", json!(["subscribed", [channel]])));
    server.stop().await;
}

#[tokio::test]
async fn legacy_polling_and_websocket_clients_share_a_channel() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let channel = ChannelId::new("acme", "shared", false, false).encode();

    let mut new = Eio4::connected(&server, &token).await;
    assert_eq!(new.subscribe(std::slice::from_ref(&channel)).await, [channel.as_str()]);
    let (old, _) = Eio3::handshake(&server, &token).await.expect("handshake");
    old.poll_until(|p| matches!(p, Packet::Message(_))).await;
    old.send(&[Packet::Message(format!("2{}", json!(["subscribe", [channel]])))])
        .await;
    old.poll_until(|p| matches!(p, Packet::Message(d) if d.starts_with("2[\"subscribed\"")))
        .await;

    let body = json!({"channel": channel, "name": "hello", "payload": {"n": 1}});
    let (status, _) = broadcast(&server, &token, "0", &body).await;
    assert_eq!(status, 200);
    let (name, got) = new.next_event().await;
    assert_eq!((name.as_str(), &got["payload"]), ("broadcast", &json!({"n": 1})));
    let polled = old
        .poll_until(|p| matches!(p, Packet::Message(d) if d.starts_with("2[\"broadcast\"")))
        .await;
    let Packet::Message(data) = polled else { unreachable!() };
    let (_, got) = event(&data).expect("event");
    assert_eq!(got["payload"], json!({"n": 1}));
    assert_eq!(got["channel"], channel);
    server.stop().await;
}
