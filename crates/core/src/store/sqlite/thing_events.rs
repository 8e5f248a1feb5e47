//! Thing events SQL.

use crate::store::Seek;
use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use super::errors::{backend, map};
use super::thing_activity::{Record, by_key, delete_all, list};
use crate::ids::Tenant;
use crate::store::{StoreError, ThingEventStore};
use crate::things_activity::{NewThingEvent, ThingEvent, stored_value};

const COLUMNS: &str = "id, event_id, thing_uid, name, data, at";

type Raw = (i64, String, String, String, String, i64);

impl Record for ThingEvent {
    const TABLE: &'static str = "thing_events";
    const ID: &'static str = "event_id";
    const COLUMNS: &'static str = COLUMNS;
    type Raw = Raw;

    fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    }

    fn record(raw: Raw) -> Result<Self, StoreError> {
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
}

fn create(c: &Connection, t: &Tenant, e: NewThingEvent) -> Result<ThingEvent, StoreError> {
    let sql = format!(
        "INSERT INTO thing_events (event_id, org_id, thing_uid, name, data, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {COLUMNS}"
    );
    c.prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params![e.id, t.id(), e.thing, e.name, e.data, e.at], ThingEvent::raw))
        .map_err(|err| map(err, &format!("event {}", e.id)))
        .and_then(ThingEvent::record)
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
        let (t, key) = (t.clone(), (thing.to_owned(), name.to_owned(), id.to_owned()));
        self.pool.read(move |c| by_key(c, false, &t, &key)).await
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
        let (t, key) = (t.clone(), (thing.to_owned(), name.to_owned(), id.to_owned()));
        self.pool.write(move |c| by_key(c, true, &t, &key)).await
    }
    async fn delete_thing_events(&self, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
        let (t, thing) = (t.clone(), thing.to_owned());
        self.pool.write(move |c| delete_all::<ThingEvent>(c, &t, &thing)).await
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
