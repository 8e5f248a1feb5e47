//! Property history SQL: `thing_history`, keyed `(org, things, uuid, at,
//! property)`, so the history of one thing over a time range is one range
//! of its primary key; the same rules as the SQLite store.

use deadpool_postgres::GenericClient;

use super::errors::{backend, map};
use super::pool::{execute, query};
use crate::ids::Tenant;
use crate::store::StoreError;
use crate::store::thing_query::PRUNE_BATCH;
use crate::things::{HistoryDelete, HistoryRow, HistorySpec};

async fn exists<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let found = query(
        c,
        "SELECT 1 FROM documents WHERE org_id = $1 AND collection = 'things' AND uuid = $2",
        &[&t.id(), &uuid],
    )
    .await
    .map_err(backend)?;
    if found.is_empty() {
        Err(StoreError::NotFound(format!("thing {uuid}")))
    } else {
        Ok(())
    }
}

pub(super) async fn add<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    rows: &[HistoryRow],
) -> Result<(), StoreError> {
    exists(c, t, uuid).await?;
    let ats: Vec<i64> = rows.iter().map(|r| r.at).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let values: Vec<&str> = rows.iter().map(|r| r.value.as_str()).collect();
    execute(
        c,
        "INSERT INTO thing_history (org_id, collection, uuid, at, name, value) \
         SELECT $1, 'things', $2, a, n, v FROM unnest($3::bigint[], $4::text[], $5::text[]) AS u(a, n, v)",
        &[&t.id(), &uuid, &ats, &names, &values],
    )
    .await
    .map_err(|e| map(e, "a value of one of these properties at one of these instants"))?;
    Ok(())
}

const BASE: &str = "org_id = $1 AND collection = 'things' AND uuid = $2 AND at >= $3 AND at <= $4 \
                    AND ($5::text IS NULL OR name = $5::text)";

fn row(r: &tokio_postgres::Row) -> HistoryRow {
    HistoryRow {
        at: r.get(0),
        name: r.get(1),
        value: r.get(2),
    }
}

pub(super) async fn page<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    spec: &HistorySpec,
) -> Result<(Vec<HistoryRow>, bool), StoreError> {
    exists(c, t, uuid).await?;
    let w = spec.window();
    let (start, end, op, order) = (w.start, w.end, w.op, w.order);
    let limit = i64::from(spec.limit);
    if spec.group {
        let ats: Vec<i64> = query(
            c,
            &format!("SELECT DISTINCT at FROM thing_history WHERE {BASE} AND at {op} $6 ORDER BY at {order} LIMIT $7"),
            &[&t.id(), &uuid, &start, &end, &spec.property, &w.at, &(limit + 1)],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let more = ats.len() as i64 > limit;
        let kept = &ats[..ats.len().min(spec.limit as usize)];
        let (Some(lo), Some(hi)) = (kept.iter().min(), kept.iter().max()) else {
            return Ok((Vec::new(), false));
        };
        let rows = query(
            c,
            &format!(
                "SELECT at, name, value FROM thing_history WHERE {BASE} AND at >= $6 AND at <= $7 \
                 ORDER BY at, name COLLATE \"C\""
            ),
            &[&t.id(), &uuid, &start, &end, &spec.property, lo, hi],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(row)
        .collect();
        return Ok((rows, more));
    }
    let mut rows: Vec<HistoryRow> = query(
        c,
        &format!(
            "SELECT at, name, value FROM thing_history WHERE {BASE} \
             AND (at {op} $6 OR (at = $6 AND name COLLATE \"C\" {op} $7)) \
             ORDER BY at {order}, name COLLATE \"C\" {order} LIMIT $8"
        ),
        &[
            &t.id(),
            &uuid,
            &start,
            &end,
            &spec.property,
            &w.at,
            &w.name,
            &(limit + 1),
        ],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(row)
    .collect();
    let more = rows.len() as i64 > limit;
    rows.truncate(spec.limit as usize);
    if spec.backward() {
        rows.reverse();
    }
    Ok((rows, more))
}

pub(super) async fn delete<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    w: &HistoryDelete,
) -> Result<u64, StoreError> {
    exists(c, t, uuid).await?;
    let (start, end) = w.range.bounds();
    execute(
        c,
        "DELETE FROM thing_history WHERE org_id = $1 AND collection = 'things' AND uuid = $2 \
         AND at >= $3 AND at <= $4 AND (cardinality($5::text[]) = 0 OR name = ANY($5::text[]))",
        &[&t.id(), &uuid, &start, &end, &w.properties],
    )
    .await
    .map_err(backend)
}

pub(super) async fn history_things<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<Vec<String>, StoreError> {
    Ok(query(
        c,
        "SELECT uuid FROM documents WHERE org_id = $1 AND collection = 'things'",
        &[&t.id()],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

pub(super) async fn prune_batch<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    before: i64,
) -> Result<u64, StoreError> {
    execute(
        c,
        "DELETE FROM thing_history WHERE ctid = ANY(ARRAY(SELECT ctid FROM thing_history \
         WHERE org_id = $1 AND collection = 'things' AND uuid = $2 AND at < $3 ORDER BY at LIMIT $4))",
        &[&t.id(), &uuid, &before, &(PRUNE_BATCH as i64)],
    )
    .await
    .map_err(backend)
}
