//! A device owns a thing (its `device` relation, set through
//! `/api/things`) and writes the thing's properties with its own device
//! token (issue 9, item 4); it may do nothing else, and no other device
//! may write them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use thingstead_server::testing::TestServer;

use super::app_resources::{add_org_user, call as app_call, device_token, user_token};
use super::things_email::{call, client_token};

fn sensor(title: &str) -> Value {
    json!({
        "title": title,
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "label": {"type": "string"}
        }
    })
}

async fn json_call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, v) = call(
        server,
        Some(token),
        method,
        path,
        body.map(|b| ("application/json", b.to_string())),
    )
    .await;
    (status, v)
}

/// A new thing of `acme` made through `/spaces`; its uid.
async fn thing(server: &TestServer, client: &str, title: &str) -> String {
    let (status, t) = json_call(server, client, Method::POST, "/spaces/acme/things", Some(sensor(title))).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["uid"].as_str().expect("uid").to_owned()
}

/// Sets the `device` relation of thing `uid` as an EXP client does: the
/// whole document, read, changed and saved back through `/api/things`.
async fn set_owner(server: &TestServer, user: &str, uid: &str, device: Value) {
    let path = format!("/api/things/{uid}");
    let (status, mut doc) = app_call(server, user, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc["device"] = device;
    let (status, saved) = app_call(server, user, Method::PATCH, &path, Some(&doc)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
}

#[tokio::test]
async fn the_owning_device_writes_its_things_properties_and_nothing_else() {
    let server = TestServer::start().await;
    add_org_user(&server, "acme").await;
    add_org_user(&server, "other").await;
    let client = client_token(&server, "acme", &["thing"]).await;
    let user = user_token(&server, "acme").await;
    let owned = thing(&server, &client, "boiler").await;
    let not_owned = thing(&server, &client, "pump").await;

    let owner = server.create_device("acme").await;
    let neighbour = server.create_device("acme").await;
    let stranger = server.create_device("other").await;
    // Ownership is the thing's `device` relation, set through /api/things.
    set_owner(&server, &user, &owned, json!({"uuid": owner.uuid})).await;
    let owner_token = device_token(&server, &owner.uuid, &owner.secret).await;
    let neighbour_token = device_token(&server, &neighbour.uuid, &neighbour.secret).await;
    let stranger_token = device_token(&server, &stranger.uuid, &stranger.secret).await;

    // The owner writes one property, then several.
    let props = format!("/spaces/acme/things/{owned}/properties");
    let (status, body) = json_call(
        &server,
        &owner_token,
        Method::PUT,
        &format!("{props}/temperature"),
        Some(json!({"temperature": 21.5})),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"temperature": 21.5})));
    let (status, body) = json_call(
        &server,
        &owner_token,
        Method::PUT,
        &props,
        Some(json!({"temperature": 22.0, "label": "warm"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Values are still checked against their schema.
    let (status, body) = json_call(
        &server,
        &owner_token,
        Method::PUT,
        &props,
        Some(json!({"temperature": 1000})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // They are the thing's status and in its history.
    let (_, t) = json_call(
        &server,
        &client,
        Method::GET,
        &format!("/spaces/acme/things/{owned}"),
        None,
    )
    .await;
    assert_eq!(t["status"], json!({"temperature": 22.0, "label": "warm"}), "{t}");
    let (status, history) = json_call(
        &server,
        &client,
        Method::GET,
        &format!("/spaces/acme/things/{owned}/properties-history/temperature"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let temperatures: Vec<Value> = history["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|h| h["properties"]["temperature"].clone())
        .collect();
    assert_eq!(temperatures.len(), 2, "{history}");
    assert!(
        temperatures.contains(&json!(21.5)) && temperatures.contains(&json!(22.0)),
        "{history}"
    );

    // Another device of the space, a device of another space: 403.
    for (who, token, path) in [
        ("neighbour", &neighbour_token, "/spaces/acme"),
        ("stranger", &stranger_token, "/spaces/acme"),
        ("stranger in its own space", &stranger_token, "/spaces/other"),
    ] {
        let (status, body) = json_call(
            &server,
            token,
            Method::PUT,
            &format!("{path}/things/{owned}/properties/temperature"),
            Some(json!({"temperature": 5})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }

    // The owner may not write another thing, one that does not exist, or
    // the TD of its own; nor read what it does not need.
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/spaces/acme/things/{not_owned}/properties/temperature"),
            json!({"temperature": 5}),
        ),
        (
            Method::PUT,
            format!("/spaces/acme/things/{not_owned}/properties"),
            json!({"temperature": 5}),
        ),
        (
            Method::PUT,
            "/spaces/acme/things/no-such-thing/properties".to_owned(),
            json!({"temperature": 5}),
        ),
        (Method::PUT, format!("/spaces/acme/things/{owned}"), sensor("renamed")),
        (Method::POST, "/spaces/acme/things".to_owned(), sensor("new")),
        (
            Method::POST,
            format!("/spaces/acme/things/{owned}/properties-history"),
            json!({"at": "2024-01-01T00:00:00Z", "properties": {"temperature": 1}}),
        ),
    ] {
        let (status, answer) = json_call(&server, &owner_token, method.clone(), &path, Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
    }
    let (status, _) = json_call(
        &server,
        &owner_token,
        Method::DELETE,
        &format!("/spaces/acme/things/{owned}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, t) = json_call(
        &server,
        &client,
        Method::GET,
        &format!("/spaces/acme/things/{not_owned}"),
        None,
    )
    .await;
    assert_eq!(t["status"], json!({}), "untouched: {t}");
    assert_eq!(t["title"], "pump");

    // Ownership survives a replace of the TD through /spaces, and ends
    // when /api/things clears it.
    let (status, _) = json_call(
        &server,
        &client,
        Method::PUT,
        &format!("/spaces/acme/things/{owned}"),
        Some(sensor("boiler 2")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let write = |token: String| {
        let server = &server;
        let path = format!("{props}/label");
        async move {
            json_call(server, &token, Method::PUT, &path, Some(json!({"label": "again"})))
                .await
                .0
        }
    };
    assert_eq!(write(owner_token.clone()).await, StatusCode::OK);
    set_owner(&server, &user, &owned, Value::Null).await;
    assert_eq!(write(owner_token).await, StatusCode::FORBIDDEN);
    server.stop().await;
}
