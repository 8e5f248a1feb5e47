//! Current socket.io clients (WIRE.md B.7): Engine.IO 4 over websocket,
//! token in the query or in CONNECT, `subscribe` → `subscribed`,
//! `broadcast` events; channel rights; device messages and registry
//! changes delivered; a stalled client never holds the others back.

use std::time::Duration;

use serde_json::{Value, json};
use thingstead_proto::channel::ChannelId;
use thingstead_server::testing::TestServer;

use super::common::{message_frame, metric, send_frame};
use super::realtime_clients::{Eio4, TokenIn, broadcast, user_token};

#[tokio::test]
async fn the_token_is_accepted_in_the_query_or_in_connect_and_a_bad_one_gets_44() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;

    let (_, answer) = Eio4::connect(&server, TokenIn::Query(&token)).await;
    assert!(answer.starts_with("0{\"sid\":"), "{answer}");
    let (_, answer) = Eio4::connect(&server, TokenIn::Connect(&token)).await;
    assert!(answer.starts_with("0{\"sid\":"), "{answer}");

    for bad in [TokenIn::Query("nope"), TokenIn::Connect("nope")] {
        let (_, answer) = Eio4::connect(&server, bad).await;
        let error: Value = serde_json::from_str(answer.strip_prefix('4').expect("44: {answer}")).expect("JSON");
        assert!(error["message"].is_string(), "{answer}");
    }
    let (_, answer) = Eio4::connect(&server, TokenIn::Connect("")).await;
    assert!(answer.starts_with("4{"), "no token: {answer}");
    server.stop().await;
}

#[tokio::test]
async fn a_subscribe_sent_right_after_connect_is_never_lost() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let channel = ChannelId::new("acme", "c", false, false).encode();
    for round in 0..50 {
        let mut ws = Eio4::connected(&server, &token).await;
        let subscribed = tokio::time::timeout(Duration::from_secs(5), ws.subscribe(std::slice::from_ref(&channel)))
            .await
            .unwrap_or_else(|_| panic!("round {round}: no subscribed"));
        assert_eq!(subscribed, [channel.clone()], "round {round}");
    }
    server.stop().await;
}

#[tokio::test]
async fn another_organizations_channels_are_left_out_and_never_delivered() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("other").await;
    let acme = user_token(&server, "acme", "alice").await;
    let other = user_token(&server, "other", "olga").await;
    let mine = ChannelId::new("acme", "c", false, false).encode();
    let theirs = ChannelId::new("other", "c", false, false).encode();

    let mut ws = Eio4::connected(&server, &acme).await;
    let subscribed = ws
        .subscribe(&[theirs.clone(), "not a channel".into(), mine.clone()])
        .await;
    assert_eq!(subscribed, [mine.clone()]);

    let (status, _) = broadcast(&server, &other, "0", &json!({"channel": theirs, "name": "secret"})).await;
    assert_eq!(status, 200);
    let (status, _) = broadcast(&server, &acme, "0", &json!({"channel": mine, "name": "mine"})).await;
    assert_eq!(status, 200);
    let (name, b) = ws.next_event().await;
    assert_eq!((name.as_str(), b["name"].as_str()), ("broadcast", Some("mine")), "{b}");
    server.stop().await;
}

