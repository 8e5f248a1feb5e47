//! Shared setup of the things SDK tests: a space with an OAuth2 client on
//! a real server, and clients of it.

use std::time::Duration;

use thingstead::things::ThingsApi;
use thingstead_server::testing::TestServer;

/// An OAuth2 client of a space.
pub struct Client {
    pub id: String,
    pub secret: String,
}

/// Creates space `space` with a client allowed every scope.
pub async fn space(server: &TestServer, space: &str) -> Client {
    server.create_org(space).await;
    client(server, space, &["thing", "category", "email"]).await
}

/// A new client of `space` allowed `scopes`.
pub async fn client(server: &TestServer, space: &str, scopes: &[&str]) -> Client {
    let p = server.platform();
    let tenant = p.tenant(space).await.expect("space");
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let c = p.create_client(&tenant, &scopes).await.expect("client");
    Client {
        id: c.client_id,
        secret: c.client_secret,
    }
}

/// A client of `server` without a token.
pub fn api(server: &TestServer) -> ThingsApi {
    ThingsApi::builder()
        .host(format!("http://{}", server.http))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("api")
}

/// A client of `server` authenticated as `client` with `scopes`.
pub async fn api_as(server: &TestServer, client: &Client, scopes: &[&str]) -> ThingsApi {
    let api = api(server);
    api.set_credentials(&client.id, &client.secret, scopes)
        .await
        .expect("token");
    api
}

/// Waits up to 5 s for `check` to hold.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within 5 s: {what}");
}
