//! The things API's OAuth2 (WIRE.md A.2: client credentials, RFC 7009
//! revocation) and the `/spaces` face's authentication and error shape,
//! over real sockets.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use thingstead_core::CreatedClient;
use thingstead_server::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::common::http;

const FORM: &str = "application/x-www-form-urlencoded";

/// An answer: status, headers, and the body, which must be JSON.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status();
    let headers = r.headers().clone();
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("application/json"), "{status}: Content-Type {ct:?}");
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text:?}"));
    Answer { status, headers, body }
}

async fn post_form(server: &TestServer, path: &str, body: &str, basic: Option<(&str, &str)>) -> Answer {
    let mut req = http()
        .post(server.url(path))
        .header(CONTENT_TYPE, FORM)
        .body(body.to_owned());
    if let Some((id, secret)) = basic {
        let creds = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        req = req.header(AUTHORIZATION, format!("Basic {creds}"));
    }
    answer(req.send().await.expect("POST")).await
}

async fn get_space(server: &TestServer, path: &str, token: Option<&str>) -> Answer {
    let mut req = http().get(server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    answer(req.send().await.expect("GET")).await
}

async fn client(server: &TestServer, org: &str, scopes: &[&str]) -> CreatedClient {
    let p = server.platform();
    let tenant = p.tenant(org).await.expect("org");
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    p.create_client(&tenant, &scopes).await.expect("client")
}

fn post_body(c: &CreatedClient, extra: &str) -> String {
    format!(
        "grant_type=client_credentials&client_id={}&client_secret={}{extra}",
        c.client_id, c.client_secret
    )
}

async fn token(server: &TestServer, c: &CreatedClient) -> String {
    let a = post_form(server, "/oauth2/token", &post_body(c, ""), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["access_token"].as_str().expect("access_token").to_owned()
}

/// The IoT Studio error shape, with the status in the body.
fn iot_error(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["error"]["status"], status.as_u16(), "{}", a.body);
    assert!(a.body["error"]["message"].is_string(), "{}", a.body);
}

/// An RFC 6749 5.2 error.
fn oauth_error(a: &Answer, status: StatusCode, error: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["error"], error, "{}", a.body);
    assert!(a.body["error_description"].is_string(), "{}", a.body);
    assert!(a.body.get("access_token").is_none(), "{}", a.body);
}

