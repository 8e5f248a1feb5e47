//! Thing SQL (things API): categories, thing documents (rows of
//! `documents`, collection `things`), current property values; the same
//! tables and rules as the SQLite store. Writes of several rows are one
//! transaction; a property write is a handful of statements whatever the
//! number of values (`unnest` arrays). The history is in `thing_history.rs`.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::documents::put_terms;
use super::errors::{backend, map};
use super::pool::{execute, query};
use crate::documents::{Collection, NewDocument};
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::thing_query::{Dialect, Param, find_sql, key_kinds, recategorised, select_uids_sql};
use crate::store::{NewThing, PropertyWrite, StoreError, THING_CHANGED, ThingStore};
use crate::things::{
    Category, CategoryDraft, HistoryDelete, HistoryRow, HistorySpec, KeyKind, KeyValue, StoredThing, ThingFilter,
    ThingModel, ThingQuery,
};

const DIALECT: Dialect = Dialect {
    ph: |n| format!("${n}"),
    collate: " COLLATE \"C\"",
    contains: |hay, needle| format!("strpos({hay}, {needle}) > 0"),
};

/// Runs dynamic SQL (not cached: filters make many shapes).
async fn dynamic<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: &[Param],
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let boxed: Vec<Box<dyn ToSql + Sync + Send>> = params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                Param::Int(i) => Box::new(*i),
                Param::Real(f) => Box::new(*f),
                Param::Text(s) => Box::new(s.clone()),
            }
        })
        .collect();
    let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref() as &(dyn ToSql + Sync)).collect();
    c.query(sql, &refs).await.map_err(backend)
}

// --- categories

const CATEGORY_COLUMNS: &str = "name, description, model_name, model_version, created_at, updated_at";

fn category_row(r: &tokio_postgres::Row) -> Category {
    let model_name: Option<String> = r.get(2);
    Category {
        name: r.get(0),
        description: r.get(1),
        model: model_name.map(|name| ThingModel {
            name,
            version: r.get(3),
        }),
        created_ms: r.get(4),
        modified_ms: r.get(5),
    }
}

async fn category<C: GenericClient + Sync>(c: &C, t: &Tenant, name: &str) -> Result<Option<Category>, StoreError> {
    Ok(query(
        c,
        &format!("SELECT {CATEGORY_COLUMNS} FROM thing_categories WHERE org_id = $1 AND name = $2"),
        &[&t.id(), &name],
    )
    .await
    .map_err(backend)?
    .first()
    .map(category_row))
}

async fn create_category<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    d: &CategoryDraft,
) -> Result<Category, StoreError> {
    let rows = query(
        c,
        &format!(
            "INSERT INTO thing_categories (org_id, name, description, model_name, model_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {CATEGORY_COLUMNS}"
        ),
        &[
            &t.id(),
            &d.name,
            &d.description,
            &d.model.as_ref().map(|m| m.name.clone()),
            &d.model.as_ref().and_then(|m| m.version.clone()),
            &now_ms(),
        ],
    )
    .await
    .map_err(|e| map(e, &format!("category {}", d.name)))?;
    rows.first()
        .map(category_row)
        .ok_or_else(|| StoreError::Backend("a created category is missing".into()))
}

async fn update_category<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    name: &str,
    d: &CategoryDraft,
) -> Result<(Category, Vec<String>), StoreError> {
    let rows = query(
        c,
        &format!(
            "UPDATE thing_categories SET name = $3, description = $4, model_name = $5, model_version = $6, \
             updated_at = $7 WHERE org_id = $1 AND name = $2 RETURNING {CATEGORY_COLUMNS}"
        ),
        &[
            &t.id(),
            &name,
            &d.name,
            &d.description,
            &d.model.as_ref().map(|m| m.name.clone()),
            &d.model.as_ref().and_then(|m| m.version.clone()),
            &now_ms(),
        ],
    )
    .await
    .map_err(|e| map(e, &format!("category {}", d.name)))?;
    let Some(cat) = rows.first().map(category_row) else {
        return Err(StoreError::NotFound(format!("category {name}")));
    };
    let moved = if name == d.name {
        Vec::new()
    } else {
        rewrite_members(c, t, name, Some(&d.name)).await?
    };
    Ok((cat, moved))
}

async fn delete_category<C: GenericClient + Sync>(c: &C, t: &Tenant, name: &str) -> Result<Vec<String>, StoreError> {
    let n = execute(
        c,
        "DELETE FROM thing_categories WHERE org_id = $1 AND name = $2",
        &[&t.id(), &name],
    )
    .await
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("category {name}")));
    }
    rewrite_members(c, t, name, None).await
}

