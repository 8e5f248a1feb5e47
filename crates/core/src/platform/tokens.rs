//! Tokens the platform signs: HS256 JWTs whose keys live in the store,
//! sealed with the master key, so a token issued by one node verifies on
//! every node.
//!
//! Keys are numbered by generation under the purpose `token`; the newest
//! signs and every stored one verifies, so a rotation does not log anyone
//! out. Each node caches the keys: signing re-reads them at most once a
//! minute (a rotation on another node is picked up within one), and a token
//! naming a key the cache lacks makes it re-read at most once a second, so
//! forged key ids cannot turn into store reads.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::Platform;
use super::verified_tokens::VerifiedTokens;
use crate::CoreError;
use crate::store::SigningKey;

/// The store purpose of token signing keys.
const PURPOSE: &str = "token";
/// Bytes of a new signing key (HS256 wants at least 32).
const KEY_BYTES: usize = 32;
/// Longest token looked at; longer ones are refused unparsed.
pub const MAX_TOKEN_LEN: usize = 4096;
/// How long signing trusts its cached keys.
const SIGNING_CACHE: Duration = Duration::from_secs(60);
/// The least time between two re-reads for an unknown key id.
const MISS_RELOAD: Duration = Duration::from_secs(1);

/// Who a token is for: what the caller asks [`Platform::issue_token`] to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// Organization name.
    pub org: String,
    /// The organization's id in the store (none for an identity that
    /// belongs to no organization yet): a token of a deleted organization
    /// never opens a new one of the same name.
    pub tenant_id: Option<i64>,
    /// The actor's id (a username, a device or app uuid, a client id).
    pub sub: String,
    /// The kind of actor (`user`, `device`, `consumerApp`, `client`).
    pub kind: String,
    /// What it may do.
    pub scopes: Vec<String>,
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Organization name.
    pub org: String,
    /// The organization's id in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<i64>,
    /// The actor's id.
    pub sub: String,
    /// The kind of actor.
    pub kind: String,
    /// What it may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Issued at (epoch seconds).
    pub iat: i64,
    /// Expires at (epoch seconds).
    pub exp: i64,
    /// The token's random id, for tokens that can be revoked (OAuth2
    /// client tokens); see [`Platform::revoke_client_token`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// A signed token and when it expires.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Expiry, epoch milliseconds.
    pub expires_at_ms: i64,
}

/// A node's cache of the signing keys.
#[derive(Default)]
pub(crate) struct TokenKeys {
    cache: Mutex<Cache>,
    /// Tokens whose signature verified.
    verified: VerifiedTokens,
}

#[derive(Default)]
struct Cache {
    /// Newest generation first.
    keys: Vec<SigningKey>,
    loaded: Option<Instant>,
    /// The last re-read a token with an unknown key id caused.
    missed: Option<Instant>,
}

fn within(at: Option<Instant>, age: Duration) -> bool {
    at.is_some_and(|at| at.elapsed() < age)
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("token: {e}"))
}

fn invalid_token(why: &str) -> CoreError {
    CoreError::Unauthorized(format!("invalid token: {why}"))
}

/// The generation named by a key id `token-<n>`.
fn generation_of(kid: &str) -> Option<i64> {
    kid.strip_prefix(PURPOSE)?.strip_prefix('-')?.parse().ok()
}

impl Platform {
    /// Makes sure a token signing key exists (the first start of the first
    /// node makes it; nodes starting together agree on one).
    pub async fn ensure_token_key(&self) -> Result<(), CoreError> {
        self.signing_key().await.map(drop)
    }

    /// Adds a new signing key generation; tokens signed by older keys keep
    /// verifying until they expire. Returns the new generation.
    pub async fn rotate_token_key(&self) -> Result<i64, CoreError> {
        let newest = self.load_token_keys().await?.first().map_or(0, |k| k.generation);
        let generation = newest + 1;
        let secret = zeroize::Zeroizing::new(crate::secrets::random_bytes(KEY_BYTES));
        if !self.store.add_signing_key(PURPOSE, generation, &secret).await? {
            return Err(CoreError::Conflict(format!("token key generation {generation}")));
        }
        self.load_token_keys().await?;
        tracing::info!(generation, "token signing key rotated");
        Ok(generation)
    }

    /// Signs a token for `grant`, valid for `ttl`.
    pub async fn issue_token(&self, grant: TokenGrant, ttl: Duration) -> Result<IssuedToken, CoreError> {
        self.sign_token(grant, ttl, None).await
    }

