//! What the SQL of thing actions and thing events shares: both tables are
//! keyed `(org_id, thing_uid, name, <record id>)` with an `id` sequence
//! that orders lists, so reads by key, keyset lists and deletes are one
//! piece of code over a [`Record`] (see `thing_actions.rs`, `thing_events.rs`).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::errors::backend;
use super::pool::{execute, query};
use crate::ids::Tenant;
use crate::store::{Seek, StoreError};

/// A record kept in a table of thing activity.
pub(super) trait Record: Sized {
    /// The table.
    const TABLE: &'static str;
    /// The column of the record's id (a uuid).
    const ID: &'static str;
    /// The columns read, `id` (the sequence) first.
    const COLUMNS: &'static str;
    /// The record of a row of [`Record::COLUMNS`].
    fn record(r: &Row) -> Result<Self, StoreError>;
}

/// The first record of `rows`, if any.
pub(super) fn first<R: Record>(rows: Vec<Row>) -> Result<Option<R>, StoreError> {
    rows.first().map(R::record).transpose()
}

/// Reads (or with `delete`, deletes and returns) record `id` of `name` of `thing`.
pub(super) async fn by_key<R: Record, C: GenericClient + Sync>(
    c: &C,
    delete: bool,
    t: &Tenant,
    (thing, name, id): (&str, &str, &str),
) -> Result<Option<R>, StoreError> {
    let (table, id_column, columns) = (R::TABLE, R::ID, R::COLUMNS);
    let filter = format!("WHERE {id_column} = $1 AND org_id = $2 AND thing_uid = $3 AND name = $4");
    let sql = if delete {
        format!("DELETE FROM {table} {filter} RETURNING {columns}")
    } else {
        format!("SELECT {columns} FROM {table} {filter}")
    };
    let rows = query(c, &sql, &[&id, &t.id(), &thing, &name]).await.map_err(backend)?;
    first(rows)
}

/// Up to `limit` records of `thing` (of `name` only, when given) on the
/// side of `key` it seeks, nearest first.
pub(super) async fn list<R: Record, C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    thing: &str,
    name: Option<&str>,
    key: Seek,
    limit: u32,
) -> Result<Vec<R>, StoreError> {
    let (op, order, key) = key.sql();
    let (table, columns) = (R::TABLE, R::COLUMNS);
    // Two statements, so that each has its plan (a name is an index column).
    let by_name = if name.is_some() {
        "name = $5::text"
    } else {
        "$5::text IS NULL"
    };
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE org_id = $1 AND thing_uid = $2 AND {by_name} \
         AND id {op} $3 ORDER BY id {order} LIMIT $4"
    );
    let rows = query(c, &sql, &[&t.id(), &thing, &key, &i64::from(limit), &name])
        .await
        .map_err(backend)?;
    rows.iter().map(R::record).collect()
}

/// Deletes every record of `thing`; how many.
pub(super) async fn delete_all<R: Record, C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    thing: &str,
) -> Result<u64, StoreError> {
    let sql = format!("DELETE FROM {} WHERE org_id = $1 AND thing_uid = $2", R::TABLE);
    execute(c, &sql, &[&t.id(), &thing]).await.map_err(backend)
}