async fn rewrite_members<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    old: &str,
    new: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let rows = query(
        c,
        "SELECT d.uuid, d.body FROM documents d WHERE d.org_id = $1 AND d.collection = 'things' AND EXISTS \
         (SELECT 1 FROM document_terms t WHERE t.org_id = d.org_id AND t.collection = d.collection \
          AND t.uuid = d.uuid AND t.path = 'categories' AND t.value = $2) FOR UPDATE",
        &[&t.id(), &old],
    )
    .await
    .map_err(backend)?;
    let mut uuids = Vec::with_capacity(rows.len());
    for r in rows {
        let (uuid, body): (String, String) = (r.get(0), r.get(1));
        let doc = recategorised(&uuid, &body, old, new)?;
        update_document(c, t, &doc).await?;
        uuids.push(uuid);
    }
    Ok(uuids)
}

// --- things

async fn update_document<C: GenericClient + Sync>(c: &C, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    let n = execute(
        c,
        "UPDATE documents SET body = $3, updated_at = $4 WHERE org_id = $1 AND collection = 'things' AND uuid = $2",
        &[&t.id(), &doc.uuid, &doc.body, &now_ms()],
    )
    .await
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("thing {}", doc.uuid)));
    }
    put_terms(c, t, doc).await
}

async fn status<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<Vec<(String, String)>, StoreError> {
    Ok(query(
        c,
        "SELECT name, value FROM thing_status WHERE org_id = $1 AND collection = 'things' AND uuid = $2 \
         ORDER BY name COLLATE \"C\"",
        &[&t.id(), &uuid],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

async fn thing<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<Option<StoredThing>, StoreError> {
    let rows = query(
        c,
        "SELECT body, created_at, updated_at FROM documents WHERE org_id = $1 AND collection = 'things' AND uuid = $2",
        &[&t.id(), &uuid],
    )
    .await
    .map_err(backend)?;
    let Some(r) = rows.first() else { return Ok(None) };
    Ok(Some(StoredThing {
        uuid: uuid.to_owned(),
        body: r.get(0),
        created_at: r.get(1),
        updated_at: r.get(2),
        status: status(c, t, uuid).await?,
    }))
}

async fn check_categories<C: GenericClient + Sync>(c: &C, t: &Tenant, names: &[String]) -> Result<(), StoreError> {
    if names.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = query(
        c,
        "SELECT name FROM thing_categories WHERE org_id = $1 AND name = ANY($2::text[]) FOR SHARE",
        &[&t.id(), &names],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| r.get(0))
    .collect();
    match names.iter().find(|n| !found.contains(n)) {
        Some(missing) => Err(StoreError::NotFound(format!("category {missing}"))),
        None => Ok(()),
    }
}

async fn create_thing<C: GenericClient + Sync>(c: &C, t: &Tenant, thing: &NewThing) -> Result<StoredThing, StoreError> {
    if thing.doc.collection != Collection::Things {
        return Err(StoreError::Backend("a thing is a document of collection things".into()));
    }
    check_categories(c, t, &thing.categories).await?;
    super::documents::insert(c, t, &thing.doc).await?;
    self::thing(c, t, &thing.doc.uuid)
        .await?
        .ok_or_else(|| StoreError::Backend("a created thing is missing".into()))
}

async fn locked_body<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    lock: &str,
) -> Result<Option<String>, StoreError> {
    Ok(query(
        c,
        &format!("SELECT body FROM documents WHERE org_id = $1 AND collection = 'things' AND uuid = $2 {lock}"),
        &[&t.id(), &uuid],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| r.get(0)))
}

async fn replace_thing<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    thing: &NewThing,
    expected: Option<&str>,
) -> Result<StoredThing, StoreError> {
    let uuid = &thing.doc.uuid;
    let Some(current) = locked_body(c, t, uuid, "FOR UPDATE").await? else {
        return Err(StoreError::NotFound(format!("thing {uuid}")));
    };
    if expected.is_some_and(|e| e != current) {
        return Err(StoreError::Conflict(THING_CHANGED.into()));
    }
    check_categories(c, t, &thing.categories).await?;
    update_document(c, t, &thing.doc).await?;
    execute(
        c,
        "DELETE FROM thing_status WHERE org_id = $1 AND collection = 'things' AND uuid = $2 \
         AND NOT (name = ANY($3::text[]))",
        &[&t.id(), uuid, &thing.properties],
    )
    .await
    .map_err(backend)?;
    self::thing(c, t, uuid)
        .await?
        .ok_or_else(|| StoreError::Backend("a replaced thing is missing".into()))
}

async fn delete_thing<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let n = execute(
        c,
        "DELETE FROM documents WHERE org_id = $1 AND collection = 'things' AND uuid = $2",
        &[&t.id(), &uuid],
    )
    .await
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("thing {uuid}")));
    }
    Ok(())
}

