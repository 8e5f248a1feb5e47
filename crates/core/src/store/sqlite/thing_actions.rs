//! Thing actions SQL.

use crate::store::Seek;
use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use super::errors::map;
use super::thing_activity::{Record, by_key, delete_all, list, one};
use crate::ids::Tenant;
use crate::store::{StoreError, ThingActionStore};
use crate::things_activity::{NewThingAction, PENDING, ThingAction, ThingActionUpdate, stored_value};

const COLUMNS: &str = "id, action_id, thing_uid, name, input, status, output, requested_at, completed_at";

type Raw = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    Option<i64>,
);

impl Record for ThingAction {
    const TABLE: &'static str = "thing_actions";
    const ID: &'static str = "action_id";
    const COLUMNS: &'static str = COLUMNS;
    type Raw = Raw;

    fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ))
    }

    fn record(raw: Raw) -> Result<Self, StoreError> {
        let (seq, id, thing, name, input, status, output, requested, completed) = raw;
        Ok(ThingAction {
            id,
            seq,
            thing,
            name,
            input: input.as_deref().map(stored_value).transpose()?,
            status,
            output: output.as_deref().map(stored_value).transpose()?,
            time_requested: requested,
            time_completed: completed,
        })
    }
}

fn create(c: &Connection, t: &Tenant, a: NewThingAction) -> Result<ThingAction, StoreError> {
    let sql = format!(
        "INSERT INTO thing_actions (action_id, org_id, thing_uid, name, input, status, requested_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {COLUMNS}"
    );
    c.prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(
                params![a.id, t.id(), a.thing, a.name, a.input, PENDING, a.requested_at],
                ThingAction::raw,
            )
        })
        .map_err(|e| map(e, &format!("action {}", a.id)))
        .and_then(ThingAction::record)
}

/// One statement: SET expressions read the row as it was, so the status
/// comparison sees the old status.
fn update(
    c: &Connection,
    t: &Tenant,
    key: &(String, String, String),
    u: &ThingActionUpdate,
    now: i64,
) -> Result<Option<ThingAction>, StoreError> {
    let sql = format!(
        "UPDATE thing_actions SET status = COALESCE(?5, status), output = COALESCE(?6, output), \
         completed_at = CASE WHEN ?5 IS NULL OR ?5 = status THEN completed_at \
         WHEN ?5 IN ('completed', 'failed') THEN ?7 ELSE NULL END \
         WHERE org_id = ?1 AND thing_uid = ?2 AND name = ?3 AND action_id = ?4 RETURNING {COLUMNS}"
    );
    one(c, &sql, params![t.id(), key.0, key.1, key.2, u.status, u.output, now])
}

#[async_trait::async_trait]
impl ThingActionStore for SqliteStore {
    async fn create_thing_action(&self, t: &Tenant, action: NewThingAction) -> Result<ThingAction, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| create(c, &t, action)).await
    }
    async fn thing_action(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingAction>, StoreError> {
        let (t, key) = (t.clone(), (thing.to_owned(), name.to_owned(), id.to_owned()));
        self.pool.read(move |c| by_key(c, false, &t, &key)).await
    }
    async fn list_thing_actions(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ThingAction>, StoreError> {
        let (t, thing, name) = (t.clone(), thing.to_owned(), name.map(str::to_owned));
        let key = Seek::Older(before_seq.unwrap_or(i64::MAX));
        self.pool
            .read(move |c| list(c, &t, &thing, name.as_deref(), key, limit))
            .await
    }
    async fn list_thing_actions_after(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ThingAction>, StoreError> {
        let (t, thing, name) = (t.clone(), thing.to_owned(), name.map(str::to_owned));
        self.pool
            .read(move |c| list(c, &t, &thing, name.as_deref(), Seek::Newer(after_seq), limit))
            .await
    }
    async fn update_thing_action(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
        update_: ThingActionUpdate,
        now_ms: i64,
    ) -> Result<Option<ThingAction>, StoreError> {
        let t = t.clone();
        let key = (thing.to_owned(), name.to_owned(), id.to_owned());
        self.pool.write(move |c| update(c, &t, &key, &update_, now_ms)).await
    }
    async fn delete_thing_action(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingAction>, StoreError> {
        let (t, key) = (t.clone(), (thing.to_owned(), name.to_owned(), id.to_owned()));
        self.pool.write(move |c| by_key(c, true, &t, &key)).await
    }
    async fn delete_thing_actions(&self, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
        let (t, thing) = (t.clone(), thing.to_owned());
        self.pool.write(move |c| delete_all::<ThingAction>(c, &t, &thing)).await
    }
}
