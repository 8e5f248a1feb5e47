//! Channels between SDK instances over the real server: listen,
//! broadcast, respond, fling/identify, refusals, and listeners recovering
//! across two server restarts (WIRE.md B.4, B.5, B.7).

use std::time::Duration;

use serde_json::{Value, json};
use thingstead::app::{App, Error, Listener, Options};
use thingstead_server::testing::TestServer;

use super::app_support::{PASSWORD, Proxy, alice, options, org};

const CONFIRM: Duration = Duration::from_secs(10);
const MAX_AGE: Duration = Duration::from_secs(60);

/// The next broadcast's payload within 10 s.
async fn next(listener: &Listener) -> Value {
    listener
        .wait(Duration::from_secs(10))
        .await
        .expect("wait")
        .expect("a broadcast within 10 s")
        .payload
}

#[tokio::test]
async fn two_instances_listen_broadcast_and_respond() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;
    let listener_app = alice(&server, "acme").await;
    let device = App::start(options(&server).device(&acme.device_uuid, &acme.device_secret))
        .await
        .unwrap();

    let lobby = listener_app.get_channel("lobby", false, false).unwrap();
    let pings = lobby.listen("ping", CONFIRM, MAX_AGE).await.unwrap();
    let everything = lobby.listen_all(CONFIRM, MAX_AGE).await.unwrap();
    assert!(listener_app.is_connected());

    // The device asks; the listener answers; the device gets the answer.
    let asking = {
        let channel = device.get_channel("lobby", false, false).unwrap();
        tokio::spawn(async move {
            channel
                .broadcast("ping", json!({"n": "ünï"}), Duration::from_secs(3))
                .await
        })
    };
    let ping = pings.wait(Duration::from_secs(10)).await.unwrap().expect("ping");
    assert_eq!((ping.name.as_str(), &ping.payload), ("ping", &json!({"n": "ünï"})));
    ping.respond(json!({"pong": 1})).await.unwrap();
    let responses = asking.await.unwrap().unwrap();
    assert_eq!(responses, vec![json!({"pong": 1})]);

    // Other names go to listen_all only; fling and identify are broadcasts.
    let channel = device.get_channel("lobby", false, false).unwrap();
    channel.fling(json!({"appTemplate": {"uuid": "t1"}})).await.unwrap();
    channel.identify().await.unwrap();
    let names: Vec<String> = [
        everything.wait(Duration::from_secs(10)).await.unwrap().unwrap().name,
        everything.wait(Duration::from_secs(10)).await.unwrap().unwrap().name,
        everything.wait(Duration::from_secs(10)).await.unwrap().unwrap().name,
    ]
    .into();
    assert_eq!(names, ["ping", "fling", "identify"]);
    assert!(pings.wait(Duration::from_millis(300)).await.unwrap().is_none());

    // Another organization's same-named channel is another channel.
    let other = org(&server, "other").await;
    let _ = other;
    let outsider = App::start(options(&server).user("alice", PASSWORD, "other"))
        .await
        .unwrap();
    outsider
        .get_channel("lobby", false, false)
        .unwrap()
        .broadcast("ping", json!("from outside"), Duration::ZERO)
        .await
        .unwrap();
    assert!(everything.wait(Duration::from_millis(500)).await.unwrap().is_none());

    // A cancelled listener gets nothing more.
    pings.cancel();
    assert!(pings.wait(Duration::from_millis(10)).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn nobody_broadcasts_on_system_channels_and_consumer_apps_only_on_consumer_channels() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;
    let user = alice(&server, "acme").await;
    let err = user
        .get_channel("x", false, true)
        .unwrap()
        .broadcast("hi", Value::Null, Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 400..=499, .. }), "{err:?}");

    let consumer = App::start(options(&server).consumer_app(&acme.app_uuid, &acme.api_key))
        .await
        .unwrap();
    let err = consumer
        .get_channel("x", false, false)
        .unwrap()
        .broadcast("hi", Value::Null, Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 400..=499, .. }), "{err:?}");
    consumer
        .get_channel("x", true, false)
        .unwrap()
        .broadcast("hi", Value::Null, Duration::ZERO)
        .await
        .unwrap();
    assert!(!consumer.is_stopped(), "a refused broadcast does not stop the instance");
    server.stop().await;
}

