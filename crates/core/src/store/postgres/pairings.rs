//! Pairing offers SQL.

use deadpool_postgres::GenericClient;

use super::PgStore;
use super::errors::backend;
use super::pool::{execute, query};
use crate::ids::Tenant;
use crate::store::{PairingStore, StoreError};

async fn pair<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    pairing_id: &str,
    device_uuid: &str,
    now: i64,
    expired_before: i64,
) -> Result<(), StoreError> {
    execute(c, "DELETE FROM pairings WHERE created_at < $1", &[&expired_before])
        .await
        .map_err(backend)?;
    let n = execute(
        c,
        "INSERT INTO pairings (pairing_id, org_id, device_uuid, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (pairing_id) DO NOTHING",
        &[&pairing_id, &t.id(), &device_uuid, &now],
    )
    .await
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("pairing {pairing_id}")));
    }
    Ok(())
}

async fn paired<C: GenericClient + Sync>(
    c: &C,
    pairing_id: &str,
    since: i64,
) -> Result<Option<(i64, String)>, StoreError> {
    let rows = query(
        c,
        "SELECT org_id, device_uuid FROM pairings WHERE pairing_id = $1 AND created_at >= $2",
        &[&pairing_id, &since],
    )
    .await
    .map_err(backend)?;
    Ok(rows.first().map(|r| (r.get(0), r.get(1))))
}

#[async_trait::async_trait]
impl PairingStore for PgStore {
    async fn pair_device(
        &self,
        tenant: &Tenant,
        pairing_id: &str,
        device_uuid: &str,
        now_ms: i64,
        expired_before_ms: i64,
    ) -> Result<(), StoreError> {
        write!(self, |c| pair(
            c,
            tenant,
            pairing_id,
            device_uuid,
            now_ms,
            expired_before_ms
        ))
    }
    async fn paired_device(&self, pairing_id: &str, since_ms: i64) -> Result<Option<(i64, String)>, StoreError> {
        read!(self, |c| paired(c, pairing_id, since_ms))
    }
}
