//! Tokens of the things SDK against the real server: client credentials
//! fetched and refreshed before expiry, revocation (then 401), scoped
//! clients revoked on close and on drop, refused credentials, and HTTPS
//! with a private CA.

use std::time::Duration;

use thingstead::things::{Query, ThingsApi, ThingsError};
use thingstead_server::testing::TestServer;

use super::app_tls::{CA, tls_terminator};
use super::things_support::{api, api_as, client, eventually, space};

/// Whether `token` is accepted by the server now.
async fn accepted(server: &TestServer, token: &str) -> bool {
    let probe = api(server);
    probe.set_token(token).await;
    match probe.space("acme").things().list(Default::default()).first().await {
        // 403: a valid token without the `thing` scope.
        Ok(_) | Err(ThingsError::Api { status: 403, .. }) => true,
        Err(ThingsError::Api { status: 401, .. }) => false,
        Err(e) => panic!("unexpected: {e:?}"),
    }
}

#[tokio::test]
async fn credentials_fetch_a_token_and_a_new_one_before_it_expires() {
    let server = TestServer::start_with(|s| s.things.token_ttl_secs = 2).await;
    let c = space(&server, "acme").await;
    let api = ThingsApi::builder()
        .host(format!("http://{}", server.http))
        .refresh_threshold(Duration::from_secs(1))
        .build()
        .expect("api");
    api.set_credentials(&c.id, &c.secret, &["category"])
        .await
        .expect("token");
    let first = api.token().await.expect("token").expect("a token");
    api.space("acme")
        .categories()
        .list(Query::new())
        .first()
        .await
        .expect("call");

    // Past the first token's lifetime (`exp` is in whole seconds): it is
    // refused, yet the client keeps working because it fetched a new one
    // within the threshold.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert!(!accepted(&server, &first).await, "the first token expired");
    let page = api.space("acme").categories().list(Query::new()).first().await;
    assert!(page.is_ok(), "{page:?}");
    let second = api.token().await.expect("token").expect("a token");
    assert_ne!(first, second);
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_token_gets_401_as_an_api_error_with_the_raw_response() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["category"]).await;
    api.space("acme")
        .categories()
        .list(Query::new())
        .first()
        .await
        .expect("call");
    api.revoke_token().await.expect("revoked");
    let err = api
        .space("acme")
        .categories()
        .list(Query::new())
        .first()
        .await
        .expect_err("revoked");
    let ThingsError::Api {
        status: 401,
        error,
        raw,
    } = &err
    else {
        panic!("expected 401: {err:?}");
    };
    assert_eq!(error.status, 401);
    assert_eq!(raw.status, 401);
    assert!(raw.text().contains("revoked"), "{}", raw.text());
    assert!(raw.content_type().is_some_and(|c| c.starts_with("application/json")));
    // A fixed token cannot be revoked without credentials.
    let fixed = thingstead::things::ThingsApi::builder()
        .host(api.host())
        .build()
        .expect("api");
    fixed.set_token("x").await;
    assert!(matches!(fixed.revoke_token().await, Err(ThingsError::Config(_))));
    server.stop().await;
}

#[tokio::test]
async fn scoped_credentials_are_revoked_on_close_and_on_drop() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api(&server);

    let scoped = api
        .scoped_credentials(&c.id, &c.secret, &["thing"])
        .await
        .expect("scoped");
    scoped
        .space("acme")
        .things()
        .list(Default::default())
        .first()
        .await
        .expect("works");
    let token = scoped.token().await.expect("token").expect("a token");
    assert!(accepted(&server, &token).await);
    scoped.close().await.expect("closed");
    assert!(!accepted(&server, &token).await, "revoked by close()");

    let scoped = api
        .scoped_credentials(&c.id, &c.secret, &["thing"])
        .await
        .expect("scoped");
    let token = scoped.token().await.expect("token").expect("a token");
    assert!(accepted(&server, &token).await);
    drop(scoped);
    eventually("revoked after drop", || {
        let server = &server;
        let token = token.clone();
        async move { !accepted(server, &token).await }
    })
    .await;
    // The parent client has no token of its own and was not affected.
    assert_eq!(api.token().await.expect("token"), None);
    server.stop().await;
}

#[test]
fn a_blocking_scoped_client_is_revoked_when_dropped() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(TestServer::start());
    let c = runtime.block_on(space(&server, "acme"));
    let api = thingstead::things::blocking::ThingsApi::builder()
        .host(format!("http://{}", server.http))
        .build()
        .expect("blocking api");
    let scoped = api.scoped_credentials(&c.id, &c.secret, &["thing"]).expect("scoped");
    scoped
        .space("acme")
        .things()
        .list(Default::default())
        .first()
        .expect("works");
    let token = scoped.token().expect("token").expect("a token");
    drop(scoped);
    // The blocking drop waits for the revocation: refused at once.
    assert!(!runtime.block_on(accepted(&server, &token)));
    let scoped = api.scoped_credentials(&c.id, &c.secret, &["thing"]).expect("scoped");
    let token = scoped.token().expect("token").expect("a token");
    scoped.close().expect("closed");
    assert!(!runtime.block_on(accepted(&server, &token)));
    runtime.block_on(server.stop());
}

#[tokio::test]
async fn refused_credentials_and_scopes_are_oauth2_errors() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api(&server);
    let err = api
        .set_credentials(&c.id, "wrong", &["thing"])
        .await
        .expect_err("refused");
    let ThingsError::Auth { error, raw } = &err else {
        panic!("expected an OAuth2 error: {err:?}");
    };
    assert_eq!(error.error, "invalid_client");
    assert!(raw.as_ref().is_some_and(|r| r.status == 401 || r.status == 400));
    let read_only = client(&server, "acme", &["thing.read"]).await;
    let err = api
        .set_credentials(&read_only.id, &read_only.secret, &["thing"])
        .await
        .expect_err("scope refused");
    assert!(
        matches!(&err, ThingsError::Auth { error, .. } if error.error == "invalid_scope"),
        "{err:?}"
    );
    // A read-only token reads but may not write: 403 in the IoT Studio shape.
    let reader = api_as(&server, &read_only, &["thing.read"]).await;
    reader
        .space("acme")
        .things()
        .list(Default::default())
        .first()
        .await
        .expect("read");
    let err = reader
        .space("acme")
        .things()
        .create(&serde_json::json!({"title": "x"}))
        .await
        .expect_err("no write scope");
    assert!(matches!(err, ThingsError::Api { status: 403, .. }), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn https_with_a_private_ca_and_without_verification() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let (url, terminator) = tls_terminator(server.http).await;

    let trusted = ThingsApi::builder()
        .host(url.clone())
        .root_certificate_pem(CA)
        .build()
        .expect("api");
    trusted
        .set_credentials(&c.id, &c.secret, &["thing"])
        .await
        .expect("token over https");
    trusted
        .space("acme")
        .things()
        .list(Default::default())
        .first()
        .await
        .expect("list over https");

    let untrusted = ThingsApi::builder().host(url.clone()).build().expect("api");
    let err = untrusted
        .set_credentials(&c.id, &c.secret, &["thing"])
        .await
        .expect_err("the private CA is not trusted by default");
    assert!(matches!(err, ThingsError::Network(_)), "{err:?}");

    let unverified = ThingsApi::builder().host(url).verify_tls(false).build().expect("api");
    unverified
        .set_credentials(&c.id, &c.secret, &["thing"])
        .await
        .expect("any certificate accepted with verify_tls(false)");
    terminator.abort();
    server.stop().await;
}
