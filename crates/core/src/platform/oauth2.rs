//! OAuth2 for the things API: the client credentials grant (RFC 6749 4.4)
//! and token revocation (RFC 7009).
//!
//! The clients are those `thingstead admin client create --org O --scopes
//! a,b` makes ([`Platform::create_client`]): a client id, a random secret
//! of 256 bits kept as its SHA-256, and the scopes it may be granted. A
//! client authenticates with one store read by primary key and one SHA-256,
//! compared in constant time (no password hashing: the secret is random,
//! not chosen by a person), so the token endpoint stays cheap for clients
//! that ask for a token before every request.
//!
//! A client token is one of the core's JWTs ([`Platform::issue_token`]'s
//! keys and format) with kind `client`, the granted scopes and a random
//! `jti`. Revoking it stores the `jti` until the token's expiry
//! ([`crate::store::OAuthStore`]), so every node refuses it at once: every
//! [`Platform::authenticate`] of a token carrying a `jti` asks the store
//! (one read by primary key), and a node remembers the revoked ids it has
//! seen (bounded) so a revoked token that keeps coming costs no read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::Platform;
use super::tokens::{TokenClaims, TokenGrant};
use crate::CoreError;
use crate::ErrorKind;
use crate::identity::Principal;
use crate::secrets;
use crate::store::OAuthClientCredentials;

/// How long a client token is valid unless the caller says otherwise.
pub const CLIENT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Longest client id looked at.
pub const MAX_CLIENT_ID: usize = 128;
/// Longest client secret looked at.
pub const MAX_CLIENT_SECRET: usize = 256;
/// Most scopes one token request may ask for.
pub const MAX_REQUESTED_SCOPES: usize = 64;
/// Expired revocations deleted per write by
/// [`Platform::prune_expired_token_revocations`].
const PRUNE_BATCH: u32 = 1000;
/// Batches of [`PRUNE_BATCH`] one call of
/// [`Platform::prune_expired_token_revocations`] deletes at most.
const PRUNE_MAX_BATCHES: u32 = 100;
/// Revoked token ids a node remembers.
const REVOKED_CACHE: usize = 4096;
/// The token kind of OAuth2 clients.
const CLIENT_KIND: &str = "client";

/// Why an OAuth2 request was refused, in RFC 6749 5.2 terms.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Unknown client, wrong secret, or no client credentials
    /// (`invalid_client`). One message whatever was wrong.
    #[error("client authentication failed")]
    InvalidClient,
    /// A requested scope is not one the client may be granted (`invalid_scope`).
    #[error("{0}")]
    InvalidScope(String),
    /// A parameter is missing, repeated, too long or malformed (`invalid_request`).
    #[error("{0}")]
    InvalidRequest(String),
    /// The server failed (store unavailable, a bug).
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// A token just issued to a client.
#[derive(Debug, Clone)]
pub struct ClientToken {
    /// The bearer token.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Expiry, epoch milliseconds.
    pub expires_at_ms: i64,
    /// The scopes granted.
    pub scopes: Vec<String>,
}

/// A node's memory of revoked token ids (and their expiry, epoch seconds).
#[derive(Default)]
pub(crate) struct RevokedTokens {
    ids: Mutex<HashMap<String, i64>>,
}

impl RevokedTokens {
    fn contains(&self, jti: &str) -> bool {
        self.ids.lock().map(|ids| ids.contains_key(jti)).unwrap_or(false)
    }

    /// Remembers `jti`; when full, forgets expired ids first, and
    /// remembers nothing more while still full (the store still knows).
    fn insert(&self, jti: &str, exp: i64) {
        let Ok(mut ids) = self.ids.lock() else { return };
        if ids.len() >= REVOKED_CACHE {
            let now = crate::now_ms() / 1000;
            ids.retain(|_, exp| *exp >= now);
        }
        if ids.len() < REVOKED_CACHE {
            ids.insert(jti.to_owned(), exp);
        }
    }
}

