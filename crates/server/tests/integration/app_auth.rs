//! The application face's login and token refresh (WIRE.md B.2), spoken
//! as the EXP SDK speaks them: user passwords, device and consumer-app
//! JWTs signed like exp-sdk's, pairing, refresh, and errors as JSON
//! objects with `code` and `message`.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use thingstead_server::testing::TestServer;

use super::common::http;

/// A compact HS256 JWT as exp-sdk makes it: no padding, no spaces, `exp`
/// in milliseconds 30 s ahead.
fn sdk_jwt(mut claims: Value, secret: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    claims["exp"] = json!(now_ms + 30_000);
    let head = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64.encode(serde_json::to_vec(&claims).expect("claims"));
    let signed = format!("{head}.{body}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

async fn login(server: &TestServer, body: &Value) -> (StatusCode, Value) {
    let r = http()
        .post(server.url("/api/auth/login"))
        .json(body)
        .send()
        .await
        .expect("POST login");
    let status = r.status();
    (status, r.json().await.expect("a JSON body"))
}

async fn refresh(server: &TestServer, token: &str) -> (StatusCode, Value) {
    let r = http()
        .post(server.url("/api/auth/token"))
        .bearer_auth(token)
        .send()
        .await
        .expect("POST token");
    let status = r.status();
    (status, r.json().await.expect("a JSON body"))
}

/// The error shape the EXP SDK reads: a JSON object with `code` and `message`.
fn app_error(body: &Value, code: &str, status: u16) {
    assert!(body.is_object(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body["status"], status, "{body}");
}

/// A payload the SDK can use: a token, an ABSOLUTE expiration in ms in the
/// future, a restricted token.
fn auth_payload(body: &Value) -> i64 {
    assert!(body["token"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(
        body["restrictedToken"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let exp = body["expiration"].as_i64().expect("expiration is an integer");
    let now = now_ms();
    assert!(
        exp > now && exp < now + 2 * 24 * 3600 * 1000,
        "absolute ms: {exp} vs now {now}"
    );
    exp
}

async fn server_with_user() -> TestServer {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let t = server.platform().tenant("acme").await.expect("org");
    server
        .platform()
        .create_user(&t, "alice", "correct horse battery")
        .await
        .expect("user");
    server
}

#[tokio::test]
async fn a_user_logs_in_and_wrong_passwords_or_orgs_get_401_json_objects() {
    let server = server_with_user().await;

    let (status, body) = login(
        &server,
        &json!({"username": "alice", "password": "correct horse battery", "organization": "acme"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    auth_payload(&body);
    assert_eq!(body["identity"]["type"], "user", "{body}");
    assert_eq!(body["identity"]["organization"], "acme", "{body}");
    assert_eq!(body["identity"]["username"], "alice", "{body}");
    assert!(body["identity"]["uuid"].is_string(), "{body}");

    for wrong in [
        json!({"username": "alice", "password": "wrong", "organization": "acme"}),
        json!({"username": "alice", "password": "correct horse battery", "organization": "nope"}),
        json!({"username": "bob", "password": "correct horse battery", "organization": "acme"}),
    ] {
        let (status, body) = login(&server, &wrong).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong}");
        app_error(&body, "unauthorized", 401);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_device_logs_in_with_an_sdk_jwt_and_a_wrong_secret_gets_401() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;

    let claims = json!({"uuid": device.uuid, "type": "device", "allowPairing": false});
    let (status, body) = login(&server, &json!({"token": sdk_jwt(claims.clone(), &device.secret)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    auth_payload(&body);
    assert_eq!(body["identity"]["type"], "device", "{body}");
    assert_eq!(body["identity"]["uuid"], device.uuid.as_str(), "{body}");
    assert_eq!(body["identity"]["organization"], "acme", "{body}");

    let (status, body) = login(&server, &json!({"token": sdk_jwt(claims, "not the secret")})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app_error(&body, "unauthorized", 401);
    server.stop().await;
}

#[tokio::test]
async fn a_consumer_app_and_a_pairing_device_log_in() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let t = server.platform().tenant("acme").await.expect("org");
    let app = server.platform().create_app(&t, None).await.expect("app");

    let claims = json!({"type": "consumerApp", "uuid": app.uuid});
    let (status, body) = login(&server, &json!({"token": sdk_jwt(claims, &app.api_key)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    auth_payload(&body);
    assert_eq!(body["identity"]["type"], "consumerApp", "{body}");
    assert_eq!(body["identity"]["uuid"], app.uuid.as_str(), "{body}");
    assert_eq!(body["identity"]["organization"], "acme", "{body}");

    let claims = json!({"uuid": "_", "type": "device", "allowPairing": true});
    let (status, body) = login(&server, &json!({"token": sdk_jwt(claims, "_")})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    auth_payload(&body);
    assert_eq!(body["identity"]["type"], "pairing", "{body}");
    server.stop().await;
}

#[tokio::test]
async fn refresh_gives_a_new_token_and_the_old_one_still_works() {
    let server = server_with_user().await;
    let (_, first) = login(
        &server,
        &json!({"username": "alice", "password": "correct horse battery", "organization": "acme"}),
    )
    .await;
    let first_exp = auth_payload(&first);
    let old = first["token"].as_str().expect("token").to_owned();

    let (status, second) = refresh(&server, &old).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert!(auth_payload(&second) >= first_exp, "{first} {second}");
    assert_eq!(second["identity"], first["identity"]);
    let new = second["token"].as_str().expect("token");
    let (status, _) = refresh(&server, new).await;
    assert_eq!(status, StatusCode::OK);
    // The old token is still good until it expires.
    let (status, body) = refresh(&server, &old).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A restricted token is for delivery URLs only.
    let restricted = first["restrictedToken"].as_str().expect("restricted");
    let (status, body) = refresh(&server, restricted).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app_error(&body, "unauthorized", 401);
    server.stop().await;
}

#[tokio::test]
async fn refresh_refuses_garbage_missing_tokens_and_deleted_devices() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let claims = json!({"uuid": device.uuid, "type": "device", "allowPairing": false});
    let (_, body) = login(&server, &json!({"token": sdk_jwt(claims, &device.secret)})).await;
    let token = body["token"].as_str().expect("token").to_owned();

    let (status, body) = refresh(&server, "garbage.not.ajwt").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app_error(&body, "unauthorized", 401);

    let r = http().post(server.url("/api/auth/token")).send().await.expect("POST");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app_error(&r.json().await.expect("json"), "unauthorized", 401);

    let t = server.platform().tenant("acme").await.expect("org");
    server.platform().delete_device(&t, &device.uuid).await.expect("delete");
    let (status, body) = refresh(&server, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app_error(&body, "unauthorized", 401);
    server.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_errors_in_the_faces_shape_and_the_device_face_keeps_its_own() {
    let server = TestServer::start().await;
    let c = http();
    for body in ["{not json", r#"{"username": "alice"}"#, "[1, 2]"] {
        let r = c
            .post(server.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let v = r.json().await.expect("json");
        app_error(&v, "malformed_json", 400);
        // It says what a login body is, and no type of ours.
        if body.starts_with("{\"") {
            let m = v["message"].as_str().unwrap_or_default();
            assert!(m.contains("organization") && !m.contains("LoginBody"), "{m}");
        }
    }

    let big = json!({"username": "a".repeat(20 * 1024), "password": "x", "organization": "acme"});
    let r = c
        .post(server.url("/api/auth/login"))
        .json(&big)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app_error(&r.json().await.expect("json"), "payload_too_large", 413);

    // Unknown routes under /api (but outside /api/1) are this face's.
    let r = c.get(server.url("/api/no/such/route")).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app_error(&r.json().await.expect("json"), "route_not_found", 404);
    let r = c.get(server.url("/api/auth/login")).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    app_error(&r.json().await.expect("json"), "method_not_allowed", 405);

    // The device face still answers under /api/1 in its own shape.
    for path in ["/api/1/devices", "/api/1/no/such/route"] {
        let r = c.get(server.url(path)).send().await.expect("GET");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["success"], false, "{path}: {body}");
        assert!(body.get("status").is_none(), "{path}: {body}");
    }
    server.stop().await;
}

async fn user_token(server: &TestServer, org: &str) -> String {
    let (status, body) = login(
        server,
        &json!({"username": "alice", "password": "correct horse battery", "organization": org}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

async fn pair(server: &TestServer, token: &str, device: &str, pairing_id: &str) -> (StatusCode, Value) {
    let r = http()
        .post(server.url(&format!("/api/devices/{device}/pair")))
        .bearer_auth(token)
        .json(&json!({ "pairingId": pairing_id }))
        .send()
        .await
        .expect("POST pair");
    let status = r.status();
    (status, r.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_user_pairs_a_waiting_device_which_becomes_that_device_at_its_next_refresh() {
    let server = server_with_user().await;
    let device = server.create_device("acme").await;
    // A second organization with its own user, who must not pair acme's devices.
    server.create_org("other").await;
    let other = server.platform().tenant("other").await.expect("org");
    server
        .platform()
        .create_user(&other, "alice", "correct horse battery")
        .await
        .expect("user");

    let claims = json!({"uuid": "_", "type": "device", "allowPairing": true});
    let (status, waiting) = login(&server, &json!({"token": sdk_jwt(claims, "_")})).await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    let pairing_id = waiting["identity"]["uuid"].as_str().expect("pairing id").to_owned();
    let pairing_token = waiting["token"].as_str().expect("token").to_owned();
    // A pairing session is short, so the SDK's refresh comes soon.
    assert!(auth_payload(&waiting) <= now_ms() + 61_000, "{waiting}");

    // Before pairing, a refresh keeps it a pairing session.
    let (status, body) = refresh(&server, &pairing_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["identity"]["type"], "pairing", "{body}");

    // Another organization's user cannot pair to acme's device; the pairing
    // session cannot pair itself; an unknown device is 404.
    let (status, body) = pair(&server, &user_token(&server, "other").await, &device.uuid, &pairing_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = pair(&server, &pairing_token, &device.uuid, &pairing_id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let acme = user_token(&server, "acme").await;
    let (status, body) = pair(&server, &acme, "no-such-device", &pairing_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, body) = pair(&server, &acme, &device.uuid, &pairing_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = pair(&server, &acme, &device.uuid, &pairing_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, paired) = refresh(&server, &pairing_token).await;
    assert_eq!(status, StatusCode::OK, "{paired}");
    assert_eq!(paired["identity"]["type"], "device", "{paired}");
    assert_eq!(paired["identity"]["uuid"], device.uuid.as_str(), "{paired}");
    assert_eq!(paired["identity"]["organization"], "acme", "{paired}");
    assert!(auth_payload(&paired) > now_ms() + 600_000, "a full session: {paired}");
    server.stop().await;
}