#[tokio::test]
async fn listen_fails_with_a_network_error_when_no_subscription_is_confirmed() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let proxy = Proxy::start(server.http).await;
    let app = App::start(Options::new(proxy.url()).user("alice", PASSWORD, "acme"))
        .await
        .unwrap();
    // The realtime side cannot reach the server any more.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.retarget(dead.local_addr().unwrap());
    drop(dead);
    let channel = app.get_channel("lobby", false, false).unwrap();
    // Wait for the socket opened at start to be gone (it may still be up).
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            if !app.is_connected() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let began = std::time::Instant::now();
    if !app.is_connected() {
        let err = channel
            .listen("x", Duration::from_millis(800), MAX_AGE)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Network(_)), "{err:?}");
        assert!(began.elapsed() < Duration::from_secs(5), "bounded by the timeout");
    }
    let no_network = App::start(options(&server).user("alice", PASSWORD, "acme").enable_network(false))
        .await
        .unwrap();
    let err = no_network
        .get_channel("lobby", false, false)
        .unwrap()
        .listen("x", CONFIRM, MAX_AGE)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Runtime(_)), "{err:?}");
    server.stop().await;
}

/// Broadcasts `tick` with increasing numbers until the listener gets one
/// (the listener must have reconnected and resubscribed first).
async fn until_received(broadcaster: &App, listener: &Listener, from: u64) -> u64 {
    let channel = broadcaster.get_channel("lobby", false, false).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut n = from;
    loop {
        // The broadcaster's own call may fail while the server restarts.
        let _ = channel.broadcast("tick", json!(n), Duration::ZERO).await;
        if let Some(b) = listener.wait(Duration::from_millis(300)).await.unwrap() {
            return b.payload.as_u64().expect("a number");
        }
        assert!(tokio::time::Instant::now() < deadline, "the listener never recovered");
        n += 1;
    }
}

#[tokio::test]
async fn listeners_recover_across_two_server_restarts_and_keep_their_buffers() {
    let mut server = TestServer::start().await;
    org(&server, "acme").await;
    let proxy = Proxy::start(server.http).await;
    let start = || App::start(Options::new(proxy.url()).user("alice", PASSWORD, "acme"));
    let listening = start().await.unwrap();
    let broadcasting = start().await.unwrap();
    let ticks = listening
        .get_channel("lobby", false, false)
        .unwrap()
        .listen("tick", CONFIRM, MAX_AGE)
        .await
        .unwrap();
    let channel = broadcasting.get_channel("lobby", false, false).unwrap();
    channel.broadcast("tick", json!(0), Duration::ZERO).await.unwrap();
    assert_eq!(next(&ticks).await, json!(0));

    // Two broadcasts buffered but not read before the restart.
    channel.broadcast("tick", json!(1), Duration::ZERO).await.unwrap();
    channel.broadcast("tick", json!(2), Duration::ZERO).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut from = 100;
    for round in 0..2 {
        server = server.restart().await;
        proxy.retarget(server.http);
        if round == 0 {
            // The buffer survived the reconnection.
            assert_eq!(next(&ticks).await, json!(1));
            assert_eq!(next(&ticks).await, json!(2));
        }
        let got = until_received(&broadcasting, &ticks, from).await;
        assert!(got >= from, "round {round}: got {got}");
        assert!(listening.is_connected(), "round {round}");
        // Delivery is steady again: the very next broadcast arrives.
        channel.broadcast("tick", json!("again"), Duration::ZERO).await.unwrap();
        loop {
            let payload = next(&ticks).await;
            if payload == json!("again") {
                break;
            }
        }
        from += 100;
    }
    assert!(!listening.is_stopped() && !broadcasting.is_stopped());
    server.stop().await;
}

#[tokio::test]
async fn a_saved_resource_announces_update_on_its_system_channel() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let app = alice(&server, "acme").await;
    let mut device = app.devices().create(Some(json!({"name": "pump"}))).await.unwrap();
    let updates = device
        .get_channel(false, true)
        .unwrap()
        .listen("update", CONFIRM, MAX_AGE)
        .await
        .unwrap();
    device.document_mut()["name"] = json!("pump 2");
    device.save().await.unwrap();
    let update = updates.wait(Duration::from_secs(10)).await.unwrap().expect("an update");
    assert_eq!(update.name, "update");
    assert_eq!(update.channel, device.get_channel(false, true).unwrap().id().encode());

    let item = app.data().create("g", "k", json!({"v": 1})).await.unwrap();
    let data_updates = item
        .get_channel(false, true)
        .unwrap()
        .listen("update", CONFIRM, MAX_AGE)
        .await
        .unwrap();
    app.data().create("g", "k", json!({"v": 2})).await.unwrap();
    assert!(data_updates.wait(Duration::from_secs(10)).await.unwrap().is_some());
    server.stop().await;
}
