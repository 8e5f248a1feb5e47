//! Pairing offers SQL.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::errors::backend;
use crate::ids::Tenant;
use crate::store::{PairingStore, StoreError};

fn pair(
    c: &Connection,
    t: &Tenant,
    pairing_id: &str,
    device_uuid: &str,
    now: i64,
    expired_before: i64,
) -> Result<(), StoreError> {
    c.execute("DELETE FROM pairings WHERE created_at < ?1", params![expired_before])
        .map_err(backend)?;
    let n = c
        .execute(
            "INSERT INTO pairings (pairing_id, org_id, device_uuid, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (pairing_id) DO NOTHING",
            params![pairing_id, t.id(), device_uuid, now],
        )
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("pairing {pairing_id}")));
    }
    Ok(())
}

fn paired(c: &Connection, pairing_id: &str, since: i64) -> Result<Option<(i64, String)>, StoreError> {
    c.query_row(
        "SELECT org_id, device_uuid FROM pairings WHERE pairing_id = ?1 AND created_at >= ?2",
        params![pairing_id, since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(backend)
}

#[async_trait::async_trait]
impl PairingStore for SqliteStore {
    async fn pair_device(
        &self,
        tenant: &Tenant,
        pairing_id: &str,
        device_uuid: &str,
        now_ms: i64,
        expired_before_ms: i64,
    ) -> Result<(), StoreError> {
        let (t, p, d) = (tenant.clone(), pairing_id.to_owned(), device_uuid.to_owned());
        self.pool
            .write(move |c| pair(c, &t, &p, &d, now_ms, expired_before_ms))
            .await
    }
    async fn paired_device(&self, pairing_id: &str, since_ms: i64) -> Result<Option<(i64, String)>, StoreError> {
        let p = pairing_id.to_owned();
        self.pool.read(move |c| paired(c, &p, since_ms)).await
    }
}
