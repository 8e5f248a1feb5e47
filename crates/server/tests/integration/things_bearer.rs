//! Auth details of the `/spaces` face: RFC 6750 challenges on 401, and
//! the revocations of expired OAuth2 tokens pruned in the background.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::Value;
use thingstead_server::testing::TestServer;

use super::common::http;

const FORM: &str = "application/x-www-form-urlencoded";

/// GET `path` with `authorization` (a whole header value); status, the
/// `WWW-Authenticate` header, and the JSON body.
async fn get(server: &TestServer, path: &str, authorization: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut req = http().get(server.url(path));
    if let Some(a) = authorization {
        req = req.header(AUTHORIZATION, a);
    }
    let r = req.send().await.expect("GET");
    let status = r.status();
    let challenge = r
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ASCII").to_owned());
    (status, challenge, r.json().await.expect("JSON"))
}

async fn form(server: &TestServer, path: &str, body: String) -> Value {
    let r = http()
        .post(server.url(path))
        .header(CONTENT_TYPE, FORM)
        .body(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.expect("JSON")
}

#[tokio::test]
async fn a_401_on_spaces_carries_a_bearer_challenge_saying_whether_the_token_was_bad() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let p = server.platform();
    let acme = p.tenant("acme").await.expect("org");
    let c = p.create_client(&acme, &["thing".to_owned()]).await.expect("client");
    let token = form(
        &server,
        "/oauth2/token",
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            c.client_id, c.client_secret
        ),
    )
    .await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    form(
        &server,
        "/oauth2/revoke",
        format!(
            "token={token}&client_id={}&client_secret={}",
            c.client_id, c.client_secret
        ),
    )
    .await;

    let no_token = "Bearer realm=\"thingstead\"";
    let bad_token = "Bearer realm=\"thingstead\", error=\"invalid_token\", error_description=\"the token is invalid, expired or revoked\"";
    let revoked = format!("Bearer {token}");
    for path in [
        "/spaces/acme/things",
        "/spaces/acme/things/t1",
        "/spaces/acme/no-such-route",
    ] {
        for (authorization, expected) in [
            (None, no_token),
            (Some("Basic YTpi"), no_token),
            (Some("Bearer not-a-token"), bad_token),
            (Some(revoked.as_str()), bad_token),
        ] {
            let (status, challenge, body) = get(&server, path, authorization).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {authorization:?}: {body}");
            assert_eq!(challenge.as_deref(), Some(expected), "{path} {authorization:?}");
            assert_eq!(body["error"]["status"], 401, "{body}");
        }
    }
    // A valid token refused for another space is a 403, with no challenge.
    p.create_org("other").await.expect("org");
    let c = p.create_client(&acme, &["thing".to_owned()]).await.expect("client");
    let scoped = form(
        &server,
        "/oauth2/token",
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            c.client_id, c.client_secret
        ),
    )
    .await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, challenge, _) = get(&server, "/spaces/other/things", Some(&format!("Bearer {scoped}"))).await;
    assert_eq!((status, challenge), (StatusCode::FORBIDDEN, None));
    server.stop().await;
}

#[tokio::test]
async fn revocations_of_expired_tokens_are_pruned_by_the_background_sweep() {
    let server = TestServer::start_with(|s| {
        s.retention.interval_secs = 1;
        s.things.token_ttl_secs = 1;
    })
    .await;
    server.create_org("acme").await;
    let p = server.platform();
    let acme = p.tenant("acme").await.expect("org");
    let c = p.create_client(&acme, &["thing".to_owned()]).await.expect("client");
    let credentials = format!("client_id={}&client_secret={}", c.client_id, c.client_secret);
    let token = form(
        &server,
        "/oauth2/token",
        format!("grant_type=client_credentials&{credentials}"),
    )
    .await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    form(&server, "/oauth2/revoke", format!("token={token}&{credentials}")).await;
    // The token expires within 2 s (its expiry is in whole seconds); the
    // sweep runs every second. Nothing else is revoked meanwhile.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        p.prune_token_revocations(1000).await.expect("prune"),
        0,
        "the expired token's revocation is gone already"
    );
    server.stop().await;
}
