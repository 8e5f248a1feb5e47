//! Broadcasts over HTTP (WIRE.md B.4): who may broadcast where, the
//! `timeout` parameter, responses collected into the answer.

use serde_json::json;
use thingstead_proto::channel::ChannelId;
use thingstead_server::testing::TestServer;

use super::realtime_clients::{Eio4, app_token, broadcast, respond, user_token};

#[tokio::test]
async fn broadcasts_on_system_other_or_non_consumer_channels_are_refused() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("other").await;
    let user = user_token(&server, "acme", "alice").await;
    let app = app_token(&server, "acme").await;
    let channel = |name: &str, system, consumer| ChannelId::new("acme", name, system, consumer).encode();
    let body = |c: String| json!({"channel": c, "name": "n", "payload": {}});

    let (status, answer) = broadcast(&server, &user, "0", &body(channel("c", true, false))).await;
    assert_eq!(status, 403, "system channel: {answer}");
    assert_eq!(answer["code"], "forbidden");
    let (status, _) = broadcast(&server, &app, "0", &body(channel("c", false, false))).await;
    assert_eq!(status, 403, "consumer app on a non-consumer channel");
    let (status, _) = broadcast(&server, &app, "0", &body(channel("c", true, true))).await;
    assert_eq!(status, 403, "consumer app on a system channel");
    let theirs = ChannelId::new("other", "c", false, false).encode();
    let (status, _) = broadcast(&server, &user, "0", &body(theirs.clone())).await;
    assert_eq!(status, 403, "another organization's channel");
    let status = respond(&server, &user, &json!({"id": "x", "channel": theirs, "payload": 1})).await;
    assert_eq!(status, 403, "responding on another organization's channel");

    let (status, answer) = broadcast(&server, &app, "0", &body(channel("c", false, true))).await;
    assert_eq!((status, answer), (200, json!([])), "consumer channel");
    let (status, answer) = broadcast(&server, &user, "100.0", &body(channel("c", false, false))).await;
    assert_eq!((status, answer), (200, json!([])), "nobody answers: an empty array");
    server.stop().await;
}

#[tokio::test]
async fn bad_timeouts_channels_and_tokens_get_json_errors() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let user = user_token(&server, "acme", "alice").await;
    let good = json!({"channel": ChannelId::new("acme", "c", false, false).encode(), "name": "n"});
    for timeout in ["NaN", "-1.0", "soon"] {
        let (status, answer) = broadcast(&server, &user, timeout, &good).await;
        assert_eq!(status, 400, "timeout={timeout}: {answer}");
        assert_eq!(answer["code"], "invalid_input");
    }
    let (status, _) = broadcast(&server, &user, "0", &json!({"channel": "!!", "name": "n"})).await;
    assert_eq!(status, 400);
    let (status, _) = broadcast(&server, &user, "0", &json!({"channel": good["channel"], "name": ""})).await;
    assert_eq!(status, 400);
    let (status, answer) = broadcast(&server, "bad-token", "0", &good).await;
    assert_eq!(status, 401, "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn identify_and_fling_are_plain_broadcasts_and_every_response_is_collected() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let user = user_token(&server, "acme", "alice").await;
    let channel = ChannelId::new("acme", "screens", false, false).encode();
    let mut a = Eio4::connected(&server, &user).await;
    let mut b = Eio4::connected(&server, &user).await;
    assert_eq!(a.subscribe(std::slice::from_ref(&channel)).await, [channel.clone()]);
    assert_eq!(b.subscribe(std::slice::from_ref(&channel)).await, [channel.clone()]);

    let fling = json!({"channel": channel, "name": "fling", "payload": {"appTemplate": {"uuid": "t1"}}});
    let post = broadcast(&server, &user, "2000.0", &fling);
    let answer = async {
        for (n, ws) in [&mut a, &mut b].into_iter().enumerate() {
            let (name, event) = ws.next_event().await;
            assert_eq!(name, "broadcast");
            assert_eq!(event["name"], "fling");
            assert_eq!(event["payload"], json!({"appTemplate": {"uuid": "t1"}}));
            let body = json!({"id": event["id"], "channel": channel, "payload": {"screen": n}});
            assert_eq!(respond(&server, &user, &body).await, 200);
        }
    };
    let ((status, mut responses), ()) = tokio::join!(post, answer);
    assert_eq!(status, 200);
    responses
        .as_array_mut()
        .expect("array")
        .sort_by_key(|r| r["screen"].as_i64());
    assert_eq!(responses, json!([{"screen": 0}, {"screen": 1}]));

    // `identify` carries no payload.
    let (status, _) = broadcast(&server, &user, "0", &json!({"channel": channel, "name": "identify"})).await;
    assert_eq!(status, 200);
    let (_, event) = a.next_event().await;
    assert_eq!(
        (event["name"].as_str(), &event["payload"]),
        (Some("identify"), &json!(null))
    );
    server.stop().await;
}
