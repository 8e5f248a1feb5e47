//! Space retention SQL.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::PgStore;
use super::errors::backend;
use super::pool::query;
use crate::ids::{OrgName, Tenant};
use crate::store::{SpaceRetentionStore, StoreError};
use crate::things_activity::{SpaceRetention, SpaceRetentionChange};

fn days(v: Option<i64>) -> Option<u32> {
    v.and_then(|d| u32::try_from(d).ok())
}

fn retention(r: &Row, from: usize) -> SpaceRetention {
    SpaceRetention {
        history_days: days(r.get(from)),
        events_days: days(r.get(from + 1)),
    }
}

async fn update<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    ch: SpaceRetentionChange,
    now: i64,
) -> Result<SpaceRetention, StoreError> {
    let h = ch.history_days.flatten().map(i64::from);
    let e = ch.events_days.flatten().map(i64::from);
    let rows = query(
        c,
        "INSERT INTO space_retention (org_id, history_days, events_days, updated_at) VALUES ($1, $3, $5, $6) \
         ON CONFLICT (org_id) DO UPDATE SET \
         history_days = CASE WHEN $2 THEN $3 ELSE space_retention.history_days END, \
         events_days = CASE WHEN $4 THEN $5 ELSE space_retention.events_days END, updated_at = $6 \
         RETURNING history_days, events_days",
        &[
            &t.id(),
            &ch.history_days.is_some(),
            &h,
            &ch.events_days.is_some(),
            &e,
            &now,
        ],
    )
    .await
    .map_err(backend)?;
    rows.first()
        .map(|r| retention(r, 0))
        .ok_or_else(|| StoreError::Backend("upsert returned no row".into()))
}

async fn read<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<SpaceRetention, StoreError> {
    let rows = query(
        c,
        "SELECT history_days, events_days FROM space_retention WHERE org_id = $1",
        &[&t.id()],
    )
    .await
    .map_err(backend)?;
    Ok(rows.first().map(|r| retention(r, 0)).unwrap_or_default())
}

async fn limited<C: GenericClient + Sync>(c: &C) -> Result<Vec<(Tenant, SpaceRetention)>, StoreError> {
    let rows = query(
        c,
        "SELECT o.id, o.name, r.history_days, r.events_days FROM space_retention r JOIN orgs o ON o.id = r.org_id \
         WHERE r.history_days IS NOT NULL OR r.events_days IS NOT NULL ORDER BY o.id",
        &[],
    )
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|r| {
            let name: String = r.get(1);
            let name = OrgName::parse(&name).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok((Tenant::from_store(r.get(0), name), retention(r, 2)))
        })
        .collect()
}

#[async_trait::async_trait]
impl SpaceRetentionStore for PgStore {
    async fn update_space_retention(
        &self,
        t: &Tenant,
        change: SpaceRetentionChange,
        now_ms: i64,
    ) -> Result<SpaceRetention, StoreError> {
        write!(self, |c| update(c, t, change, now_ms))
    }
    async fn space_retention(&self, t: &Tenant) -> Result<SpaceRetention, StoreError> {
        read!(self, |c| read(c, t))
    }
    async fn limited_spaces(&self) -> Result<Vec<(Tenant, SpaceRetention)>, StoreError> {
        read!(self, |c| limited(c))
    }
}
