//! What the SQL of thing actions and thing events shares: both tables are
//! keyed `(org_id, thing_uid, name, <record id>)` with an `id` sequence
//! that orders lists, so reads by key, keyset lists and deletes are one
//! piece of code over a [`Record`] (see `thing_actions.rs`, `thing_events.rs`).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::errors::backend;
use crate::ids::Tenant;
use crate::store::{Seek, StoreError};

/// A record kept in a table of thing activity.
pub(super) trait Record: Sized + Send + 'static {
    /// The table.
    const TABLE: &'static str;
    /// The column of the record's id (a uuid).
    const ID: &'static str;
    /// The columns read, `id` (the sequence) first.
    const COLUMNS: &'static str;
    /// A row as read, before its JSON is parsed.
    type Raw;
    /// Reads [`Record::COLUMNS`] of a row.
    fn raw(r: &Row<'_>) -> rusqlite::Result<Self::Raw>;
    /// The record of a row.
    fn record(raw: Self::Raw) -> Result<Self, StoreError>;
}

/// The record `sql` answers with `p`, if any.
pub(super) fn one<R: Record>(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Option<R>, StoreError> {
    c.prepare_cached(sql)
        .and_then(|mut s| s.query_row(p, R::raw).optional())
        .map_err(backend)?
        .map(R::record)
        .transpose()
}

/// Reads (or with `delete`, deletes and returns) record `id` of `name` of `thing`.
pub(super) fn by_key<R: Record>(
    c: &Connection,
    delete: bool,
    t: &Tenant,
    key: &(String, String, String),
) -> Result<Option<R>, StoreError> {
    let (table, id, columns) = (R::TABLE, R::ID, R::COLUMNS);
    let filter = format!("WHERE {id} = ?1 AND org_id = ?2 AND thing_uid = ?3 AND name = ?4");
    let sql = if delete {
        format!("DELETE FROM {table} {filter} RETURNING {columns}")
    } else {
        format!("SELECT {columns} FROM {table} {filter}")
    };
    let (thing, name, record) = key;
    one(c, &sql, params![record, t.id(), thing, name])
}

/// Up to `limit` records of `thing` (of `name` only, when given) on the
/// side of `key` it seeks, nearest first.
pub(super) fn list<R: Record>(
    c: &Connection,
    t: &Tenant,
    thing: &str,
    name: Option<&str>,
    key: Seek,
    limit: u32,
) -> Result<Vec<R>, StoreError> {
    let (op, order, key) = key.sql();
    let (table, columns) = (R::TABLE, R::COLUMNS);
    // Two statements, so that each has its plan (a name is an index column).
    let by_name = if name.is_some() { "name = ?5" } else { "?5 IS NULL" };
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE org_id = ?1 AND thing_uid = ?2 AND {by_name} \
         AND id {op} ?3 ORDER BY id {order} LIMIT ?4"
    );
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params![t.id(), thing, key, limit, name], R::raw)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<R::Raw>>>)
        })
        .map_err(backend)?;
    rows.into_iter().map(R::record).collect()
}

/// Deletes every record of `thing`; how many.
pub(super) fn delete_all<R: Record>(c: &Connection, t: &Tenant, thing: &str) -> Result<u64, StoreError> {
    c.execute(
        &format!("DELETE FROM {} WHERE org_id = ?1 AND thing_uid = ?2", R::TABLE),
        params![t.id(), thing],
    )
    .map(|n| n as u64)
    .map_err(backend)
}
