//! OAuth2 SQL: the client credential look-up and revoked tokens.

use deadpool_postgres::GenericClient;

use super::PgStore;
use super::errors::backend;
use super::pool::{execute, query};
use super::registry::tenant_from;
use crate::ids::Tenant;
use crate::store::{OAuthClientCredentials, OAuthStore, StoreError};

/// Expired revocations deleted at each revocation.
const PRUNE_ON_REVOKE: i64 = 100;

async fn oauth_client<C: GenericClient + Sync>(
    c: &C,
    client_id: &str,
) -> Result<Option<OAuthClientCredentials>, StoreError> {
    let rows = query(
        c,
        "SELECT o.id, o.name, k.secret_hash, k.scopes FROM oauth_clients k JOIN orgs o ON o.id = k.org_id \
         WHERE k.client_id = $1",
        &[&client_id],
    )
    .await
    .map_err(backend)?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(OAuthClientCredentials {
        tenant: tenant_from(r.get(0), r.get::<_, &str>(1))?,
        client_id: client_id.to_owned(),
        secret_hash: r.get(2),
        scopes: r.get(3),
    }))
}

async fn prune<C: GenericClient + Sync>(c: &C, now: i64, limit: i64) -> Result<u64, StoreError> {
    execute(
        c,
        "DELETE FROM token_revocations WHERE jti IN \
         (SELECT jti FROM token_revocations WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)",
        &[&now, &limit],
    )
    .await
    .map_err(backend)
}

async fn revoke<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    prune(c, now, PRUNE_ON_REVOKE).await?;
    execute(
        c,
        "INSERT INTO token_revocations (jti, org_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (jti) DO NOTHING",
        &[&jti, &t.id(), &expires_at, &now],
    )
    .await
    .map(drop)
    .map_err(backend)
}

async fn revoked<C: GenericClient + Sync>(c: &C, jti: &str) -> Result<bool, StoreError> {
    let rows = query(c, "SELECT 1 FROM token_revocations WHERE jti = $1", &[&jti])
        .await
        .map_err(backend)?;
    Ok(!rows.is_empty())
}

#[async_trait::async_trait]
impl OAuthStore for PgStore {
    async fn oauth_client(&self, client_id: &str) -> Result<Option<OAuthClientCredentials>, StoreError> {
        read!(self, |c| oauth_client(c, client_id))
    }
    async fn revoke_token(
        &self,
        tenant: &Tenant,
        jti: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| revoke(&tx, tenant, jti, expires_at_ms, now_ms))
    }
    async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        read!(self, |c| revoked(c, jti))
    }
    async fn client_token_standing(
        &self,
        jti: Option<&str>,
        client_id: &str,
    ) -> Result<(bool, Option<OAuthClientCredentials>), StoreError> {
        let conn = self.conn().await?;
        let revoked = match jti {
            Some(jti) => revoked(&conn, jti).await?,
            None => false,
        };
        Ok((revoked, oauth_client(&conn, client_id).await?))
    }
    async fn prune_token_revocations(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        write!(self, |c| prune(c, now_ms, i64::from(limit)))
    }
}