fn key_value(r: &tokio_postgres::Row, i: usize, kind: KeyKind) -> KeyValue {
    match kind {
        KeyKind::Int => r.get::<_, Option<i64>>(i).map_or(KeyValue::Null, KeyValue::Int),
        KeyKind::Real => r.get::<_, Option<f64>>(i).map_or(KeyValue::Null, KeyValue::Real),
        KeyKind::Text => r.get::<_, Option<String>>(i).map_or(KeyValue::Null, KeyValue::Text),
    }
}

type Found = (Vec<(StoredThing, Vec<KeyValue>)>, bool);

async fn find_things<C: GenericClient + Sync>(c: &C, t: &Tenant, q: &ThingQuery) -> Result<Found, StoreError> {
    let built = find_sql(&DIALECT, t.id(), q);
    let kinds = key_kinds(q);
    let rows = dynamic(c, &built.sql, &built.params).await?;
    let more = rows.len() > q.limit as usize;
    let mut things = Vec::with_capacity(rows.len());
    let mut keyed = Vec::with_capacity(rows.len());
    for r in rows.iter().take(q.limit as usize) {
        let uuid: String = r.get(0);
        let mut keys: Vec<KeyValue> = kinds.iter().enumerate().map(|(i, k)| key_value(r, 4 + i, *k)).collect();
        keys.push(KeyValue::Text(uuid.clone()));
        keyed.push(keys);
        things.push(StoredThing {
            uuid,
            body: r.get(1),
            created_at: r.get(2),
            updated_at: r.get(3),
            status: Vec::new(),
        });
    }
    if !things.is_empty() {
        let uuids: Vec<&str> = things.iter().map(|t| t.uuid.as_str()).collect();
        let rows = query(
            c,
            "SELECT uuid, name, value FROM thing_status WHERE org_id = $1 AND collection = 'things' \
             AND uuid = ANY($2::text[]) ORDER BY uuid, name COLLATE \"C\"",
            &[&t.id(), &uuids],
        )
        .await
        .map_err(backend)?;
        for r in rows {
            let uuid: String = r.get(0);
            if let Some(th) = things.iter_mut().find(|th| th.uuid == uuid) {
                th.status.push((r.get(1), r.get(2)));
            }
        }
    }
    Ok((things.into_iter().zip(keyed).collect(), more))
}

async fn delete_things<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    f: &ThingFilter,
    limit: u32,
) -> Result<Vec<String>, StoreError> {
    let built = select_uids_sql(&DIALECT, t.id(), f, limit);
    let uuids: Vec<String> = dynamic(c, &built.sql, &built.params)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    execute(
        c,
        "DELETE FROM documents WHERE org_id = $1 AND collection = 'things' AND uuid = ANY($2::text[])",
        &[&t.id(), &uuids],
    )
    .await
    .map_err(backend)?;
    Ok(uuids)
}

