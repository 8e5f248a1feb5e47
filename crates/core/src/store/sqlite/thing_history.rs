//! Property history SQL: `thing_history`, keyed `(org, things, uuid, at,
//! property)`, so the history of one thing over a time range is one range
//! of that index.

use rusqlite::{Connection, params, params_from_iter};

use super::errors::{backend, map};
use crate::ids::Tenant;
use crate::records::rfc3339;
use crate::store::StoreError;
use crate::things::{HistoryDelete, HistoryRow, HistorySpec};

pub(super) use crate::store::thing_query::PRUNE_BATCH;

fn exists(c: &Connection, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let found = c
        .prepare_cached("SELECT 1 FROM documents WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2")
        .and_then(|mut s| s.exists(params![t.id(), uuid]))
        .map_err(backend)?;
    if found {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!("thing {uuid}")))
    }
}

pub(super) fn add(c: &Connection, t: &Tenant, uuid: &str, rows: &[HistoryRow]) -> Result<(), StoreError> {
    exists(c, t, uuid)?;
    let mut s = c
        .prepare_cached(
            "INSERT INTO thing_history (org_id, collection, uuid, at, name, value) VALUES (?1, 'things', ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    for r in rows {
        s.execute(params![t.id(), uuid, r.at, r.name, r.value]).map_err(|e| {
            map(
                e,
                &format!("a value of property {} at {}", r.name, rfc3339::format(r.at)),
            )
        })?;
    }
    Ok(())
}

const BASE: &str = "org_id = ?1 AND collection = 'things' AND uuid = ?2 AND at >= ?3 AND at <= ?4 \
                    AND (?5 IS NULL OR name = ?5)";

fn row(r: &rusqlite::Row) -> rusqlite::Result<HistoryRow> {
    Ok(HistoryRow {
        at: r.get(0)?,
        name: r.get(1)?,
        value: r.get(2)?,
    })
}

pub(super) fn page(
    c: &Connection,
    t: &Tenant,
    uuid: &str,
    spec: &HistorySpec,
) -> Result<(Vec<HistoryRow>, bool), StoreError> {
    exists(c, t, uuid)?;
    let w = spec.window();
    let (start, end, op, order) = (w.start, w.end, w.op, w.order);
    let limit = i64::from(spec.limit);
    if spec.group {
        let ats: Vec<i64> = c
            .prepare_cached(&format!(
                "SELECT DISTINCT at FROM thing_history WHERE {BASE} AND at {op} ?6 ORDER BY at {order} LIMIT ?7"
            ))
            .and_then(|mut s| {
                s.query_map(params![t.id(), uuid, start, end, spec.property, w.at, limit + 1], |r| {
                    r.get(0)
                })?
                .collect()
            })
            .map_err(backend)?;
        let more = ats.len() as i64 > limit;
        let kept = &ats[..ats.len().min(spec.limit as usize)];
        let (Some(lo), Some(hi)) = (kept.iter().min(), kept.iter().max()) else {
            return Ok((Vec::new(), false));
        };
        let rows = c
            .prepare_cached(&format!(
                "SELECT at, name, value FROM thing_history WHERE {BASE} AND at >= ?6 AND at <= ?7 ORDER BY at, name"
            ))
            .and_then(|mut s| {
                s.query_map(params![t.id(), uuid, start, end, spec.property, lo, hi], row)?
                    .collect()
            })
            .map_err(backend)?;
        return Ok((rows, more));
    }
    let mut rows: Vec<HistoryRow> = c
        .prepare_cached(&format!(
            "SELECT at, name, value FROM thing_history WHERE {BASE} AND (at {op} ?6 OR (at = ?6 AND name {op} ?7)) \
             ORDER BY at {order}, name {order} LIMIT ?8"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![t.id(), uuid, start, end, spec.property, w.at, w.name, limit + 1],
                row,
            )?
            .collect()
        })
        .map_err(backend)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(spec.limit as usize);
    if spec.backward() {
        rows.reverse();
    }
    Ok((rows, more))
}

pub(super) fn delete(c: &Connection, t: &Tenant, uuid: &str, w: &HistoryDelete) -> Result<u64, StoreError> {
    exists(c, t, uuid)?;
    let (start, end) = w.range.bounds();
    let mut sql = "DELETE FROM thing_history WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2 \
                   AND at >= ?3 AND at <= ?4"
        .to_owned();
    let mut values = vec![
        rusqlite::types::Value::Integer(t.id()),
        rusqlite::types::Value::Text(uuid.to_owned()),
        rusqlite::types::Value::Integer(start),
        rusqlite::types::Value::Integer(end),
    ];
    if !w.properties.is_empty() {
        let marks: Vec<String> = (0..w.properties.len()).map(|i| format!("?{}", i + 5)).collect();
        sql.push_str(&format!(" AND name IN ({})", marks.join(", ")));
        values.extend(w.properties.iter().map(|p| rusqlite::types::Value::Text(p.clone())));
    }
    let n = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.execute(params_from_iter(values)))
        .map_err(backend)?;
    Ok(n as u64)
}

/// The things of a tenant (whose history a prune visits).
pub(super) fn history_things(c: &Connection, t: &Tenant) -> Result<Vec<String>, StoreError> {
    c.prepare_cached("SELECT uuid FROM documents WHERE org_id = ?1 AND collection = 'things'")
        .and_then(|mut s| s.query_map(params![t.id()], |r| r.get(0))?.collect())
        .map_err(backend)
}

/// Deletes up to [`PRUNE_BATCH`] values of thing `uuid` older than `before`.
pub(super) fn prune_batch(c: &Connection, t: &Tenant, uuid: &str, before: i64) -> Result<u64, StoreError> {
    let n = c
        .prepare_cached(
            "DELETE FROM thing_history WHERE rowid IN \
             (SELECT rowid FROM thing_history \
              WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2 AND at < ?3 ORDER BY at LIMIT ?4)",
        )
        .and_then(|mut s| s.execute(params![t.id(), uuid, before, PRUNE_BATCH as i64]))
        .map_err(backend)?;
    Ok(n as u64)
}
