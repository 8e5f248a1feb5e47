//! Thing actions SQL.

use crate::store::Seek;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::PgStore;
use super::errors::{backend, map};
use super::pool::query;
use super::thing_activity::{Record, by_key, delete_all, first, list};
use crate::ids::Tenant;
use crate::store::{StoreError, ThingActionStore};
use crate::things_activity::{NewThingAction, PENDING, ThingAction, ThingActionUpdate, stored_value};

const COLUMNS: &str = "id, action_id, thing_uid, name, input, status, output, requested_at, completed_at";

impl Record for ThingAction {
    const TABLE: &'static str = "thing_actions";
    const ID: &'static str = "action_id";
    const COLUMNS: &'static str = COLUMNS;

    fn record(r: &Row) -> Result<Self, StoreError> {
        let input: Option<String> = r.get(4);
        let output: Option<String> = r.get(6);
        Ok(ThingAction {
            seq: r.get(0),
            id: r.get(1),
            thing: r.get(2),
            name: r.get(3),
            input: input.as_deref().map(stored_value).transpose()?,
            status: r.get(5),
            output: output.as_deref().map(stored_value).transpose()?,
            time_requested: r.get(7),
            time_completed: r.get(8),
        })
    }
}

async fn create<C: GenericClient + Sync>(c: &C, t: &Tenant, a: &NewThingAction) -> Result<ThingAction, StoreError> {
    let sql = format!(
        "INSERT INTO thing_actions (action_id, org_id, thing_uid, name, input, status, requested_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let rows = query(
        c,
        &sql,
        &[&a.id, &t.id(), &a.thing, &a.name, &a.input, &PENDING, &a.requested_at],
    )
    .await
    .map_err(|e| map(e, &format!("action {}", a.id)))?;
    first(rows)?.ok_or_else(|| StoreError::Backend("INSERT returned no row".into()))
}

/// One statement: SET expressions read the row as it was, so the status
/// comparison sees the old status.
async fn update<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    key: (&str, &str, &str),
    u: &ThingActionUpdate,
    now: i64,
) -> Result<Option<ThingAction>, StoreError> {
    let sql = format!(
        "UPDATE thing_actions SET status = COALESCE($5::TEXT, status), output = COALESCE($6::TEXT, output), \
         completed_at = CASE WHEN $5::TEXT IS NULL OR $5::TEXT = status THEN completed_at \
         WHEN $5::TEXT IN ('completed', 'failed') THEN $7::BIGINT ELSE NULL END \
         WHERE org_id = $1 AND thing_uid = $2 AND name = $3 AND action_id = $4 RETURNING {COLUMNS}"
    );
    let rows = query(c, &sql, &[&t.id(), &key.0, &key.1, &key.2, &u.status, &u.output, &now])
        .await
        .map_err(backend)?;
    first(rows)
}

#[async_trait::async_trait]
impl ThingActionStore for PgStore {
    async fn create_thing_action(&self, t: &Tenant, action: NewThingAction) -> Result<ThingAction, StoreError> {
        write!(self, |c| create(c, t, &action))
    }
    async fn thing_action(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingAction>, StoreError> {
        read!(self, |c| by_key(c, false, t, (thing, name, id)))
    }
    async fn list_thing_actions(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ThingAction>, StoreError> {
        let key = Seek::Older(before_seq.unwrap_or(i64::MAX));
        read!(self, |c| list(c, t, thing, name, key, limit))
    }
    async fn list_thing_actions_after(
        &self,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ThingAction>, StoreError> {
        read!(self, |c| list(c, t, thing, name, Seek::Newer(after_seq), limit))
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
        write!(self, |c| update(c, t, (thing, name, id), &update_, now_ms))
    }
    async fn delete_thing_action(
        &self,
        t: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingAction>, StoreError> {
        write!(self, |c| by_key(c, true, t, (thing, name, id)))
    }
    async fn delete_thing_actions(&self, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
        write!(self, |c| delete_all::<ThingAction, _>(c, t, thing))
    }
}
