//! Realtime channels across nodes (PostgreSQL + NATS): a broadcast POSTed
//! on node A reaches an exp-sdk-style socket on node B (Engine.IO 3
//! long-polling, binary framing), and B's response comes back in A's answer.

use std::time::Duration;

use serde_json::{Value, json};
use thingstead_proto::channel::ChannelId;
use thingstead_proto::engineio::{Packet, PayloadLimits, binary};

use crate::cluster::{Cluster, logs};
use crate::support::{Server, http_client};

/// An Engine.IO 3 polling session on `node`, as socketIO-client 0.7.2 opens it.
struct Polling {
    url: String,
    client: reqwest::Client,
}

impl Polling {
    async fn open(node: &Server, token: &str) -> Polling {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = node.url("/socket.io/");
        let r = client
            .get(format!("{base}?EIO=3&transport=polling&t=1-0&token={token}"))
            .send()
            .await
            .expect("handshake");
        assert_eq!(r.status(), 200);
        let packets = binary::parse(&r.bytes().await.expect("body"), &PayloadLimits::default()).expect("payload");
        let Some(Packet::Open(open)) = packets.first() else {
            panic!("OPEN first: {packets:?}");
        };
        let open: Value = serde_json::from_str(open).expect("OPEN JSON");
        let sid = open["sid"].as_str().expect("sid");
        Polling {
            url: format!("{base}?EIO=3&transport=polling&token={token}&sid={sid}"),
            client,
        }
    }

    /// Polls until a socket.io event named `name` arrives (10 s): its argument.
    async fn event(&self, name: &str) -> Value {
        let wait = async {
            loop {
                let r = self.client.get(&self.url).send().await.expect("poll");
                let bytes = r.bytes().await.expect("body");
                for p in binary::parse(&bytes, &PayloadLimits::default()).expect("payload") {
                    let Packet::Message(data) = p else { continue };
                    let Some(args) = data.strip_prefix('2') else { continue };
                    let args: Vec<Value> = serde_json::from_str(args).expect("event JSON");
                    if args.first().and_then(Value::as_str) == Some(name) {
                        return args.get(1).cloned().unwrap_or(Value::Null);
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("no {name} within 10 s"))
    }

    async fn send(&self, packet: Packet) {
        let r = self
            .client
            .post(&self.url)
            .header("content-type", "application/octet-stream")
            .body(binary::encode(&[packet]))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_on_one_node_reaches_a_socket_on_another_and_its_response_comes_back() {
    let cluster = Cluster::start().await;
    cluster.admin(&["org", "create", "acme"]);
    cluster.admin(&[
        "user",
        "create",
        "--org",
        "acme",
        "--username",
        "alice",
        "--password",
        "correct horse",
    ]);
    let (a, b) = (cluster.node(), cluster.node());
    let login: Value = http_client()
        .post(a.url("/api/auth/login"))
        .json(&json!({"username": "alice", "password": "correct horse", "organization": "acme"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("auth payload");
    let token = login["token"].as_str().expect("token").to_owned();

    let socket = Polling::open(&b, &token).await;
    let channel = ChannelId::new("acme", "across", false, false).encode();
    socket
        .send(Packet::Message(format!("2{}", json!(["subscribe", [channel]]))))
        .await;
    assert_eq!(socket.event("subscribed").await, json!([channel]));

    let post = http_client()
        .post(a.url("/api/networks/current/broadcasts?timeout=3000.0"))
        .bearer_auth(&token)
        .json(&json!({"channel": channel, "name": "ping", "payload": {"from": "a"}}))
        .send();
    let answer = async {
        let b_event = socket.event("broadcast").await;
        assert_eq!(
            b_event["payload"],
            json!({"from": "a"}),
            "{}",
            logs(&[&a.server, &b.server])
        );
        let status = http_client()
            .post(b.url("/api/networks/current/responses"))
            .bearer_auth(&token)
            .json(&json!({"id": b_event["id"], "channel": channel, "payload": {"from": "b"}}))
            .send()
            .await
            .expect("respond")
            .status();
        assert_eq!(status, 200);
    };
    let (response, ()) = tokio::join!(post, answer);
    let response = response.expect("broadcast POST");
    assert_eq!(response.status(), 200);
    let responses: Value = response.json().await.expect("JSON");
    assert_eq!(responses, json!([{"from": "b"}]), "{}", logs(&[&a.server, &b.server]));
    a.stop().await;
    b.stop().await;
}