/// A SHA-256 no secret hashes to: unknown clients are compared against it
/// so that they take as long as a wrong secret.
const DECOY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Platform {
    /// Authenticates an OAuth2 client by id and secret (RFC 6749 2.3.1):
    /// `InvalidClient` when the client is unknown, the secret wrong, or
    /// either is empty or too long.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<OAuthClientCredentials, OAuthError> {
        if client_id.is_empty()
            || client_id.len() > MAX_CLIENT_ID
            || client_secret.is_empty()
            || client_secret.len() > MAX_CLIENT_SECRET
        {
            return Err(OAuthError::InvalidClient);
        }
        let client = self.store.oauth_client(client_id).await.map_err(CoreError::from)?;
        let given = secrets::token_hash(client_secret);
        let stored = client.as_ref().map_or(DECOY_HASH, |c| c.secret_hash.as_str());
        match client {
            Some(client) if secrets::secrets_equal(given.as_bytes(), stored.as_bytes()) => Ok(client),
            _ => Err(OAuthError::InvalidClient),
        }
    }

    /// The client credentials grant: authenticates the client and signs a
    /// token valid for `ttl` with the `requested` scopes (each one the
    /// client may be granted, else `InvalidScope`), or with all of its
    /// scopes when none is requested. Duplicates are granted once.
    pub async fn issue_client_token(
        &self,
        client_id: &str,
        client_secret: &str,
        requested: &[String],
        ttl: Duration,
    ) -> Result<ClientToken, OAuthError> {
        if requested.len() > MAX_REQUESTED_SCOPES {
            return Err(OAuthError::InvalidScope(format!(
                "at most {MAX_REQUESTED_SCOPES} scopes may be requested"
            )));
        }
        let client = self.authenticate_client(client_id, client_secret).await?;
        let scopes = granted_scopes(&client.scopes, requested)?;
        let grant = TokenGrant {
            org: client.tenant.name().as_str().to_owned(),
            tenant_id: Some(client.tenant.id()),
            sub: client.client_id.clone(),
            kind: CLIENT_KIND.to_owned(),
            scopes: scopes.clone(),
        };
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let issued = self.sign_token(grant, ttl, Some(jti)).await?;
        Ok(ClientToken {
            access_token: issued.token,
            expires_in: ttl.as_secs(),
            expires_at_ms: issued.expires_at_ms,
            scopes,
        })
    }

    /// Token revocation (RFC 7009): authenticates the client, then revokes
    /// `token` if it is a current token of that client. A token that is
    /// invalid, expired or already revoked is not an error (RFC 7009 2.2);
    /// a valid token issued to anyone else is refused with `InvalidRequest`
    /// and stays valid.
    pub async fn revoke_client_token(
        &self,
        client_id: &str,
        client_secret: &str,
        token: &str,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(client_id, client_secret).await?;
        let claims = match self.verify_token(token).await {
            Ok(claims) => claims,
            Err(e) if e.kind() == ErrorKind::Unauthorized => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let theirs =
            claims.kind == CLIENT_KIND && claims.sub == client.client_id && claims.tid == Some(client.tenant.id());
        let Some(jti) = claims.jti.as_deref().filter(|_| theirs) else {
            return Err(OAuthError::InvalidRequest(
                "the token was not issued to this client".into(),
            ));
        };
        self.store
            .revoke_token(&client.tenant, jti, claims.exp.saturating_mul(1000), crate::now_ms())
            .await
            .map_err(CoreError::from)?;
        self.revoked.insert(jti, claims.exp);
        Ok(())
    }

    /// The principal of a client token (`kind` "client") that is not
    /// revoked and whose client still exists in its organization: one
    /// store read, [`crate::store::OAuthStore::client_token_standing`]
    /// (which a store may answer from memory while it can tell that
    /// nothing it depends on changed).
    pub(crate) async fn client_principal(&self, claims: TokenClaims) -> Result<Principal, CoreError> {
        let jti = claims.jti.as_deref();
        if jti.is_some_and(|jti| self.revoked.contains(jti)) {
            return Err(revoked_token());
        }
        let (revoked, client) = self.store.client_token_standing(jti, &claims.sub).await?;
        if revoked {
            if let Some(jti) = jti {
                self.revoked.insert(jti, claims.exp);
            }
            return Err(revoked_token());
        }
        let TokenClaims {
            org, tid, sub, scopes, ..
        } = claims;
        super::identity::client_of(client, &org, tid, sub, scopes)
    }

    pub(crate) async fn check_not_revoked(&self, claims: &TokenClaims) -> Result<(), CoreError> {
        let Some(jti) = claims.jti.as_deref() else {
            return Ok(());
        };
        if self.revoked.contains(jti) || self.store.token_revoked(jti).await? {
            self.revoked.insert(jti, claims.exp);
            return Err(revoked_token());
        }
        Ok(())
    }

    /// Deletes up to `limit` revocations of tokens that have expired
    /// (refused as expired anyway); returns how many. Revoking also prunes
    /// a few each time; the background retention sweep calls
    /// [`Platform::prune_expired_token_revocations`], so the table stays
    /// near the number of live revoked tokens even when nothing is revoked
    /// any more.
    pub async fn prune_token_revocations(&self, limit: u32) -> Result<u64, CoreError> {
        Ok(self.store.prune_token_revocations(crate::now_ms(), limit).await?)
    }

    /// Deletes the revocations of every token that has expired, in
    /// batches of 1000 (each its own short write), at most 100 batches
    /// per call; returns how many. What is
    /// left goes at the next call. For the background retention sweep.
    pub async fn prune_expired_token_revocations(&self) -> Result<u64, CoreError> {
        let mut pruned = 0;
        for _ in 0..PRUNE_MAX_BATCHES {
            let n = self.prune_token_revocations(PRUNE_BATCH).await?;
            pruned += n;
            if n < u64::from(PRUNE_BATCH) {
                break;
            }
        }
        Ok(pruned)
    }
}

