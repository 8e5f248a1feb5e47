//! OAuth2 on every backend: the client credential look-up, revoked tokens
//! (shared by every node through the store), and their pruning.

use std::time::Duration;

use thingstead_core::scopes::{Need, Resource};
use thingstead_core::{Actor, ErrorKind, OAuthError};

use super::{Backend, Env, org, platform};

both!(
    a_client_is_looked_up_by_id_in_any_organization,
    revocations_are_idempotent_and_expired_ones_are_pruned,
    a_token_revoked_on_one_node_is_refused_on_every_node,
    client_credentials_grant_the_requested_scopes_only,
    a_client_cannot_revoke_another_clients_token,
    the_platform_prunes_every_expired_revocation_and_keeps_live_ones,
);

const HOUR: Duration = Duration::from_secs(3600);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn a_client_is_looked_up_by_id_in_any_organization(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let p = platform(store.clone());
    p.create_org("other").await.unwrap();
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    let client = p.create_client(&acme, &s(&["thing", "category.read"])).await.unwrap();
    let found = store.oauth_client(&client.client_id).await.unwrap().expect("found");
    assert_eq!(found.tenant, acme);
    assert_eq!(found.client_id, client.client_id);
    assert_eq!(found.scopes, ["thing", "category.read"]);
    assert_eq!(
        found.secret_hash,
        thingstead_core::secrets::token_hash(&client.client_secret),
        "kept hashed"
    );
    assert!(!format!("{found:?}").contains(&found.secret_hash), "not in Debug");
    assert!(store.oauth_client("ts-nope").await.unwrap().is_none());
    p.delete_client(&acme, &client.client_id).await.unwrap();
    assert!(store.oauth_client(&client.client_id).await.unwrap().is_none());
}

async fn revocations_are_idempotent_and_expired_ones_are_pruned(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let acme = store.create_org(&org("acme")).await.unwrap();
    let other = store.create_org(&org("other")).await.unwrap();
    let now = 1_000_000;
    store.revoke_token(&acme, "live", now + 60_000, now).await.unwrap();
    store.revoke_token(&acme, "live", now + 60_000, now).await.unwrap();
    store.revoke_token(&acme, "old", now - 1, now - 10).await.unwrap();
    store.revoke_token(&other, "old2", now - 5, now - 10).await.unwrap();
    assert!(store.token_revoked("live").await.unwrap());
    assert!(store.token_revoked("old").await.unwrap());
    assert!(!store.token_revoked("never").await.unwrap());
    // Only rows whose token expired before `now` go, at most `limit` at a time.
    assert_eq!(store.prune_token_revocations(now, 1).await.unwrap(), 1);
    assert_eq!(store.prune_token_revocations(now, 10).await.unwrap(), 1);
    assert_eq!(store.prune_token_revocations(now, 10).await.unwrap(), 0);
    assert!(!store.token_revoked("old").await.unwrap());
    assert!(store.token_revoked("live").await.unwrap());
    // A revocation prunes what expired before it.
    store.revoke_token(&acme, "old3", now + 5, now).await.unwrap();
    store
        .revoke_token(&acme, "new", now + 120_000, now + 60_001)
        .await
        .unwrap();
    assert!(!store.token_revoked("live").await.unwrap());
    assert!(!store.token_revoked("old3").await.unwrap());
    assert!(store.token_revoked("new").await.unwrap());
    // They go with their organization.
    store.delete_org(&acme).await.unwrap();
    assert!(!store.token_revoked("new").await.unwrap());
}

async fn a_token_revoked_on_one_node_is_refused_on_every_node(b: Backend) {
    let env = Env::new(b).await;
    let (a, b_node) = (platform(env.open().await), platform(env.open().await));
    let acme = a.tenant(&a.create_org("acme").await.unwrap().name).await.unwrap();
    let client = a.create_client(&acme, &s(&["thing"])).await.unwrap();
    let token = a
        .issue_client_token(&client.client_id, &client.client_secret, &[], HOUR)
        .await
        .unwrap();
    let other = a
        .issue_client_token(&client.client_id, &client.client_secret, &[], HOUR)
        .await
        .unwrap();
    let principal = b_node.authenticate(&token.access_token).await.unwrap();
    assert_eq!(
        principal.actor(),
        &Actor::Client {
            client_id: client.client_id.clone()
        }
    );
    assert_eq!(principal.tenant().unwrap(), &acme);
    a.revoke_client_token(&client.client_id, &client.client_secret, &token.access_token)
        .await
        .unwrap();
    for node in [&a, &b_node] {
        let e = node.authenticate(&token.access_token).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
    }
    // Again: still 200-worthy, and the client's other token is untouched.
    a.revoke_client_token(&client.client_id, &client.client_secret, &token.access_token)
        .await
        .unwrap();
    b_node.authenticate(&other.access_token).await.unwrap();
    // Garbage and expired tokens revoke nothing and are no error (RFC 7009 2.2).
    a.revoke_client_token(&client.client_id, &client.client_secret, "garbage")
        .await
        .unwrap();
    // A node started after the revocation refuses it too.
    let c = platform(env.open().await);
    assert!(c.authenticate(&token.access_token).await.is_err());
    // A deleted client's tokens open nothing.
    a.delete_client(&acme, &client.client_id).await.unwrap();
    assert!(b_node.authenticate(&other.access_token).await.is_err());
    // Nor do the tokens of a deleted organization's clients.
    let second = a.create_client(&acme, &s(&["thing"])).await.unwrap();
    let token = a
        .issue_client_token(&second.client_id, &second.client_secret, &[], HOUR)
        .await
        .unwrap();
    b_node.authenticate(&token.access_token).await.unwrap();
    a.delete_org(&acme).await.unwrap();
    assert!(b_node.authenticate(&token.access_token).await.is_err());
}

