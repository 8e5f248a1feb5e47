//! Feeds: CRUD at `/api/connectors/feeds` and their data. The built-in
//! messages feed answers a device's latest stored messages; an HTTP feed
//! is fetched from a local HTTP server started here (query parameters
//! passed through), only when `feeds.allowed_networks` lets the server reach
//! it; a `dynamic` feed echoes its search value as `search.search`.

use std::net::SocketAddr;

use axum::extract::RawQuery;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use thingstead_server::testing::TestServer;

use super::app_resources::{add_org_user, app_error, call, user_token};
use super::common::{message_frame, send_frame};

/// A local JSON source: `/feed` answers the query string it got; `/big` a large body.
async fn source() -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/feed",
            axum::routing::get(|RawQuery(q): RawQuery| async move { axum::Json(json!({"query": q, "items": [1, 2]})) }),
        )
        .route("/big", axum::routing::get(|| async { "x".repeat(4 * 1024 * 1024) }))
        .route("/text", axum::routing::get(|| async { "[not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn server(allow_loopback: bool) -> TestServer {
    let server = TestServer::start_with(|s| {
        if allow_loopback {
            s.feeds.allowed_networks = vec!["127.0.0.1/32".into()];
        }
    })
    .await;
    add_org_user(&server, "acme").await;
    server
}

async fn create_feed(server: &TestServer, token: &str, doc: Value) -> String {
    let (status, body) = call(server, token, Method::POST, "/api/connectors/feeds", Some(&doc)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["uuid"].as_str().expect("uuid").to_owned()
}

#[tokio::test]
async fn an_http_feed_is_fetched_with_its_parameters_and_a_dynamic_one_echoes_the_search() {
    let src = source().await;
    let server = server(true).await;
    let token = user_token(&server, "acme").await;
    let plain = create_feed(
        &server,
        &token,
        json!({"name": "weather", "subtype": "thingstead:feed:http", "url": format!("http://{src}/feed")}),
    )
    .await;
    let (status, data) = call(&server, &token, Method::GET, &format!("/api/connectors/feeds/{plain}/data?city=Z%C3%BCrich&n=2"), None).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    assert_eq!(data["items"], json!([1, 2]));
    assert_eq!(data["query"], "city=Z%C3%BCrich&n=2", "parameters passed through: {data}");
    assert!(data.get("search").is_none());

    let dynamic = create_feed(
        &server,
        &token,
        json!({"subtype": "thingstead:feed:http", "dataType": "dynamic", "searchValue": "stored", "url": format!("http://{src}/feed")}),
    )
    .await;
    let (_, data) = call(&server, &token, Method::GET, &format!("/api/connectors/feeds/{dynamic}/data?searchValue=abc"), None).await;
    assert_eq!(data["search"]["search"], "abc", "{data}");
    assert_eq!(data["items"], json!([1, 2]));
    let (_, data) = call(&server, &token, Method::GET, &format!("/api/connectors/feeds/{dynamic}/data"), None).await;
    assert_eq!(data["search"]["search"], "stored", "{data}");

    // Bounded: an oversized or non-JSON answer is an error, not a crash.
    for path in ["big", "text"] {
        let feed = create_feed(&server, &token, json!({"subtype": "thingstead:feed:http", "url": format!("http://{src}/{path}")})).await;
        let (status, body) = call(&server, &token, Method::GET, &format!("/api/connectors/feeds/{feed}/data"), None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        app_error(&body, status);
    }
    server.stop().await;
}

#[tokio::test]
async fn by_default_a_feed_cannot_reach_loopback_or_private_addresses() {
    let src = source().await;
    let server = server(false).await;
    let token = user_token(&server, "acme").await;
    for url in [format!("http://{src}/feed"), "http://10.0.0.1/x".into(), "http://169.254.169.254/latest".into(), "file:///etc/passwd".into()] {
        let feed = create_feed(&server, &token, json!({"subtype": "thingstead:feed:http", "url": url})).await;
        let (status, body) = call(&server, &token, Method::GET, &format!("/api/connectors/feeds/{feed}/data"), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}: {body}");
        app_error(&body, status);
    }
    server.stop().await;
}

#[tokio::test]
async fn the_messages_feed_answers_a_devices_latest_messages() {
    let server = server(false).await;
    let token = user_token(&server, "acme").await;
    let device = server.create_device("acme").await;
    for text in ["one", "two", "three"] {
        send_frame(server.device_tcp, &message_frame(&device.devicekey, &["t"], text)).await;
    }
    let feed = create_feed(
        &server,
        &token,
        json!({"subtype": "thingstead:feed:messages", "device": device.uuid}),
    )
    .await;
    let (status, data) = call(&server, &token, Method::GET, &format!("/api/connectors/feeds/{feed}/data?limit=2"), None).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    let texts: Vec<&str> = data["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["data"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(texts, ["three", "two"], "newest first, limited: {data}");
    let (status, _) = call(&server, &token, Method::GET, "/api/connectors/feeds/no-such/data", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}
