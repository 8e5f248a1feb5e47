//! Data items over HTTP: JSON objects only, 16 MiB per value (15 MiB
//! accepted, 17 MiB refused and nothing stored), percent-encoded group and
//! key, find by group; devices and consumer apps read and write them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::app_resources::{app_error, call, device_token, server_with_org, user_token};
use super::common::http;

#[tokio::test]
async fn data_items_are_put_got_found_and_deleted_with_encoded_names() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    // group "my group", key "a:b&c/ü" percent-encoded.
    let path = "/api/data/my%20group/a%3Ab%26c%2F%C3%BC";
    let (status, body) = call(&server, &token, Method::PUT, path, Some(&json!({"x": 1}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"group": "my group", "key": "a:b&c/ü", "value": {"x": 1}}));
    call(&server, &token, Method::PUT, path, Some(&json!({"x": 2}))).await;
    call(&server, &token, Method::PUT, "/api/data/my%20group/other", Some(&json!({}))).await;
    call(&server, &token, Method::PUT, "/api/data/elsewhere/k", Some(&json!({}))).await;
    let (_, got) = call(&server, &token, Method::GET, path, None).await;
    assert_eq!(got["value"], json!({"x": 2}));
    let (_, found) = call(&server, &token, Method::GET, "/api/data?group=my%20group", None).await;
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(found["results"][0]["key"], "a:b&c/ü");
    for bad in [json!([1]), json!("text"), json!(3)] {
        let (status, body) = call(&server, &token, Method::PUT, path, Some(&bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        app_error(&body, StatusCode::BAD_REQUEST);
    }
    // A device of the organization reads and writes data.
    let device = server.create_device("acme").await;
    let dtoken = device_token(&server, &device.uuid, &device.secret).await;
    let (status, _) = call(&server, &dtoken, Method::PUT, "/api/data/dev/k", Some(&json!({"d": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&server, &dtoken, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&server, &token, Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&server, &token, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app_error(&body, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn a_15_mib_value_is_stored_and_a_17_mib_one_refused_while_other_routes_keep_their_limit() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    let sized = |mib: usize| json!({"blob": "x".repeat(mib * 1024 * 1024)});
    let put = |value: Value| {
        let (url, token) = (server.url("/api/data/g/big"), token.clone());
        async move {
            let r = http()
                .put(url)
                .bearer_auth(token)
                .json(&value)
                .timeout(std::time::Duration::from_secs(60))
                .send()
                .await
                .expect("PUT");
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = put(sized(15)).await;
    assert_eq!(status, StatusCode::OK, "15 MiB accepted");
    assert_eq!(body["value"]["blob"].as_str().map(str::len), Some(15 * 1024 * 1024));
    let (status, body) = put(sized(17)).await;
    assert!(status.is_client_error(), "{status}");
    app_error(&body, status);
    let (_, got) = call(&server, &token, Method::GET, "/api/data/g/big", None).await;
    assert_eq!(got["value"]["blob"].as_str().map(str::len), Some(15 * 1024 * 1024), "the 17 MiB value was not stored");
    // A 2 MiB document elsewhere still gets 413 (http_limits.max_body_bytes).
    let (status, _) = call(&server, &token, Method::POST, "/api/things", Some(&sized(2))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}
