//! Server signing keys SQL.

use deadpool_postgres::GenericClient;

use super::PgStore;
use super::errors::backend;
use super::pool::{execute, query};
use crate::master_key::MasterKey;
use crate::now_ms;
use crate::store::sealed::{sealed_signing_key, unsealed_signing_key};
use crate::store::{KeyStore, SigningKey, StoreError};

async fn list<C: GenericClient + Sync>(c: &C, key: &MasterKey, purpose: &str) -> Result<Vec<SigningKey>, StoreError> {
    let rows = query(
        c,
        "SELECT generation, secret_sealed, created_at FROM signing_keys WHERE purpose = $1 \
         ORDER BY generation DESC",
        &[&purpose],
    )
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|r| unsealed_signing_key(key, purpose.to_owned(), r.get(0), r.get::<_, &[u8]>(1), r.get(2)))
        .collect()
}

async fn add<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    purpose: &str,
    generation: i64,
    secret: &[u8],
) -> Result<bool, StoreError> {
    let sealed = sealed_signing_key(key, purpose, generation, secret);
    let n = execute(
        c,
        "INSERT INTO signing_keys (purpose, generation, secret_sealed, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (purpose, generation) DO NOTHING",
        &[&purpose, &generation, &sealed, &now_ms()],
    )
    .await
    .map_err(backend)?;
    Ok(n == 1)
}

#[async_trait::async_trait]
impl KeyStore for PgStore {
    async fn signing_keys(&self, purpose: &str) -> Result<Vec<SigningKey>, StoreError> {
        read!(self, |c| list(c, &self.key, purpose))
    }
    async fn add_signing_key(&self, purpose: &str, generation: i64, secret: &[u8]) -> Result<bool, StoreError> {
        write!(self, |c| add(c, &self.key, purpose, generation, secret))
    }
}