#[tokio::test]
async fn device_messages_and_registry_changes_arrive_on_their_channels() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let device = server.create_device("acme").await;
    let device_channel = ChannelId::new("acme", device.uuid.as_str(), false, false).encode();
    let system_channel = ChannelId::new("acme", device.uuid.as_str(), true, false).encode();
    let mut ws = Eio4::connected(&server, &token).await;
    let both = [device_channel.clone(), system_channel.clone()];
    assert_eq!(ws.subscribe(&both).await, both);

    let reply = send_frame(
        server.device_tcp,
        &message_frame(&device.devicekey, &["temp"], "21.5 °C"),
    )
    .await;
    assert!(!reply.is_empty());
    let (name, b) = ws.next_event().await;
    assert_eq!(name, "broadcast");
    assert_eq!(b["channel"], device_channel);
    assert_eq!(b["name"], "message");
    assert_eq!(b["payload"]["topics"], json!(["temp"]));
    assert_eq!(b["payload"]["data"], "21.5 °C");
    assert!(b["payload"]["received_at"].is_i64(), "{b}");

    server.provision_totp(&device.uuid).await;
    let (_, b) = ws.next_event().await;
    assert_eq!(b["channel"], system_channel);
    assert_eq!(b["name"], "update");
    assert_eq!(
        b["payload"],
        json!({"id": device.uuid, "kind": "device", "change": "updated"})
    );
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_client_loses_broadcasts_counted_while_the_others_get_every_one() {
    const BROADCASTS: usize = 200;
    let server = TestServer::start_with(|s| s.realtime.queue_packets = 4).await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let channel = ChannelId::new("acme", "firehose", false, false).encode();
    let dropped = "thingstead_realtime_dropped_total{reason=\"queue_full\"}";
    let dropped_before = metric(&server, dropped).await;

    // The stalled client: subscribes with a tiny receive buffer, then never reads again.
    let stalled = {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("rcvbuf");
        let tcp = socket.connect(server.http).await.expect("connect");
        let url = format!(
            "ws://{}/socket.io/?EIO=4&transport=websocket&token={token}",
            server.http
        );
        let (ws, _) = tokio_tungstenite::client_async(url, tcp).await.expect("websocket");
        let mut ws = Eio4::from_stream(ws);
        ws.expect_open_and_connect().await;
        assert_eq!(ws.subscribe(std::slice::from_ref(&channel)).await, [channel.clone()]);
        ws
    };
    let mut healthy = Eio4::connected(&server, &token).await;
    assert_eq!(
        healthy.subscribe(std::slice::from_ref(&channel)).await,
        [channel.clone()]
    );

    let principal = server.platform().authenticate(&token).await.expect("principal");
    let decoded = ChannelId::decode(&channel).expect("channel");
    let filler = "x".repeat(32 * 1024);
    for n in 0..BROADCASTS {
        server
            .platform()
            .broadcast(&principal, &decoded, "tick", json!({"n": n, "filler": filler}))
            .await
            .expect("broadcast");
        // The healthy client reads each one before the next is sent.
        let (_, b) = healthy.next_event().await;
        assert_eq!(
            b["payload"]["n"], n,
            "the healthy client gets every broadcast, in order"
        );
    }
    assert!(
        metric(&server, dropped).await > dropped_before,
        "broadcasts the stalled client could not take are counted as dropped"
    );
    drop(stalled);
    server.stop().await;
}

#[tokio::test]
async fn connections_per_organization_and_subscriptions_per_socket_are_bounded() {
    let server = TestServer::start_with(|s| {
        s.realtime.max_connections_per_org = 2;
        s.realtime.max_subscriptions_per_socket = 2;
    })
    .await;
    server.create_org("acme").await;
    server.create_org("other").await;
    let acme = user_token(&server, "acme", "alice").await;
    let other = user_token(&server, "other", "olga").await;

    let mut first = Eio4::connected(&server, &acme).await;
    let second = Eio4::connected(&server, &acme).await;
    let (_, answer) = Eio4::connect(&server, TokenIn::Query(&acme)).await;
    assert!(
        answer.starts_with("4{") && answer.contains("organization"),
        "third: {answer}"
    );
    // Another organization is not held back by acme's connections.
    Eio4::connected(&server, &other).await;

    // A closed connection gives its slot back.
    drop(second);
    let mut reconnected = false;
    for _ in 0..50 {
        let (_, answer) = Eio4::connect(&server, TokenIn::Query(&acme)).await;
        if answer.starts_with("0{") {
            reconnected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reconnected, "the slot of a closed connection is released");

    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| ChannelId::new("acme", *n, false, false).encode())
        .collect();
    assert_eq!(first.subscribe(&ids).await, ids[..2], "at most 2 subscriptions");
    assert_eq!(first.subscribe(&ids[2..]).await, Vec::<String>::new());
    assert_eq!(
        first.subscribe(&ids[..1]).await,
        ids[..1],
        "already subscribed: still listed"
    );
    server.stop().await;
}