async fn write_properties<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    expected: &str,
    values: &[PropertyWrite],
    at: i64,
    history: bool,
) -> Result<(), StoreError> {
    // FOR SHARE: a replace of the thing waits for this write (and the reverse).
    let same: Option<bool> = query(
        c,
        "SELECT body = $3 FROM documents WHERE org_id = $1 AND collection = 'things' AND uuid = $2 FOR SHARE",
        &[&t.id(), &uuid, &expected],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| r.get(0));
    match same {
        None => return Err(StoreError::NotFound(format!("thing {uuid}"))),
        Some(false) => return Err(StoreError::Conflict(THING_CHANGED.into())),
        Some(true) => {}
    }
    let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
    let texts: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
    let nums: Vec<Option<f64>> = values.iter().map(|v| v.number).collect();
    let strs: Vec<Option<&str>> = values.iter().map(|v| v.text.as_deref()).collect();
    // A value of an older instant than the current one (a write that took
    // its instant first but committed last) goes to the history only: the
    // current value is always that of the newest instant.
    execute(
        c,
        "INSERT INTO thing_status (org_id, collection, uuid, name, value, num, str, updated_at) \
         SELECT $1, 'things', $2, n, v, x, s, $7 FROM unnest($3::text[], $4::text[], $5::float8[], $6::text[]) \
         AS u(n, v, x, s) \
         ON CONFLICT (org_id, collection, uuid, name) DO UPDATE SET value = EXCLUDED.value, num = EXCLUDED.num, \
         str = EXCLUDED.str, updated_at = EXCLUDED.updated_at \
         WHERE thing_status.updated_at <= EXCLUDED.updated_at",
        &[&t.id(), &uuid, &names, &texts, &nums, &strs, &at],
    )
    .await
    .map_err(backend)?;
    if history {
        execute(
            c,
            "INSERT INTO thing_history (org_id, collection, uuid, at, name, value) \
             SELECT $1, 'things', $2, $3, n, v FROM unnest($4::text[], $5::text[]) AS u(n, v) \
             ON CONFLICT (org_id, collection, uuid, at, name) DO UPDATE SET value = EXCLUDED.value",
            &[&t.id(), &uuid, &at, &names, &texts],
        )
        .await
        .map_err(backend)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl ThingStore for PgStore {
    async fn create_category(&self, t: &Tenant, d: &CategoryDraft) -> Result<Category, StoreError> {
        write!(self, |c| create_category(c, t, d))
    }
    async fn category(&self, t: &Tenant, name: &str) -> Result<Option<Category>, StoreError> {
        read!(self, |c| category(c, t, name))
    }
    async fn list_categories(&self, t: &Tenant, after: Option<&str>, limit: u32) -> Result<Vec<Category>, StoreError> {
        read!(self, |c| async {
            Ok(query(
                c,
                &format!(
                    "SELECT {CATEGORY_COLUMNS} FROM thing_categories WHERE org_id = $1 \
                     AND ($2::text IS NULL OR name COLLATE \"C\" > $2::text) ORDER BY name COLLATE \"C\" LIMIT $3"
                ),
                &[&t.id(), &after, &i64::from(limit)],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(category_row)
            .collect())
        })
    }
    async fn list_categories_before(&self, t: &Tenant, before: &str, limit: u32) -> Result<Vec<Category>, StoreError> {
        read!(self, |c| async {
            Ok(query(
                c,
                &format!(
                    "SELECT {CATEGORY_COLUMNS} FROM thing_categories WHERE org_id = $1 \
                     AND name COLLATE \"C\" < $2::text ORDER BY name COLLATE \"C\" DESC LIMIT $3"
                ),
                &[&t.id(), &before, &i64::from(limit)],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(category_row)
            .collect())
        })
    }
    async fn update_category(
        &self,
        t: &Tenant,
        name: &str,
        d: &CategoryDraft,
    ) -> Result<(Category, Vec<String>), StoreError> {
        transaction!(self, |tx| update_category(&tx, t, name, d))
    }
    async fn delete_category(&self, t: &Tenant, name: &str) -> Result<Vec<String>, StoreError> {
        transaction!(self, |tx| delete_category(&tx, t, name))
    }
    async fn create_thing(&self, t: &Tenant, thing: NewThing) -> Result<StoredThing, StoreError> {
        transaction!(self, |tx| create_thing(&tx, t, &thing))
    }
    async fn thing(&self, t: &Tenant, uid: &str) -> Result<Option<StoredThing>, StoreError> {
        read!(self, |c| thing(c, t, uid))
    }
    async fn replace_thing(
        &self,
        t: &Tenant,
        thing: NewThing,
        expected: Option<String>,
    ) -> Result<StoredThing, StoreError> {
        transaction!(self, |tx| replace_thing(&tx, t, &thing, expected.as_deref()))
    }
    async fn delete_thing(&self, t: &Tenant, uid: &str) -> Result<(), StoreError> {
        write!(self, |c| delete_thing(c, t, uid))
    }
    async fn find_things(&self, t: &Tenant, q: &ThingQuery) -> Result<Found, StoreError> {
        read!(self, |c| find_things(c, t, q))
    }
    async fn delete_things(&self, t: &Tenant, f: &ThingFilter, limit: u32) -> Result<Vec<String>, StoreError> {
        transaction!(self, |tx| delete_things(&tx, t, f, limit))
    }
    async fn write_properties(
        &self,
        t: &Tenant,
        uid: &str,
        expected: String,
        values: Vec<PropertyWrite>,
        at: i64,
        history: bool,
    ) -> Result<(), StoreError> {
        transaction!(self, |tx| write_properties(
            &tx, t, uid, &expected, &values, at, history
        ))
    }
    async fn add_history(&self, t: &Tenant, uid: &str, rows: Vec<HistoryRow>) -> Result<(), StoreError> {
        transaction!(self, |tx| super::thing_history::add(&tx, t, uid, &rows))
    }
    async fn history(&self, t: &Tenant, uid: &str, spec: &HistorySpec) -> Result<(Vec<HistoryRow>, bool), StoreError> {
        read!(self, |c| super::thing_history::page(c, t, uid, spec))
    }
    async fn delete_history(&self, t: &Tenant, uid: &str, what: &HistoryDelete) -> Result<u64, StoreError> {
        write!(self, |c| super::thing_history::delete(c, t, uid, what))
    }
    async fn prune_property_history(&self, t: &Tenant, before_ms: i64) -> Result<u64, StoreError> {
        let uuids: Vec<String> = read!(self, |c| super::thing_history::history_things(c, t))?;
        let mut total = 0;
        for uuid in uuids {
            loop {
                let n: u64 = write!(self, |c| super::thing_history::prune_batch(c, t, &uuid, before_ms))?;
                total += n;
                if n < crate::store::thing_query::PRUNE_BATCH {
                    break;
                }
            }
        }
        Ok(total)
    }
}
