//! The legacy socket.io transport exp-sdk uses (WIRE.md B.6): Engine.IO 3
//! long-polling in XHR2 binary framing, spoken by a hand-rolled client
//! with the proto codec, as socketIO-client 0.7.2 speaks it.

use serde_json::{Value, json};
use thingstead_proto::channel::ChannelId;
use thingstead_proto::engineio::Packet;
use thingstead_server::testing::TestServer;

use super::realtime_clients::{Eio3, broadcast, event, respond, user_token};

fn broadcast_event(p: &Packet) -> Option<Value> {
    match p {
        Packet::Message(data) => event(data).filter(|(n, _)| n == "broadcast").map(|(_, v)| v),
        _ => None,
    }
}

#[tokio::test]
async fn the_legacy_polling_client_connects_subscribes_receives_and_its_response_is_collected() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;

    // The handshake answers the OPEN packet alone, with the four keys the client needs.
    let (client, packets) = Eio3::handshake(&server, &token).await.expect("handshake 200");
    assert_eq!(packets.len(), 1, "only OPEN in the handshake response: {packets:?}");
    for key in ["sid", "upgrades", "pingInterval", "pingTimeout"] {
        assert!(client.open.get(key).is_some(), "{key} in {}", client.open);
    }

    // The server sends the socket.io CONNECT (the client never does).
    let connect = client.poll_until(|p| matches!(p, Packet::Message(_))).await;
    assert_eq!(connect, Packet::Message("0".into()));

    // PING → PONG in the next poll.
    client.send(&[Packet::Ping(String::new())]).await;
    client.poll_until(|p| matches!(p, Packet::Pong(_))).await;

    // subscribe → subscribed, with the canonical id (non-ASCII name included).
    let channel = ChannelId::new("acme", "lobby ü", false, false).encode();
    let subscribe = json!(["subscribe", [channel]]).to_string();
    client.send(&[Packet::Message(format!("2{subscribe}"))]).await;
    let subscribed = client
        .poll_until(|p| matches!(p, Packet::Message(d) if d.starts_with("2[\"subscribed\"")))
        .await;
    assert_eq!(
        subscribed,
        Packet::Message(format!("2{}", json!(["subscribed", [channel]])))
    );

    // A broadcast POSTed with a timeout reaches the socket; the socket's
    // response comes back in the POST's array.
    let body = json!({"channel": channel, "name": "hello", "payload": {"text": "grüß 😀"}});
    let collecting = broadcast(&server, &token, "3000.0", &body);
    let receiving = async {
        let got = client.poll_until(|p| broadcast_event(p).is_some()).await;
        let b = broadcast_event(&got).expect("broadcast");
        assert_eq!(b["channel"], channel);
        assert_eq!(b["name"], "hello");
        assert_eq!(b["payload"], json!({"text": "grüß 😀"}));
        let id = b["id"].as_str().expect("id").to_owned();
        let status = respond(
            &server,
            &token,
            &json!({"id": id, "channel": channel, "payload": {"pong": 1}}),
        )
        .await;
        assert_eq!(status, 200);
    };
    let ((status, responses), ()) = tokio::join!(collecting, receiving);
    assert_eq!(status, 200);
    assert_eq!(responses, json!([{"pong": 1}]));

    // CLOSE ends the session.
    client.send(&[Packet::Close]).await;
    server.stop().await;
}

#[tokio::test]
async fn a_handshake_without_a_valid_token_is_refused_with_401() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    assert_eq!(
        Eio3::handshake(&server, "not-a-token").await.err().map(|s| s.as_u16()),
        Some(401)
    );
    assert_eq!(Eio3::handshake(&server, "").await.err().map(|s| s.as_u16()), Some(401));
    // In the application face's shape.
    let r = reqwest::get(server.url("/socket.io/?EIO=3&transport=polling&token=bad"))
        .await
        .expect("GET");
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(
        (body["code"].as_str(), body["status"].as_u64()),
        (Some("unauthorized"), Some(401)),
        "{body}"
    );
    server.stop().await;
}
