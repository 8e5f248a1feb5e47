//! Thing events SQL.

use crate::store::Seek;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::PgStore;
use super::errors::{backend, map};
use super::pool::{execute, query};
use super::thing_activity::{Record, by_key, delete_all, first, list};
use crate::ids::Tenant;
use crate::store::{StoreError, ThingEventStore};
use crate::things_activity::{NewThingEvent, ThingEvent, stored_value};

const COLUMNS: &str = "id, event_id, thing_uid, name, data, at";

impl Record for ThingEvent {
    const TABLE: &'static str = "thing_events";
    const ID: &'static str = "event_id";
    const COLUMNS: &'static str = COLUMNS;

    fn record(r: &Row) -> Result<Self, StoreError> {
        let data: String = r.get(4);
        Ok(ThingEvent {
            seq: r.get(0),
            id: r.get(1),
            thing: r.get(2),
            name: r.get(3),
            data: stored_value(&data)?,
            timestamp: r.get(5),
        })
    }
}

async fn create<C: GenericClient + Sync>(c: &C, t: &Tenant, e: &NewThingEvent) -> Result<ThingEvent, StoreError> {
    let sql = format!(
        "INSERT INTO thing_events (event_id, org_id, thing_uid, name, data, at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let rows = query(c, &sql, &[&e.id, &t.id(), &e.thing, &e.name, &e.data, &e.at])
        .await
        .map_err(|err| map(err, &format!("event {}", e.id)))?;
    first(rows)?.ok_or_else(|| StoreError::Backend("INSERT returned no row".into()))
}

#[async_trait::async_trait]
impl ThingEventStore for PgStore {
    async fn create_thing_event(&self, t: &Tenant, event: NewThingEvent) -> Result<ThingEvent, StoreError> {
        write!(self, |c| create(c, t, &event))
    }
    async fn thing_event(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingEvent>, StoreError> {
        read!(self, |c| by_key(c, false, t, (thing, name, id)))
    }
    async fn list_thing_events(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ThingEvent>, StoreError> {
        let key = Seek::Older(before_seq.unwrap_or(i64::MAX));
        read!(self, |c| list(c, t, thing, name, key, limit))
    }
    async fn list_thing_events_after(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ThingEvent>, StoreError> {
        read!(self, |c| list(c, t, thing, name, Seek::Newer(after_seq), limit))
    }
    async fn delete_thing_event(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingEvent>, StoreError> {
        write!(self, |c| by_key(c, true, t, (thing, name, id)))
    }
    async fn delete_thing_events(&self, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
        write!(self, |c| delete_all::<ThingEvent, _>(c, t, thing))
    }
    async fn delete_thing_events_before(&self, t: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        write!(self, |c| async move {
            execute(
                c,
                "DELETE FROM thing_events WHERE id IN \
                 (SELECT id FROM thing_events WHERE org_id = $1 AND at < $2 ORDER BY at, id LIMIT $3)",
                &[&t.id(), &cutoff_ms, &i64::from(limit)],
            )
            .await
            .map_err(backend)
        })
    }
}