/// The scopes to grant: `requested` (deduplicated, in order) when each is
/// allowed, all of `allowed` when none is requested.
fn granted_scopes(allowed: &[String], requested: &[String]) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Ok(allowed.to_vec());
    }
    let mut granted: Vec<String> = Vec::with_capacity(requested.len());
    for scope in requested {
        if !allowed.contains(scope) {
            let shown: String = scope.chars().take(64).collect();
            return Err(OAuthError::InvalidScope(format!(
                "scope {shown:?} is not allowed for this client"
            )));
        }
        if !granted.contains(scope) {
            granted.push(scope.clone());
        }
    }
    Ok(granted)
}

fn revoked_token() -> CoreError {
    CoreError::Unauthorized("invalid token: revoked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn requested_scopes_narrow_the_allowed_ones() {
        let allowed = v(&["thing", "category.read"]);
        assert_eq!(granted_scopes(&allowed, &[]).unwrap(), allowed);
        assert_eq!(
            granted_scopes(&allowed, &v(&["thing", "thing"])).unwrap(),
            v(&["thing"])
        );
        assert!(matches!(
            granted_scopes(&allowed, &v(&["thing", "category"])),
            Err(OAuthError::InvalidScope(_))
        ));
    }

    #[test]
    fn the_revoked_cache_is_bounded() {
        let cache = RevokedTokens::default();
        let future = crate::now_ms() / 1000 + 3600;
        for i in 0..REVOKED_CACHE + 10 {
            cache.insert(&format!("j{i}"), future);
        }
        assert!(cache.contains("j0"));
        assert!(!cache.contains(&format!("j{}", REVOKED_CACHE + 5)));
        // Expired ids make room.
        let cache = RevokedTokens::default();
        for i in 0..REVOKED_CACHE {
            cache.insert(&format!("old{i}"), 1);
        }
        cache.insert("new", future);
        assert!(cache.contains("new"));
        assert!(!cache.contains("old0"));
    }
}
