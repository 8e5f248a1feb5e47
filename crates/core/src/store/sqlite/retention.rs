//! Space retention SQL.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::errors::backend;
use crate::ids::{OrgName, Tenant};
use crate::store::{SpaceRetentionStore, StoreError};
use crate::things_activity::{SpaceRetention, SpaceRetentionChange};

fn days(v: Option<i64>) -> Option<u32> {
    v.and_then(|d| u32::try_from(d).ok())
}

fn update(c: &Connection, t: &Tenant, ch: SpaceRetentionChange, now: i64) -> Result<SpaceRetention, StoreError> {
    let (h, e) = (ch.history_days.flatten(), ch.events_days.flatten());
    c.prepare_cached(
        "INSERT INTO space_retention (org_id, history_days, events_days, updated_at) VALUES (?1, ?3, ?5, ?6) \
         ON CONFLICT (org_id) DO UPDATE SET \
         history_days = CASE WHEN ?2 THEN ?3 ELSE history_days END, \
         events_days = CASE WHEN ?4 THEN ?5 ELSE events_days END, updated_at = ?6 \
         RETURNING history_days, events_days",
    )
    .and_then(|mut s| {
        s.query_row(
            params![t.id(), ch.history_days.is_some(), h, ch.events_days.is_some(), e, now],
            |r| {
                Ok(SpaceRetention {
                    history_days: days(r.get(0)?),
                    events_days: days(r.get(1)?),
                })
            },
        )
    })
    .map_err(backend)
}

fn read(c: &Connection, t: &Tenant) -> Result<SpaceRetention, StoreError> {
    c.prepare_cached("SELECT history_days, events_days FROM space_retention WHERE org_id = ?1")
        .and_then(|mut s| {
            s.query_row(params![t.id()], |r| {
                Ok(SpaceRetention {
                    history_days: days(r.get(0)?),
                    events_days: days(r.get(1)?),
                })
            })
            .optional()
        })
        .map(Option::unwrap_or_default)
        .map_err(backend)
}

fn limited(c: &Connection) -> Result<Vec<(Tenant, SpaceRetention)>, StoreError> {
    let rows: Vec<(i64, String, Option<i64>, Option<i64>)> = c
        .prepare_cached(
            "SELECT o.id, o.name, r.history_days, r.events_days FROM space_retention r JOIN orgs o ON o.id = r.org_id \
             WHERE r.history_days IS NOT NULL OR r.events_days IS NOT NULL ORDER BY o.id",
        )
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .and_then(Iterator::collect)
        })
        .map_err(backend)?;
    rows.into_iter()
        .map(|(id, name, h, e)| {
            let name = OrgName::parse(&name).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok((
                Tenant::from_store(id, name),
                SpaceRetention {
                    history_days: days(h),
                    events_days: days(e),
                },
            ))
        })
        .collect()
}

#[async_trait::async_trait]
impl SpaceRetentionStore for SqliteStore {
    async fn update_space_retention(
        &self,
        t: &Tenant,
        change: SpaceRetentionChange,
        now_ms: i64,
    ) -> Result<SpaceRetention, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| update(c, &t, change, now_ms)).await
    }
    async fn space_retention(&self, t: &Tenant) -> Result<SpaceRetention, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| read(c, &t)).await
    }
    async fn limited_spaces(&self) -> Result<Vec<(Tenant, SpaceRetention)>, StoreError> {
        self.pool.read(limited).await
    }
}