#[tokio::test]
async fn a_client_gets_a_token_by_post_and_by_basic_authentication() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let c = client(&server, "acme", &["thing", "category.read"]).await;

    let a = post_form(&server, "/oauth2/token", &post_body(&c, ""), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["token_type"], "Bearer");
    assert_eq!(a.body["expires_in"], 3600);
    assert_eq!(
        a.body["scope"], "thing category.read",
        "all allowed scopes when none is asked"
    );
    assert_eq!(a.headers.get(CACHE_CONTROL).expect("Cache-Control"), "no-store");
    let by_post = a.body["access_token"].as_str().expect("token").to_owned();

    let a = post_form(
        &server,
        "/oauth2/token",
        "grant_type=client_credentials",
        Some((&c.client_id, &c.client_secret)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let by_basic = a.body["access_token"].as_str().expect("token").to_owned();
    assert_ne!(by_post, by_basic);

    // Both open the client's space: past authentication, an unknown route is a 404.
    for t in [&by_post, &by_basic] {
        iot_error(
            &get_space(&server, "/spaces/acme/no-such-resource", Some(t)).await,
            StatusCode::NOT_FOUND,
        );
    }
    // Unknown paths below known routes too, and only after authentication.
    for path in [
        "/spaces/acme/",
        "/spaces/acme/things/t1/no-such/thing",
        "/spaces/acme/categories/c/things/t1/properties/p/extra",
    ] {
        iot_error(&get_space(&server, path, Some(&by_post)).await, StatusCode::NOT_FOUND);
        iot_error(&get_space(&server, path, None).await, StatusCode::UNAUTHORIZED);
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_secrets_unknown_clients_and_missing_credentials_are_invalid_client() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let c = client(&server, "acme", &["thing"]).await;
    let wrong = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        c.client_id,
        c.client_secret.chars().rev().collect::<String>()
    );
    for body in [
        wrong.as_str(),
        "grant_type=client_credentials&client_id=ts-nobody&client_secret=x",
        "grant_type=client_credentials",
        "grant_type=client_credentials&client_id=ts-nobody",
    ] {
        let a = post_form(&server, "/oauth2/token", body, None).await;
        oauth_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(
            a.headers.get(WWW_AUTHENTICATE).is_none(),
            "no Basic challenge without Basic"
        );
    }
    let a = post_form(
        &server,
        "/oauth2/token",
        "grant_type=client_credentials",
        Some((&c.client_id, "wrong")),
    )
    .await;
    oauth_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    let challenge = a.headers.get(WWW_AUTHENTICATE).expect("WWW-Authenticate");
    assert!(challenge.to_str().unwrap().starts_with("Basic "), "{challenge:?}");
    // Basic credentials that do not decode.
    let a = answer(
        http()
            .post(server.url("/oauth2/token"))
            .header(CONTENT_TYPE, FORM)
            .header(AUTHORIZATION, "Basic !!!not-base64")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("POST"),
    )
    .await;
    oauth_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    server.stop().await;
}

#[tokio::test]
async fn requested_scopes_narrow_the_token_and_others_are_invalid_scope() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let c = client(&server, "acme", &["thing", "category.read"]).await;

    // iots joins its scopes with single spaces (form-encoded as `+`).
    let a = post_form(&server, "/oauth2/token", &post_body(&c, "&scope=category.read"), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["scope"], "category.read");
    let a = post_form(
        &server,
        "/oauth2/token",
        &post_body(&c, "&scope=thing+category.read"),
        None,
    )
    .await;
    assert_eq!(a.body["scope"], "thing category.read");
    for scope in ["thing+category", "email", "thing.read"] {
        let a = post_form(
            &server,
            "/oauth2/token",
            &post_body(&c, &format!("&scope={scope}")),
            None,
        )
        .await;
        oauth_error(&a, StatusCode::BAD_REQUEST, "invalid_scope");
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_json_errors() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let c = client(&server, "acme", &["thing"]).await;
    let cases = [
        ("client_id=a&client_secret=b", "invalid_request"),
        ("grant_type=password&username=u&password=p", "unsupported_grant_type"),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            "invalid_request",
        ),
        ("%%%=%zz&&==", "invalid_request"),
    ];
    for (body, error) in cases {
        let a = post_form(&server, "/oauth2/token", body, None).await;
        oauth_error(&a, StatusCode::BAD_REQUEST, error);
    }
    // Two client authentications at once.
    let a = post_form(
        &server,
        "/oauth2/token",
        &post_body(&c, ""),
        Some((&c.client_id, &c.client_secret)),
    )
    .await;
    oauth_error(&a, StatusCode::BAD_REQUEST, "invalid_request");
    // Not a form.
    let a = answer(
        http()
            .post(server.url("/oauth2/token"))
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .expect("POST"),
    )
    .await;
    oauth_error(&a, StatusCode::BAD_REQUEST, "invalid_request");
    // Oversized, with and without a Content-Length.
    let huge = post_body(&c, &format!("&scope={}", "a".repeat(64 * 1024)));
    let a = post_form(&server, "/oauth2/token", &huge, None).await;
    oauth_error(&a, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request");
    // Chunked, so the limit is met while the body comes.
    let mut conn = tokio::net::TcpStream::connect(server.http).await.expect("connect");
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{huge}\r\n0\r\n\r\n",
        huge.len()
    );
    let _ = conn.write_all(head.as_bytes()).await;
    let mut reply = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut reply))
        .await
        .expect("answered")
        .expect("read");
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("\"invalid_request\""), "{reply}");
    // Other methods and paths under /oauth2 answer JSON too.
    let a = answer(http().get(server.url("/oauth2/token")).send().await.expect("GET")).await;
    oauth_error(&a, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
    let a = post_form(&server, "/oauth2/authorize", "x=1", None).await;
    oauth_error(&a, StatusCode::NOT_FOUND, "invalid_request");
    // The endpoint still serves.
    token(&server, &c).await;
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_token_gets_401_on_every_face() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let c = client(&server, "acme", &["thing"]).await;
    let t = token(&server, &c).await;
    let kept = token(&server, &c).await;
    iot_error(
        &get_space(&server, "/spaces/acme/no-such-resource", Some(&t)).await,
        StatusCode::NOT_FOUND,
    );

    let revoke = format!("token={t}&client_id={}&client_secret={}", c.client_id, c.client_secret);
    let a = post_form(&server, "/oauth2/revoke", &revoke, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, json!({}));
    // Again, and an unknown token: 200 too (RFC 7009 2.2).
    assert_eq!(
        post_form(&server, "/oauth2/revoke", &revoke, None).await.status,
        StatusCode::OK
    );
    let garbage = format!(
        "token=garbage&client_id={}&client_secret={}",
        c.client_id, c.client_secret
    );
    assert_eq!(
        post_form(&server, "/oauth2/revoke", &garbage, None).await.status,
        StatusCode::OK
    );

    // Refused on the things face and on the application face.
    let a = get_space(&server, "/spaces/acme/no-such-resource", Some(&t)).await;
    iot_error(&a, StatusCode::UNAUTHORIZED);
    let r = http()
        .post(server.url("/api/auth/token"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The client's other token still opens its space.
    iot_error(
        &get_space(&server, "/spaces/acme/no-such-resource", Some(&kept)).await,
        StatusCode::NOT_FOUND,
    );

    // Revocation needs the client's credentials and a token.
    let a = post_form(
        &server,
        "/oauth2/revoke",
        &format!("token={kept}&client_id={}&client_secret=wrong", c.client_id),
        None,
    )
    .await;
    oauth_error(&a, StatusCode::UNAUTHORIZED, "invalid_client");
    let a = post_form(
        &server,
        "/oauth2/revoke",
        &format!("client_id={}&client_secret={}", c.client_id, c.client_secret),
        None,
    )
    .await;
    oauth_error(&a, StatusCode::BAD_REQUEST, "invalid_request");
    // Another client of the space cannot revoke it.
    let other = client(&server, "acme", &["thing"]).await;
    let a = post_form(
        &server,
        "/oauth2/revoke",
        &format!(
            "token={kept}&client_id={}&client_secret={}",
            other.client_id, other.client_secret
        ),
        None,
    )
    .await;
    oauth_error(&a, StatusCode::BAD_REQUEST, "invalid_request");
    iot_error(
        &get_space(&server, "/spaces/acme/no-such-resource", Some(&kept)).await,
        StatusCode::NOT_FOUND,
    );
    server.stop().await;
}

#[tokio::test]
async fn an_expired_token_gets_401() {
    let server = TestServer::start_with(|s| s.things.token_ttl_secs = 1).await;
    server.create_org("acme").await;
    let c = client(&server, "acme", &["thing"]).await;
    let a = post_form(&server, "/oauth2/token", &post_body(&c, ""), None).await;
    assert_eq!(a.body["expires_in"], 1);
    let t = a.body["access_token"].as_str().expect("token").to_owned();
    iot_error(
        &get_space(&server, "/spaces/acme/x", Some(&t)).await,
        StatusCode::NOT_FOUND,
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let a = get_space(&server, "/spaces/acme/x", Some(&t)).await;
    iot_error(&a, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn a_space_opens_only_to_its_own_tokens() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("other").await;
    let t = token(&server, &client(&server, "acme", &["thing"]).await).await;

    // Another space, existing or not: 403, whatever the route.
    for path in [
        "/spaces/other/things",
        "/spaces/other/categories/c/things/t",
        "/spaces/nowhere/things",
    ] {
        iot_error(&get_space(&server, path, Some(&t)).await, StatusCode::FORBIDDEN);
    }
    // No token, a malformed one, another scheme: 401.
    iot_error(
        &get_space(&server, "/spaces/acme/things", None).await,
        StatusCode::UNAUTHORIZED,
    );
    iot_error(
        &get_space(&server, "/spaces/acme/things", Some("not.a.token")).await,
        StatusCode::UNAUTHORIZED,
    );
    let a = answer(
        http()
            .get(server.url("/spaces/acme/things"))
            .header(AUTHORIZATION, format!("Basic {t}"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    iot_error(&a, StatusCode::UNAUTHORIZED);
    // Paths naming no space are unknown routes, in the same shape.
    for path in ["/spaces", "/spaces/acme"] {
        iot_error(&get_space(&server, path, Some(&t)).await, StatusCode::NOT_FOUND);
    }

    // A user's token from the application face's login opens its own space.
    let p = server.platform();
    let acme = p.tenant("acme").await.expect("org");
    p.create_user(&acme, "alice", "password-1").await.expect("user");
    let r = http()
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": "alice", "password": "password-1", "organization": "acme"}))
        .send()
        .await
        .expect("login");
    let user_token = r.json::<Value>().await.expect("JSON")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    iot_error(
        &get_space(&server, "/spaces/acme/no-such-resource", Some(&user_token)).await,
        StatusCode::NOT_FOUND,
    );
    iot_error(
        &get_space(&server, "/spaces/other/things", Some(&user_token)).await,
        StatusCode::FORBIDDEN,
    );
    server.stop().await;
}