async fn client_credentials_grant_the_requested_scopes_only(b: Backend) {
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    let client = p.create_client(&acme, &s(&["thing", "category.read"])).await.unwrap();
    let (id, secret) = (client.client_id.as_str(), client.client_secret.as_str());

    let all = p.issue_client_token(id, secret, &[], HOUR).await.unwrap();
    assert_eq!(all.scopes, ["thing", "category.read"]);
    assert_eq!(all.expires_in, 3600);
    let principal = p.authenticate(&all.access_token).await.unwrap();
    assert!(principal.allows(Need::write(Resource::Things)));
    assert!(principal.allows(Need::read(Resource::Categories)));
    assert!(!principal.allows(Need::write(Resource::Categories)));
    assert!(!principal.allows(Need::write(Resource::Email)));

    let narrow = p
        .issue_client_token(id, secret, &s(&["category.read"]), HOUR)
        .await
        .unwrap();
    assert_eq!(narrow.scopes, ["category.read"]);
    let principal = p.authenticate(&narrow.access_token).await.unwrap();
    assert!(!principal.allows(Need::read(Resource::Things)));
    assert!(principal.allows(Need::read(Resource::Categories)));

    let wider = p.issue_client_token(id, secret, &s(&["thing", "category"]), HOUR).await;
    assert!(matches!(wider, Err(OAuthError::InvalidScope(_))), "{wider:?}");

    for (id, secret) in [
        (id, "wrong"),
        (id, ""),
        ("ts-unknown", secret),
        ("", secret),
        (id, &"x".repeat(10_000)),
    ] {
        let e = p.issue_client_token(id, secret, &[], HOUR).await;
        assert!(matches!(e, Err(OAuthError::InvalidClient)), "{e:?}");
    }
}

async fn a_client_cannot_revoke_another_clients_token(b: Backend) {
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    let mine = p.create_client(&acme, &s(&["thing"])).await.unwrap();
    let theirs = p.create_client(&acme, &s(&["thing"])).await.unwrap();
    let token = p
        .issue_client_token(&theirs.client_id, &theirs.client_secret, &[], HOUR)
        .await
        .unwrap();
    let e = p
        .revoke_client_token(&mine.client_id, &mine.client_secret, &token.access_token)
        .await;
    assert!(matches!(e, Err(OAuthError::InvalidRequest(_))), "{e:?}");
    let e = p
        .revoke_client_token(&theirs.client_id, "wrong", &token.access_token)
        .await;
    assert!(matches!(e, Err(OAuthError::InvalidClient)), "{e:?}");
    p.authenticate(&token.access_token).await.expect("still valid");
}

async fn the_platform_prunes_every_expired_revocation_and_keeps_live_ones(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let p = platform(store.clone());
    let acme = store.create_org(&org("acme")).await.unwrap();
    let now = thingstead_core::now_ms();
    // Revoked long ago (so revoking prunes none of them), expired since.
    for jti in ["gone1", "gone2", "gone3"] {
        store.revoke_token(&acme, jti, now - 1_000, now - 60_000).await.unwrap();
    }
    store
        .revoke_token(&acme, "live", now + 3_600_000, now - 60_000)
        .await
        .unwrap();
    assert_eq!(p.prune_expired_token_revocations().await.unwrap(), 3);
    for jti in ["gone1", "gone2", "gone3"] {
        assert!(!store.token_revoked(jti).await.unwrap(), "{jti}");
    }
    assert!(store.token_revoked("live").await.unwrap());
    assert_eq!(p.prune_expired_token_revocations().await.unwrap(), 0);
}
