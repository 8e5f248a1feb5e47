//! Cloud-to-device pushes over `POST /api/1/devices/messages`.

use serde_json::{Value, json};
use thingstead_server::testing::TestServer;
use tokio::net::TcpListener;

use super::common::{accept_one, get_json, http, message_frame, post_json, send_frame};

#[tokio::test]
async fn pushes_deliver_raw_bytes_and_report_each_device() {
    // An explicit host must be the device's address or in an allowed network.
    let server = TestServer::start_with(|s| s.push.allowed_networks = vec!["127.0.0.1/32".into()]).await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = accept_one(listener);
    let url = server.url(&format!("/api/1/devices/messages?apikey={key}"));
    let body =
        json!({"deviceids": [d.uuid], "protocol": "TCP", "port": port, "host": "127.0.0.1", "data": "turn on ✓"});
    let r: Value = post_json(&url, &body).await;
    assert_eq!(r["success"], true);
    assert_eq!(r["data"][0]["result"], "delivered");
    assert_eq!(received.await.unwrap(), "turn on ✓".as_bytes());

    // Nobody listening on that port any more: refused, and said so.
    let r: Value = post_json(&url, &body).await;
    assert_eq!(r["data"][0]["result"], "refused");

    // Both outcomes are on record, newest first.
    let history = get_json(&server.url(&format!("/api/1/devices/{}/deliveries?apikey={key}", d.uuid))).await;
    let results: Vec<_> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].clone())
        .collect();
    assert_eq!(results, [json!("refused"), json!("delivered")]);
    server.stop().await;
}

#[tokio::test]
async fn pushes_default_to_the_last_seen_address_and_accept_base64() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    let url = server.url(&format!("/api/1/devices/messages?apikey={key}"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();

    let body = json!({"deviceids": [d.uuid], "protocol": "TCP", "port": port, "base64data": "AAEC/w=="});
    let r: Value = post_json(&url, &body).await;
    assert_eq!(
        r["data"][0]["result"], "refused",
        "no address known before the device sent anything"
    );

    send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "here I am")).await;
    let received = accept_one(listener);
    let r: Value = post_json(&url, &body).await;
    assert_eq!(r["data"][0]["result"], "delivered");
    assert_eq!(received.await.unwrap(), [0u8, 1, 2, 255]);

    let bad = json!({"deviceids": [d.uuid], "protocol": "UDP", "port": port, "data": "x"});
    assert_eq!(http().post(&url).json(&bad).send().await.unwrap().status(), 400);
    let other_org = json!({"deviceids": ["not-a-device"], "port": port, "data": "x"});
    assert_eq!(http().post(&url).json(&other_org).send().await.unwrap().status(), 404);
    server.stop().await;
}
