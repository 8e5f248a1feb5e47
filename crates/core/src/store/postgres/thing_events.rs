//! Thing events SQL.

use crate::store::Seek;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::PgStore;
use super::errors::{backend, map};
use super::pool::{execute, query};
use crate::ids::Tenant;
use crate::store::{StoreError, ThingEventStore};
use crate::things_activity::{NewThingEvent, ThingEvent, stored_value};

const COLUMNS: &str = "id, event_id, thing_uid, name, data, at";

fn record(r: &Row) -> Result<ThingEvent, StoreError> {
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

fn first(rows: Vec<Row>) -> Result<Option<ThingEvent>, StoreError> {
    rows.first().map(record).transpose()
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

async fn list<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    thing: &str,
    name: Option<&str>,
    key: Seek,
    limit: u32,
) -> Result<Vec<ThingEvent>, StoreError> {
    let (op, order, key) = key.sql();
    let limit = i64::from(limit);
    let rows = match name {
        Some(name) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM thing_events WHERE org_id = $1 AND thing_uid = $2 AND name = $3 \
                 AND id {op} $4 ORDER BY id {order} LIMIT $5"
            );
            query(c, &sql, &[&t.id(), &thing, &name, &key, &limit]).await
        }
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM thing_events WHERE org_id = $1 AND thing_uid = $2 \
                 AND id {op} $3 ORDER BY id {order} LIMIT $4"
            );
            query(c, &sql, &[&t.id(), &thing, &key, &limit]).await
        }
    }
    .map_err(backend)?;
    rows.iter().map(record).collect()
}

/// `SELECT` or `DELETE ... RETURNING` of one event by its key.
async fn by_key<C: GenericClient + Sync>(
    c: &C,
    delete: bool,
    t: &Tenant,
    thing: &str,
    name: &str,
    id: &str,
) -> Result<Option<ThingEvent>, StoreError> {
    let filter = "WHERE event_id = $1 AND org_id = $2 AND thing_uid = $3 AND name = $4";
    let sql = if delete {
        format!("DELETE FROM thing_events {filter} RETURNING {COLUMNS}")
    } else {
        format!("SELECT {COLUMNS} FROM thing_events {filter}")
    };
    let rows = query(c, &sql, &[&id, &t.id(), &thing, &name]).await.map_err(backend)?;
    first(rows)
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
        read!(self, |c| by_key(c, false, t, thing, name, id))
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
        write!(self, |c| by_key(c, true, t, thing, name, id))
    }
    async fn delete_thing_events(&self, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
        write!(self, |c| async move {
            execute(
                c,
                "DELETE FROM thing_events WHERE org_id = $1 AND thing_uid = $2",
                &[&t.id(), &thing],
            )
            .await
            .map_err(backend)
        })
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
