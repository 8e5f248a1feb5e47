//! Thing events SQL.

use crate::store::Seek;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::errors::{backend, map};
use crate::ids::Tenant;
use crate::store::{StoreError, ThingEventStore};
use crate::things_activity::{NewThingEvent, ThingEvent, stored_value};

const COLUMNS: &str = "id, event_id, thing_uid, name, data, at";

type Raw = (i64, String, String, String, String, i64);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn record(raw: Raw) -> Result<ThingEvent, StoreError> {
    let (seq, id, thing, name, data, at) = raw;
    Ok(ThingEvent {
        id,
        seq,
        thing,
        name,
        data: stored_value(&data)?,
        timestamp: at,
    })
}

fn one(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Option<ThingEvent>, StoreError> {
    c.prepare_cached(sql)
        .and_then(|mut s| s.query_row(p, raw).optional())
        .map_err(backend)?
        .map(record)
        .transpose()
}

fn create(c: &Connection, t: &Tenant, e: NewThingEvent) -> Result<ThingEvent, StoreError> {
    let sql = format!(
        "INSERT INTO thing_events (event_id, org_id, thing_uid, name, data, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {COLUMNS}"
    );
    c.prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params![e.id, t.id(), e.thing, e.name, e.data, e.at], raw))
        .map_err(|err| map(err, &format!("event {}", e.id)))
        .and_then(record)
}

fn list(
    c: &Connection,
    t: &Tenant,
    thing: &str,
    name: Option<&str>,
    key: Seek,
    limit: u32,
) -> Result<Vec<ThingEvent>, StoreError> {
    let (op, order, key) = key.sql();
    let rows = match name {
        Some(name) => c
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM thing_events WHERE org_id = ?1 AND thing_uid = ?2 AND name = ?3 \
                 AND id {op} ?4 ORDER BY id {order} LIMIT ?5"
            ))
            .and_then(|mut s| {
                s.query_map(params![t.id(), thing, name, key, limit], raw)
                    .and_then(Iterator::collect::<rusqlite::Result<Vec<Raw>>>)
            }),
        None => c
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM thing_events WHERE org_id = ?1 AND thing_uid = ?2 \
                 AND id {op} ?3 ORDER BY id {order} LIMIT ?4"
            ))
            .and_then(|mut s| {
                s.query_map(params![t.id(), thing, key, limit], raw)
                    .and_then(Iterator::collect::<rusqlite::Result<Vec<Raw>>>)
            }),
    }
    .map_err(backend)?;
    rows.into_iter().map(record).collect()
}

#[async_trait::async_trait]
impl ThingEventStore for SqliteStore {
    async fn create_thing_event(&self, t: &Tenant, event: NewThingEvent) -> Result<ThingEvent, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| create(c, &t, event)).await
    }
    async fn thing_event(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingEvent>, StoreError> {
        let (org, thing, name, id) = (t.id(), thing.to_owned(), name.to_owned(), id.to_owned());
        let sql = format!(
            "SELECT {COLUMNS} FROM thing_events WHERE event_id = ?1 AND org_id = ?2 AND thing_uid = ?3 AND name = ?4"
        );
        self.pool
            .read(move |c| one(c, &sql, params![id, org, thing, name]))
            .await
    }
    async fn list_thing_events(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ThingEvent>, StoreError> {
        let (t, thing, name) = (t.clone(), thing.to_owned(), name.map(str::to_owned));
        let key = Seek::Older(before_seq.unwrap_or(i64::MAX));
        self.pool
            .read(move |c| list(c, &t, &thing, name.as_deref(), key, limit))
            .await
    }
    async fn list_thing_events_after(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ThingEvent>, StoreError> {
        let (t, thing, name) = (t.clone(), thing.to_owned(), name.map(str::to_owned));
        self.pool
            .read(move |c| list(c, &t, &thing, name.as_deref(), Seek::Newer(after_seq), limit))
            .await
    }
    async fn delete_thing_event(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingEvent>, StoreError> {
        let (org, thing, name, id) = (t.id(), thing.to_owned(), name.to_owned(), id.to_owned());
        let sql = format!(
            "DELETE FROM thing_events WHERE event_id = ?1 AND org_id = ?2 AND thing_uid = ?3 AND name = ?4 \
             RETURNING {COLUMNS}"
        );
        self.pool
            .write(move |c| one(c, &sql, params![id, org, thing, name]))
            .await
    }
    async fn delete_thing_events(&self, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
        let (org, thing) = (t.id(), thing.to_owned());
        self.pool
            .write(move |c| {
                c.execute(
                    "DELETE FROM thing_events WHERE org_id = ?1 AND thing_uid = ?2",
                    params![org, thing],
                )
                .map(|n| n as u64)
                .map_err(backend)
            })
            .await
    }
    async fn delete_thing_events_before(&self, t: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        let org = t.id();
        self.pool
            .write(move |c| {
                c.prepare_cached(
                    "DELETE FROM thing_events WHERE id IN \
                     (SELECT id FROM thing_events WHERE org_id = ?1 AND at < ?2 ORDER BY at LIMIT ?3)",
                )
                .and_then(|mut s| s.execute(params![org, cutoff_ms, limit]))
                .map(|n| n as u64)
                .map_err(backend)
            })
            .await
    }
}
