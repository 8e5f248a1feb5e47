//! OAuth2 SQL: the client credential look-up and revoked tokens.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::errors::backend;
use super::standing;
use crate::ids::{OrgName, Tenant};
use crate::store::{OAuthClientCredentials, OAuthStore, StoreError};

/// Expired revocations deleted at each revocation.
const PRUNE_ON_REVOKE: u32 = 100;

/// The columns of a client and its organization, read by
/// [`oauth_client`] and [`client_token_standing`].
type ClientRow = (i64, String, String, String);

fn client_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Option<ClientRow>> {
    let Some(org_id) = r.get::<_, Option<i64>>(first)? else {
        return Ok(None);
    };
    Ok(Some((org_id, r.get(first + 1)?, r.get(first + 2)?, r.get(first + 3)?)))
}

fn credentials(client_id: &str, row: Option<ClientRow>) -> Result<Option<OAuthClientCredentials>, StoreError> {
    let Some((org_id, org, secret_hash, scopes)) = row else {
        return Ok(None);
    };
    let name = OrgName::parse(&org).map_err(|e| StoreError::Backend(e.to_string()))?;
    let scopes = serde_json::from_str(&scopes).map_err(|e| StoreError::Backend(format!("client scopes: {e}")))?;
    Ok(Some(OAuthClientCredentials {
        tenant: Tenant::from_store(org_id, name),
        client_id: client_id.to_owned(),
        secret_hash,
        scopes,
    }))
}

fn oauth_client(c: &Connection, client_id: &str) -> Result<Option<OAuthClientCredentials>, StoreError> {
    let row = c
        .prepare_cached(
            "SELECT o.id, o.name, k.secret_hash, k.scopes FROM oauth_clients k JOIN orgs o ON o.id = k.org_id \
             WHERE k.client_id = ?1",
        )
        .and_then(|mut s| s.query_row([client_id], |r| client_row(r, 0)).optional())
        .map_err(backend)?;
    credentials(client_id, row.flatten())
}

/// Whether token `jti` is revoked, and client `client_id`, in one
/// statement (one read snapshot): every request of the things face asks.
fn client_token_standing(
    c: &Connection,
    jti: Option<&str>,
    client_id: &str,
) -> Result<(bool, Option<OAuthClientCredentials>), StoreError> {
    let (revoked, row) = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM token_revocations WHERE jti = ?1), o.id, o.name, k.secret_hash, k.scopes \
             FROM (SELECT 1) AS one LEFT JOIN oauth_clients k ON k.client_id = ?2 LEFT JOIN orgs o ON o.id = k.org_id",
        )
        .and_then(|mut s| {
            s.query_row(params![jti, client_id], |r| {
                Ok((r.get::<_, bool>(0)?, client_row(r, 1)?))
            })
        })
        .map_err(backend)?;
    Ok((revoked, credentials(client_id, row)?))
}

fn prune(c: &Connection, now: i64, limit: u32) -> Result<u64, StoreError> {
    c.prepare_cached(
        "DELETE FROM token_revocations WHERE jti IN \
         (SELECT jti FROM token_revocations WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)",
    )
    .and_then(|mut s| s.execute(params![now, limit]))
    .map(|n| n as u64)
    .map_err(backend)
}

fn revoke(c: &Connection, t: &Tenant, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
    prune(c, now, PRUNE_ON_REVOKE)?;
    c.prepare_cached(
        "INSERT INTO token_revocations (jti, org_id, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .and_then(|mut s| s.execute(params![jti, t.id(), expires_at, now]))
    .map(drop)
    .map_err(backend)
}

fn revoked(c: &Connection, jti: &str) -> Result<bool, StoreError> {
    c.prepare_cached("SELECT 1 FROM token_revocations WHERE jti = ?1")
        .and_then(|mut s| s.exists([jti]))
        .map_err(backend)
}

#[async_trait::async_trait]
impl OAuthStore for SqliteStore {
    async fn oauth_client(&self, client_id: &str) -> Result<Option<OAuthClientCredentials>, StoreError> {
        let id = client_id.to_owned();
        self.pool.read(move |c| oauth_client(c, &id)).await
    }
    async fn revoke_token(
        &self,
        tenant: &Tenant,
        jti: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (t, jti) = (tenant.clone(), jti.to_owned());
        self.pool
            .write(move |c| revoke(c, &t, &jti, expires_at_ms, now_ms))
            .await
    }
    async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let jti = jti.to_owned();
        self.pool.read(move |c| revoked(c, &jti)).await
    }
    async fn client_token_standing(
        &self,
        jti: Option<&str>,
        client_id: &str,
    ) -> Result<(bool, Option<OAuthClientCredentials>), StoreError> {
        let (jti, id) = (jti.map(str::to_owned), client_id.to_owned());
        let standings = self.standings.clone();
        self.pool
            .read_point(move |c| {
                // The epoch first: a standing is never tagged newer than it is.
                let epoch = standing::epoch(c)?;
                if let Some(known) = standings.get(jti.as_deref(), &id, epoch) {
                    return Ok(known);
                }
                let fresh = client_token_standing(c, jti.as_deref(), &id)?;
                standings.put(jti.as_deref(), &id, epoch, fresh.clone());
                Ok(fresh)
            })
            .await
    }
    async fn prune_token_revocations(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError> {
        self.pool.write(move |c| prune(c, now_ms, limit)).await
    }
}
