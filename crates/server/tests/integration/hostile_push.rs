//! `POST /api/1/devices/messages` used as a weapon: pushes to hosts other
//! than the device's, to the server's own listeners, across tenants, and to
//! devices that never accept. Each is refused before any connection is
//! made, or bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use thingstead_server::testing::TestServer;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::common::{get_json, http, message_frame, send_frame};

/// A listener on `ip` that counts the connections it accepts.
async fn counting_listener(ip: &str) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(s);
        }
    });
    (addr, accepted)
}

/// POSTs a push; returns the status and body.
async fn push(server: &TestServer, key: &str, body: Value) -> (StatusCode, Value) {
    let url = server.url(&format!("/api/1/devices/messages?apikey={key}"));
    let r = http().post(&url).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn deliveries(server: &TestServer, key: &str, uuid: &str) -> Vec<Value> {
    let url = server.url(&format!("/api/1/devices/{uuid}/deliveries?apikey={key}"));
    get_json(&url).await["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_host_other_than_the_devices_is_refused_without_connecting() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    // The device connects from 127.0.0.1: that is where its pushes may go.
    send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "hi")).await;
    let (elsewhere, accepted) = counting_listener("127.0.0.2").await;

    for host in ["127.0.0.2", "169.254.169.254", "localhost", "example.com"] {
        let body = json!({"deviceids": [d.uuid], "port": elsewhere.port(), "host": host, "data": "FLUSHALL\r\n"});
        let (status, r) = push(&server, &key, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{host}: {r}");
        assert_eq!(r["success"], false, "{r}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection was made");
    assert!(deliveries(&server, &key, &d.uuid).await.is_empty(), "nothing pushed");

    // The device's own address is fine, explicitly or by default.
    let (home, home_accepted) = counting_listener("127.0.0.1").await;
    for host in [json!("127.0.0.1"), Value::Null] {
        let (status, r) = push(
            &server,
            &key,
            json!({"deviceids": [d.uuid], "port": home.port(), "host": host, "data": "on"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["data"][0]["result"], "delivered", "{r}");
    }
    assert_eq!(home_accepted.load(Ordering::SeqCst), 2);
    server.stop().await;
}

#[tokio::test]
async fn the_servers_own_listeners_are_never_a_destination() {
    // Even with every network allowed.
    let server = TestServer::start_with(|s| s.push.allowed_networks = vec!["0.0.0.0/0".into(), "::/0".into()]).await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let victim = server.create_device("acme").await;
    let d = server.create_device("acme").await;
    send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "hi")).await;
    let before = server.messages("acme").await.len();

    // A frame injected into the device port would be stored as the victim's message.
    let injected = String::from_utf8(message_frame(&victim.devicekey, &[], "spoofed")).unwrap();
    for port in [server.device_tcp.port(), server.http.port()] {
        for host in [Value::Null, json!("127.0.0.1"), json!("127.0.0.2"), json!("0.0.0.0")] {
            let body = json!({"deviceids": [d.uuid], "port": port, "host": host, "data": injected});
            let (status, r) = push(&server, &key, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{port} {host}: {r}");
        }
    }
    assert_eq!(server.messages("acme").await.len(), before, "nothing injected");
    assert!(deliveries(&server, &key, &d.uuid).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn allowed_networks_admit_an_explicit_host() {
    let server = TestServer::start_with(|s| s.push.allowed_networks = vec!["127.0.0.2/32".into()]).await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await; // never seen: no address of its own
    let (allowed, accepted) = counting_listener("127.0.0.2").await;
    let body = json!({"deviceids": [d.uuid], "port": allowed.port(), "host": "127.0.0.2", "data": "on"});
    let (status, r) = push(&server, &key, body).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["data"][0]["result"], "delivered", "{r}");
    assert_eq!(r["data"][0]["target"], allowed.to_string());

    let (outside, outside_accepted) = counting_listener("127.0.0.3").await;
    let body = json!({"deviceids": [d.uuid], "port": outside.port(), "host": "127.0.0.3", "data": "on"});
    let (status, r) = push(&server, &key, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(outside_accepted.load(Ordering::SeqCst), 0);
    server.stop().await;
}

#[tokio::test]
async fn another_organizations_device_fails_the_request_before_any_push() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("other").await;
    let key = server.create_api_key("acme").await;
    let mine = server.create_device("acme").await;
    let theirs = server.create_device("other").await;
    send_frame(server.device_tcp, &message_frame(&mine.devicekey, &[], "hi")).await;
    let (home, accepted) = counting_listener("127.0.0.1").await;

    let body = json!({"deviceids": [mine.uuid, theirs.uuid], "port": home.port(), "data": "on"});
    let (status, r) = push(&server, &key, body).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "the first device was not pushed");
    assert!(deliveries(&server, &key, &mine.uuid).await.is_empty());
    server.stop().await;
}

/// A listener whose accept queue is full: further connects hang (SYNs dropped).
async fn blackhole() -> (SocketAddr, TcpListener, Vec<TcpStream>) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            fillers.push(s);
        }
    }
    (addr, listener, fillers)
}

#[tokio::test]
async fn one_deadline_bounds_a_request_whose_devices_never_accept() {
    let server = TestServer::start_with(|s| {
        s.push.allowed_networks = vec!["127.0.0.1/32".into()];
        s.push.deadline_ms = 500;
        s.device.push_timeout_ms = 120_000;
    })
    .await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(server.create_device("acme").await.uuid);
    }
    let (addr, _listener, _fillers) = blackhole().await;

    let started = std::time::Instant::now();
    let body = json!({"deviceids": ids, "port": addr.port(), "host": "127.0.0.1", "data": "on"});
    let (status, r) = push(&server, &key, body).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{r}");
    let results = r["data"].as_array().unwrap();
    assert_eq!(results.len(), 20);
    assert!(results.iter().all(|x| x["result"] == "timeout"), "{r}");
    // Far below one device's own timeout (120 s), let alone twenty in a row.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    server.stop().await;
}

#[tokio::test]
async fn too_many_devices_are_refused() {
    let server = TestServer::start_with(|s| s.push.max_devices = 2).await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    let body = json!({"deviceids": [d.uuid, d.uuid, d.uuid], "port": 4010, "data": "on"});
    let (status, r) = push(&server, &key, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{r}");
    server.stop().await;
}
