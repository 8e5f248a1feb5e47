//! A node's memory of tokens whose signature it has verified: every
//! request of a client sends the same token until it is refreshed, and
//! checking its HS256 signature again (base64, JSON, HMAC) costs more than
//! the rest of authentication. Only the signature check is remembered:
//! expiry is checked on every use, and revocation and the client's
//! standing are read from the store on every request, as before.
//!
//! A token is remembered by its SHA-256 (no bearer token stays in memory),
//! only after its signature verified (a forged token is never remembered),
//! and at most [`CAPACITY`] of them: when full, the expired ones go, and if
//! that frees nothing, all of them (they verify again on their next use).
//! Signing keys are never deleted (a rotation adds one), so a signature
//! that verified once stays valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::tokens::TokenClaims;

/// Most tokens remembered.
pub(crate) const CAPACITY: usize = 16 * 1024;

/// The SHA-256 of a token.
pub(crate) type TokenDigest = [u8; 32];

/// Tokens whose signature verified, by digest.
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    claims: Mutex<HashMap<TokenDigest, Arc<TokenClaims>>>,
}

impl VerifiedTokens {
    /// The digest a token is remembered by.
    pub(crate) fn digest(token: &str) -> TokenDigest {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of a remembered token that has not expired at
    /// `now_secs` (the JWT rule: expired once `exp < now`).
    pub(crate) fn get(&self, digest: &TokenDigest, now_secs: i64) -> Option<Arc<TokenClaims>> {
        let claims = self.claims.lock().ok()?.get(digest).cloned()?;
        (claims.exp >= now_secs).then_some(claims)
    }

    /// Remembers a token whose signature just verified.
    pub(crate) fn insert(&self, digest: TokenDigest, claims: Arc<TokenClaims>, now_secs: i64) {
        let Ok(mut map) = self.claims.lock() else { return };
        if map.len() >= CAPACITY {
            map.retain(|_, c| c.exp >= now_secs);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(digest, claims);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<TokenClaims> {
        Arc::new(TokenClaims {
            org: "acme".into(),
            tid: Some(1),
            sub: "c".into(),
            kind: "client".into(),
            scopes: vec![],
            iat: 0,
            exp,
            jti: None,
        })
    }

    #[test]
    fn an_expired_token_is_not_returned() {
        let cache = VerifiedTokens::default();
        let d = VerifiedTokens::digest("t");
        cache.insert(d, claims(100), 50);
        assert!(cache.get(&d, 100).is_some(), "valid through its exp second");
        assert!(cache.get(&d, 101).is_none());
        assert!(cache.get(&VerifiedTokens::digest("u"), 50).is_none());
    }

    #[test]
    fn the_cache_is_bounded_and_expired_tokens_go_first() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY {
            cache.insert(VerifiedTokens::digest(&format!("old{i}")), claims(10), 0);
        }
        let live = VerifiedTokens::digest("live");
        cache.insert(live, claims(1000), 20);
        assert_eq!(cache.claims.lock().unwrap().len(), 1, "the expired ones went");
        for i in 0..CAPACITY + 5 {
            cache.insert(VerifiedTokens::digest(&format!("new{i}")), claims(1000), 20);
        }
        assert!(cache.claims.lock().unwrap().len() <= CAPACITY);
    }
}
