//! Application-platform resources over HTTP (WIRE.md B.3), as the EXP SDK
//! uses them: create (also with no body), find with dotted filters and
//! zones, get, save the whole document, delete then 404; one registry for
//! devices; the core's rules of who may do what; JSON errors for bad input.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use thingstead_server::testing::TestServer;

use super::common::{http, message_frame, send_frame};

/// A server with organization `org` and its user `alice`.
pub(super) async fn server_with_org(org: &str) -> TestServer {
    let server = TestServer::start().await;
    add_org_user(&server, org).await;
    server
}

/// Creates `org` and its user `alice` (password `correct horse battery`).
pub(super) async fn add_org_user(server: &TestServer, org: &str) {
    server.create_org(org).await;
    let t = server.platform().tenant(org).await.expect("org");
    server
        .platform()
        .create_user(&t, "alice", "correct horse battery")
        .await
        .expect("user");
}

/// Logs in with `body`; the token.
pub(super) async fn login(server: &TestServer, body: Value) -> String {
    let r = http()
        .post(server.url("/api/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("JSON");
    body["token"].as_str().expect("token").to_owned()
}

/// alice's token in `org`.
pub(super) async fn user_token(server: &TestServer, org: &str) -> String {
    login(
        server,
        json!({"username": "alice", "password": "correct horse battery", "organization": org}),
    )
    .await
}

/// A compact HS256 JWT as exp-sdk makes it.
pub(super) fn sdk_jwt(mut claims: Value, secret: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    claims["exp"] = json!(thingstead_core::now_ms() + 30_000);
    let head = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64.encode(serde_json::to_vec(&claims).expect("claims"));
    let signed = format!("{head}.{body}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()))
}

/// A device's token.
pub(super) async fn device_token(server: &TestServer, uuid: &str, secret: &str) -> String {
    login(
        server,
        json!({"token": sdk_jwt(json!({"uuid": uuid, "type": "device", "allowPairing": false}), secret)}),
    )
    .await
}

/// One call: status and JSON body (`Value::Null` when the body is not JSON).
pub(super) async fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = http().request(method, server.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let bytes = r.bytes().await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The face's error shape.
pub(super) fn app_error(body: &Value, status: StatusCode) {
    assert!(body["code"].is_string(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
}

const BASES: [&str; 5] = [
    "/api/devices",
    "/api/things",
    "/api/experiences",
    "/api/locations",
    "/api/connectors/feeds",
];

#[tokio::test]
async fn every_collection_creates_finds_gets_saves_and_deletes() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    for base in BASES {
        // No body at all: an empty document with a uuid.
        let r = http()
            .post(server.url(base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::OK, "{base}");
        let empty: Value = r.json().await.expect("JSON");
        let empty_uuid = empty["uuid"].as_str().expect("a uuid").to_owned();

        let (status, created) = call(
            &server,
            &token,
            Method::POST,
            base,
            Some(&json!({"name": format!("n-{base}"), "subtype": "s", "location": null, "experience": null, "zones": null})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{base}: {created}");
        let uuid = created["uuid"].as_str().expect("uuid").to_owned();
        assert_eq!(created["location"], json!({}), "never null: {created}");
        assert_eq!(created["experience"], json!({}), "{created}");
        assert_eq!(created["zones"], json!([]), "{created}");

        let (status, got) = call(&server, &token, Method::GET, &format!("{base}/{uuid}"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(got["name"], created["name"]);

        let (status, found) = call(&server, &token, Method::GET, &format!("{base}?subtype=s"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["total"], 1, "{base}: {found}");
        assert_eq!(found["results"][0]["uuid"], uuid.as_str());

        // Save the whole document; the uuid cannot change.
        let mut changed = got.clone();
        changed["name"] = json!("renamed");
        changed["extra"] = json!({"deep": [1, 2]});
        changed["uuid"] = json!("another-uuid");
        let (status, saved) = call(
            &server,
            &token,
            Method::PATCH,
            &format!("{base}/{uuid}"),
            Some(&changed),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["uuid"], uuid.as_str());
        assert_eq!(saved["name"], "renamed");
        assert_eq!(saved["extra"], json!({"deep": [1, 2]}));
        let (_, again) = call(&server, &token, Method::GET, &format!("{base}/{uuid}"), None).await;
        assert_eq!(again, saved);

        for u in [&uuid, &empty_uuid] {
            let (status, _) = call(&server, &token, Method::DELETE, &format!("{base}/{u}"), None).await;
            assert_eq!(status, StatusCode::OK);
            let (status, body) = call(&server, &token, Method::GET, &format!("{base}/{u}"), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{base}");
            app_error(&body, StatusCode::NOT_FOUND);
        }
        let (status, body) = call(
            &server,
            &token,
            Method::PATCH,
            &format!("{base}/{uuid}"),
            Some(&json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn zones_find_devices_and_things_by_location_and_any_zone_key() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    let (_, loc) = call(
        &server,
        &token,
        Method::POST,
        "/api/locations",
        Some(&json!({"name": "hq", "zones": [{"key": "lobby", "name": "Lobby"}, {"key": "lab", "name": "Lab"}]})),
    )
    .await;
    let l = loc["uuid"].as_str().expect("uuid");
    let mut uuids = Vec::new();
    for (name, zones) in [
        ("a", json!([{"key": "lobby"}, {"key": "lab"}])),
        ("b", json!([{"key": "lab"}])),
        ("c", json!([])),
    ] {
        let (_, d) = call(
            &server,
            &token,
            Method::POST,
            "/api/things",
            Some(&json!({"name": name, "location": {"uuid": l, "zones": zones}})),
        )
        .await;
        uuids.push(d["uuid"].as_str().expect("uuid").to_owned());
    }
    let path = format!("/api/things?location.uuid={l}&location.zones.key=lab&sort=-name");
    let (status, found) = call(&server, &token, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let names: Vec<&str> = found["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|d| d["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["b", "a"], "{found}");
    assert_eq!(found["total"], 2);
    let (_, lobby) = call(
        &server,
        &token,
        Method::GET,
        "/api/things?location.zones.key=lobby",
        None,
    )
    .await;
    assert_eq!(lobby["total"], 1);
    assert_eq!(lobby["results"][0]["uuid"], uuids[0].as_str());
    let (_, page) = call(
        &server,
        &token,
        Method::GET,
        "/api/things?limit=1&skip=1&sort=name",
        None,
    )
    .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["results"][0]["name"], "b");
    let (status, body) = call(&server, &token, Method::GET, "/api/things?limit=5000", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app_error(&body, StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn experience_names_are_unique() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    let (status, _) = call(
        &server,
        &token,
        Method::POST,
        "/api/experiences",
        Some(&json!({"name": "lobby"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        "/api/experiences",
        Some(&json!({"name": "lobby"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    app_error(&body, StatusCode::CONFLICT);
    // It names the name, and no uuid the caller never saw.
    assert_eq!(body["message"], "experience named \"lobby\" already exists", "{body}");
    let (_, found) = call(&server, &token, Method::GET, "/api/experiences?name=lobby", None).await;
    assert_eq!(found["total"], 1, "nothing stored by the refused create");
    server.stop().await;
}

#[tokio::test]
async fn an_api_device_is_the_registry_device_with_a_working_devicekey() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    let (status, created) = call(
        &server,
        &token,
        Method::POST,
        "/api/devices",
        Some(&json!({"name": "kiosk", "subtype": "k"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    let key = created["devicekey"].as_str().expect("devicekey once").to_owned();
    let secret = created["secret"].as_str().expect("secret once").to_owned();
    // The registry knows it, with the same uuid.
    let (_, record) = server.platform().find_device(&uuid).await.expect("registry device");
    assert_eq!(record.name, "kiosk");
    // Its devicekey works on the device TCP face.
    let reply = send_frame(server.device_tcp, &message_frame(&key, &["t"], "hello")).await;
    assert!(reply.starts_with(b"[0,0]"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(server.messages("acme").await[0].device_uuid, uuid);
    // Credentials are never shown again.
    let (_, got) = call(&server, &token, Method::GET, &format!("/api/devices/{uuid}"), None).await;
    assert!(got.get("secret").is_none() && got.get("devicekey").is_none(), "{got}");
    let (_, found) = call(&server, &token, Method::GET, "/api/devices", None).await;
    assert!(found.to_string().find(&secret).is_none(), "{found}");
    // A device made by the admin CLI is listed too.
    let admin = server.create_device("acme").await;
    let (_, found) = call(
        &server,
        &token,
        Method::GET,
        &format!("/api/devices?name={}", admin.name),
        None,
    )
    .await;
    assert_eq!(found["results"][0]["uuid"], admin.uuid.as_str(), "{found}");
    // A device may save its own device document, not create, delete or
    // save other devices; other resources it may create (as the EXP SDK's
    // own tests do).
    let dtoken = device_token(&server, &uuid, &secret).await;
    let mut mine = got.clone();
    mine["location"] = json!({"uuid": "l1"});
    let (status, _) = call(
        &server,
        &dtoken,
        Method::PATCH,
        &format!("/api/devices/{uuid}"),
        Some(&mine),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&server, &dtoken, Method::GET, "/api/things", None).await;
    assert_eq!(status, StatusCode::OK, "devices read");
    let (status, body) = call(
        &server,
        &dtoken,
        Method::POST,
        "/api/things",
        Some(&json!({"name": "t"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (method, path) in [
        (Method::PATCH, format!("/api/devices/{}", admin.uuid)),
        (Method::POST, "/api/devices".to_owned()),
        (Method::DELETE, format!("/api/devices/{}", admin.uuid)),
    ] {
        let (status, body) = call(&server, &dtoken, method.clone(), &path, Some(&json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        app_error(&body, StatusCode::FORBIDDEN);
    }
    // Renaming through the API renames the registry device; deleting deletes it.
    let mut renamed = got.clone();
    renamed["name"] = json!("lobby kiosk");
    call(
        &server,
        &token,
        Method::PATCH,
        &format!("/api/devices/{uuid}"),
        Some(&renamed),
    )
    .await;
    assert_eq!(
        server.platform().find_device(&uuid).await.expect("device").1.name,
        "lobby kiosk"
    );
    let (status, _) = call(&server, &token, Method::DELETE, &format!("/api/devices/{uuid}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        server.platform().find_device(&uuid).await.is_err(),
        "the registry device is gone"
    );
    let reply = send_frame(server.device_tcp, &message_frame(&key, &["t"], "again")).await;
    assert!(!reply.starts_with(b"[0,0]"), "its key no longer works");
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_json_errors_and_restricted_tokens_do_nothing() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    for (body, status) in [
        ("{not json", StatusCode::BAD_REQUEST),
        ("[1, 2]", StatusCode::BAD_REQUEST),
        ("\"text\"", StatusCode::BAD_REQUEST),
    ] {
        let r = http()
            .post(server.url("/api/things"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), status, "{body}");
        app_error(&r.json().await.expect("JSON"), status);
    }
    let big = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let (status, body) = call(&server, &token, Method::POST, "/api/things", Some(&big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    app_error(&body, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = call(&server, &token, Method::GET, "/api/locations/no-such-uuid", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app_error(&body, StatusCode::NOT_FOUND);
    let (status, body) = call(&server, "not-a-token", Method::GET, "/api/things", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app_error(&body, StatusCode::UNAUTHORIZED);

    // The restricted token of the same login may do nothing here.
    let r = http()
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": "alice", "password": "correct horse battery", "organization": "acme"}))
        .send()
        .await
        .expect("login");
    let auth: Value = r.json().await.expect("JSON");
    let restricted = auth["restrictedToken"].as_str().expect("restricted");
    for (method, path) in [
        (Method::GET, "/api/things"),
        (Method::POST, "/api/things"),
        (Method::GET, "/api/data?group=g"),
    ] {
        let (status, body) = call(&server, restricted, method, path, None).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
            "{path}: {status} {body}"
        );
        app_error(&body, status);
    }
    // A device waiting to be paired belongs to no organization: nothing here either.
    let pairing = login(
        &server,
        json!({"token": sdk_jwt(json!({"uuid": "_", "type": "device", "allowPairing": true}), "_")}),
    )
    .await;
    for path in ["/api/things", "/api/devices", "/api/data?group=g"] {
        let (status, body) = call(&server, &pairing, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        app_error(&body, status);
    }
    server.stop().await;
}

/// The next registry change on `sub` (bounded wait).
async fn next_change(sub: &mut thingstead_core::bus::Subscriber) -> thingstead_core::bus::RegistryChange {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(5), sub.recv())
            .await
            .expect("an event within 5 s")
            .expect("an event");
        if let thingstead_core::bus::BusEvent::Registry(change) = event {
            return change;
        }
    }
}

#[tokio::test]
async fn every_committed_change_is_published_on_the_bus() {
    use thingstead_core::bus::{Change, Filter, RegistryKind};
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    let acme = thingstead_core::OrgName::parse("acme").expect("org");
    let mut sub = server
        .platform()
        .events()
        .subscribe(Filter::tenant(&acme, "registry.>").expect("filter"));
    let (_, loc) = call(
        &server,
        &token,
        Method::POST,
        "/api/locations",
        Some(&json!({"name": "hq"})),
    )
    .await;
    let uuid = loc["uuid"].as_str().expect("uuid").to_owned();
    call(
        &server,
        &token,
        Method::PATCH,
        &format!("/api/locations/{uuid}"),
        Some(&loc),
    )
    .await;
    call(&server, &token, Method::DELETE, &format!("/api/locations/{uuid}"), None).await;
    // A refused change publishes nothing.
    call(&server, &token, Method::DELETE, &format!("/api/locations/{uuid}"), None).await;
    call(&server, &token, Method::PUT, "/api/data/g/k", Some(&json!({}))).await;
    call(&server, &token, Method::PUT, "/api/data/g/k", Some(&json!({"a": 1}))).await;
    call(&server, &token, Method::DELETE, "/api/data/g/k", None).await;
    let mut changes = Vec::new();
    for _ in 0..6 {
        let c = next_change(&mut sub).await;
        changes.push((c.kind, c.id, c.change));
    }
    assert_eq!(
        changes,
        [
            (RegistryKind::Location, uuid.clone(), Change::Created),
            (RegistryKind::Location, uuid.clone(), Change::Updated),
            (RegistryKind::Location, uuid.clone(), Change::Deleted),
            (RegistryKind::Data, "g:k".to_owned(), Change::Created),
            (RegistryKind::Data, "g:k".to_owned(), Change::Updated),
            (RegistryKind::Data, "g:k".to_owned(), Change::Deleted),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_consumer_app_works_with_resources_and_data_but_not_device_records() {
    let server = server_with_org("acme").await;
    let token = user_token(&server, "acme").await;
    call(
        &server,
        &token,
        Method::POST,
        "/api/things",
        Some(&json!({"name": "t"})),
    )
    .await;
    let t = server.platform().tenant("acme").await.expect("org");
    let app = server.platform().create_app(&t, None).await.expect("app");
    let app_token = login(
        &server,
        json!({"token": sdk_jwt(json!({"type": "consumerApp", "uuid": app.uuid}), &app.api_key)}),
    )
    .await;
    let (status, found) = call(&server, &app_token, Method::GET, "/api/things", None).await;
    assert_eq!((status, found["total"].clone()), (StatusCode::OK, json!(1)));
    let (status, _) = call(
        &server,
        &app_token,
        Method::PUT,
        "/api/data/g/k",
        Some(&json!({"v": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &server,
        &app_token,
        Method::POST,
        "/api/experiences",
        Some(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &server,
        &app_token,
        Method::POST,
        "/api/devices",
        Some(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    app_error(&body, StatusCode::FORBIDDEN);
    server.stop().await;
}