    /// Signs a token for `grant`, valid for `ttl`, with the id `jti` when given.
    pub(crate) async fn sign_token(
        &self,
        grant: TokenGrant,
        ttl: Duration,
        jti: Option<String>,
    ) -> Result<IssuedToken, CoreError> {
        let key = self.signing_key().await?;
        let now_ms = crate::now_ms();
        let ttl_secs = i64::try_from(ttl.as_secs()).map_err(internal)?;
        let claims = TokenClaims {
            org: grant.org,
            tid: grant.tenant_id,
            sub: grant.sub,
            kind: grant.kind,
            scopes: grant.scopes,
            iat: now_ms / 1000,
            exp: now_ms / 1000 + ttl_secs,
            jti,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid());
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&key.secret)).map_err(internal)?;
        Ok(IssuedToken {
            token,
            expires_at_ms: claims.exp * 1000,
        })
    }

    /// Verifies a token's signature (with whichever stored key it names)
    /// and expiry; `Unauthorized` for anything else. A signature verified
    /// once is remembered (by the token's SHA-256, on this node); the expiry is
    /// checked every time.
    pub async fn verify_token(&self, token: &str) -> Result<TokenClaims, CoreError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid_token("too long"));
        }
        let now_secs = crate::now_ms() / 1000;
        let digest = VerifiedTokens::digest(token);
        if let Some(claims) = self.token_keys.verified.get(&digest, now_secs) {
            return Ok(TokenClaims::clone(&claims));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid_token("malformed"))?;
        if header.alg != Algorithm::HS256 {
            return Err(invalid_token("unsupported algorithm"));
        }
        let generation = header
            .kid
            .as_deref()
            .and_then(generation_of)
            .ok_or_else(|| invalid_token("unknown key"))?;
        let key = self
            .verifying_key(generation)
            .await?
            .ok_or_else(|| invalid_token("unknown key"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        let claims = jsonwebtoken::decode::<TokenClaims>(token, &DecodingKey::from_secret(&key.secret), &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid_token("expired"),
                _ => invalid_token("bad signature or claims"),
            })?;
        self.token_keys
            .verified
            .insert(digest, std::sync::Arc::new(claims.clone()), now_secs);
        Ok(claims)
    }

    /// The newest key, made if there is none.
    async fn signing_key(&self) -> Result<SigningKey, CoreError> {
        {
            let cache = self.token_keys.cache.lock().await;
            if within(cache.loaded, SIGNING_CACHE)
                && let Some(key) = cache.keys.first()
            {
                return Ok(key.clone());
            }
        }
        if let Some(key) = self.load_token_keys().await?.first() {
            return Ok(key.clone());
        }
        let secret = zeroize::Zeroizing::new(crate::secrets::random_bytes(KEY_BYTES));
        if self.store.add_signing_key(PURPOSE, 1, &secret).await? {
            tracing::info!("token signing key made (generation 1)");
        }
        // Whoever won the race, every node now reads the same key.
        self.load_token_keys()
            .await?
            .first()
            .cloned()
            .ok_or_else(|| internal("no signing key after making one"))
    }

    /// The key of `generation`, re-reading the store (at most once a
    /// second, misses waiting on one re-read) when the cache lacks it.
    async fn verifying_key(&self, generation: i64) -> Result<Option<SigningKey>, CoreError> {
        let find = |keys: &[SigningKey]| keys.iter().find(|k| k.generation == generation).cloned();
        let mut cache = self.token_keys.cache.lock().await;
        if let Some(key) = find(&cache.keys) {
            return Ok(Some(key));
        }
        if within(cache.missed, MISS_RELOAD) {
            return Ok(None);
        }
        cache.missed = Some(Instant::now());
        self.reload(&mut cache).await?;
        Ok(find(&cache.keys))
    }

    /// Re-reads the keys into the cache; returns them, newest first.
    async fn load_token_keys(&self) -> Result<Vec<SigningKey>, CoreError> {
        let mut cache = self.token_keys.cache.lock().await;
        self.reload(&mut cache).await?;
        Ok(cache.keys.clone())
    }

    async fn reload(&self, cache: &mut Cache) -> Result<(), CoreError> {
        cache.keys = self.store.signing_keys(PURPOSE).await?;
        cache.loaded = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::generation_of;

    #[test]
    fn key_ids_name_a_token_generation_only() {
        assert_eq!(generation_of("token-1"), Some(1));
        assert_eq!(generation_of("token-42"), Some(42));
        assert_eq!(generation_of("token-"), None);
        assert_eq!(generation_of("other-1"), None);
        assert_eq!(generation_of("token1"), None);
    }
}
