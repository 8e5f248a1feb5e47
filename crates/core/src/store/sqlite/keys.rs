//! Server signing keys SQL.

use rusqlite::{Connection, params};

use super::SqliteStore;
use super::errors::backend;
use crate::master_key::MasterKey;
use crate::now_ms;
use crate::store::sealed::{sealed_signing_key, unsealed_signing_key};
use crate::store::{KeyStore, SigningKey, StoreError};

fn list(c: &Connection, key: &MasterKey, purpose: &str) -> Result<Vec<SigningKey>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT generation, secret_sealed, created_at FROM signing_keys WHERE purpose = ?1 \
             ORDER BY generation DESC",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![purpose], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    rows.into_iter()
        .map(|(generation, sealed, created_at)| {
            unsealed_signing_key(key, purpose.to_owned(), generation, &sealed, created_at)
        })
        .collect()
}

fn add(c: &Connection, key: &MasterKey, purpose: &str, generation: i64, secret: &[u8]) -> Result<bool, StoreError> {
    let sealed = sealed_signing_key(key, purpose, generation, secret);
    let n = c
        .prepare_cached(
            "INSERT INTO signing_keys (purpose, generation, secret_sealed, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (purpose, generation) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![purpose, generation, sealed, now_ms()]))
        .map_err(backend)?;
    Ok(n == 1)
}

#[async_trait::async_trait]
impl KeyStore for SqliteStore {
    async fn signing_keys(&self, purpose: &str) -> Result<Vec<SigningKey>, StoreError> {
        let (key, purpose) = (self.key.clone(), purpose.to_owned());
        self.pool.read(move |c| list(c, &key, &purpose)).await
    }
    async fn add_signing_key(&self, purpose: &str, generation: i64, secret: &[u8]) -> Result<bool, StoreError> {
        let (key, purpose, secret) = (
            self.key.clone(),
            purpose.to_owned(),
            zeroize::Zeroizing::new(secret.to_vec()),
        );
        self.pool
            .write(move |c| add(c, &key, &purpose, generation, &secret))
            .await
    }
}
