//! Thing SQL (things API): categories, thing documents (rows of
//! `documents`, collection `things`), current property values. The history
//! is in `thing_history.rs`.

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::SqliteStore;
use super::documents::put_terms;
use super::errors::{backend, map};
use crate::documents::{Collection, NewDocument};
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::thing_query::{Dialect, Param, find_sql, key_kinds, select_uids_sql};
use crate::store::{NewThing, PropertyWrite, StoreError, THING_CHANGED};
use crate::things::{Category, CategoryDraft, KeyKind, KeyValue, StoredThing, ThingFilter, ThingModel, ThingQuery};

pub(super) const DIALECT: Dialect = Dialect {
    ph: |n| format!("?{n}"),
    collate: "",
    contains: |hay, needle| format!("instr({hay}, {needle}) > 0"),
};

pub(super) fn sql_params(params: &[Param]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(i) => rusqlite::types::Value::Integer(*i),
            Param::Real(f) => rusqlite::types::Value::Real(*f),
            Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
}

// --- categories

fn category_row(r: &rusqlite::Row) -> rusqlite::Result<Category> {
    let model_name: Option<String> = r.get(2)?;
    Ok(Category {
        name: r.get(0)?,
        description: r.get(1)?,
        model: model_name.map(|name| ThingModel {
            name,
            version: r.get(3).ok().flatten(),
        }),
        created_ms: r.get(4)?,
        modified_ms: r.get(5)?,
    })
}

const CATEGORY_COLUMNS: &str = "name, description, model_name, model_version, created_at, updated_at";

fn category(c: &Connection, t: &Tenant, name: &str) -> Result<Option<Category>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {CATEGORY_COLUMNS} FROM thing_categories WHERE org_id = ?1 AND name = ?2"
    ))
    .and_then(|mut s| s.query_row(params![t.id(), name], category_row).optional())
    .map_err(backend)
}

fn create_category(c: &Connection, t: &Tenant, d: &CategoryDraft) -> Result<Category, StoreError> {
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO thing_categories (org_id, name, description, model_name, model_version, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.id(),
            d.name,
            d.description,
            d.model.as_ref().map(|m| &m.name),
            d.model.as_ref().and_then(|m| m.version.as_ref()),
            now
        ])
    })
    .map_err(|e| map(e, &format!("category {}", d.name)))?;
    category(c, t, &d.name)?.ok_or_else(|| StoreError::Backend("a created category is missing".into()))
}

fn list_categories(c: &Connection, t: &Tenant, after: Option<&str>, limit: u32) -> Result<Vec<Category>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {CATEGORY_COLUMNS} FROM thing_categories WHERE org_id = ?1 AND (?2 IS NULL OR name > ?2) \
             ORDER BY name LIMIT ?3"
        ))
        .map_err(backend)?;
    s.query_map(params![t.id(), after, i64::from(limit)], category_row)
        .and_then(Iterator::collect)
        .map_err(backend)
}

fn list_categories_before(c: &Connection, t: &Tenant, before: &str, limit: u32) -> Result<Vec<Category>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {CATEGORY_COLUMNS} FROM thing_categories WHERE org_id = ?1 AND name < ?2 \
             ORDER BY name DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    s.query_map(params![t.id(), before, i64::from(limit)], category_row)
        .and_then(Iterator::collect)
        .map_err(backend)
}

fn update_category(
    c: &Connection,
    t: &Tenant,
    name: &str,
    d: &CategoryDraft,
) -> Result<(Category, Vec<String>), StoreError> {
    let n = c
        .prepare_cached(
            "UPDATE thing_categories SET name = ?3, description = ?4, model_name = ?5, model_version = ?6, \
             updated_at = ?7 WHERE org_id = ?1 AND name = ?2",
        )
        .and_then(|mut s| {
            s.execute(params![
                t.id(),
                name,
                d.name,
                d.description,
                d.model.as_ref().map(|m| &m.name),
                d.model.as_ref().and_then(|m| m.version.as_ref()),
                now_ms()
            ])
        })
        .map_err(|e| map(e, &format!("category {}", d.name)))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("category {name}")));
    }
    let moved = if name == d.name {
        Vec::new()
    } else {
        rewrite_members(c, t, name, Some(&d.name))?
    };
    let cat = category(c, t, &d.name)?.ok_or_else(|| StoreError::Backend("an updated category is missing".into()))?;
    Ok((cat, moved))
}

fn delete_category(c: &Connection, t: &Tenant, name: &str) -> Result<Vec<String>, StoreError> {
    let n = c
        .prepare_cached("DELETE FROM thing_categories WHERE org_id = ?1 AND name = ?2")
        .and_then(|mut s| s.execute(params![t.id(), name]))
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("category {name}")));
    }
    rewrite_members(c, t, name, None)
}

/// Moves the things of category `old` to `new` (or out of it).
fn rewrite_members(c: &Connection, t: &Tenant, old: &str, new: Option<&str>) -> Result<Vec<String>, StoreError> {
    let uuids: Vec<String> = c
        .prepare_cached(
            "SELECT DISTINCT uuid FROM document_terms WHERE org_id = ?1 AND collection = 'things' \
             AND path = 'categories' AND value = ?2",
        )
        .and_then(|mut s| s.query_map(params![t.id(), old], |r| r.get(0))?.collect())
        .map_err(backend)?;
    for uuid in &uuids {
        let Some(body) = body(c, t, uuid)? else { continue };
        let doc = crate::store::thing_query::recategorised(uuid, &body, old, new)?;
        update_document(c, t, &doc)?;
    }
    Ok(uuids)
}

// --- things

fn body(c: &Connection, t: &Tenant, uuid: &str) -> Result<Option<String>, StoreError> {
    c.prepare_cached("SELECT body FROM documents WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2")
        .and_then(|mut s| s.query_row(params![t.id(), uuid], |r| r.get(0)).optional())
        .map_err(backend)
}

fn status(c: &Connection, t: &Tenant, uuid: &str) -> Result<Vec<(String, String)>, StoreError> {
    c.prepare_cached(
        "SELECT name, value FROM thing_status WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2 ORDER BY name",
    )
    .and_then(|mut s| {
        s.query_map(params![t.id(), uuid], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    })
    .map_err(backend)
}

pub(super) fn thing(c: &Connection, t: &Tenant, uuid: &str) -> Result<Option<StoredThing>, StoreError> {
    let row = c
        .prepare_cached(
            "SELECT body, created_at, updated_at FROM documents WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![t.id(), uuid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .optional()
        })
        .map_err(backend)?;
    let Some((body, created_at, updated_at)) = row else {
        return Ok(None);
    };
    Ok(Some(StoredThing {
        uuid: uuid.to_owned(),
        body,
        created_at,
        updated_at,
        status: status(c, t, uuid)?,
    }))
}

fn check_categories(c: &Connection, t: &Tenant, names: &[String]) -> Result<(), StoreError> {
    let mut s = c
        .prepare_cached("SELECT 1 FROM thing_categories WHERE org_id = ?1 AND name = ?2")
        .map_err(backend)?;
    for name in names {
        if !s.exists(params![t.id(), name]).map_err(backend)? {
            return Err(StoreError::NotFound(format!("category {name}")));
        }
    }
    Ok(())
}

fn update_document(c: &Connection, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    let n = c
        .prepare_cached(
            "UPDATE documents SET body = ?3, updated_at = ?4 WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2",
        )
        .and_then(|mut s| s.execute(params![t.id(), doc.uuid, doc.body, now_ms()]))
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("thing {}", doc.uuid)));
    }
    put_terms(c, t, doc)
}

fn create_thing(c: &Connection, t: &Tenant, thing: &NewThing) -> Result<StoredThing, StoreError> {
    if thing.doc.collection != Collection::Things {
        return Err(StoreError::Backend("a thing is a document of collection things".into()));
    }
    check_categories(c, t, &thing.categories)?;
    super::documents::insert(c, t, &thing.doc)?;
    self::thing(c, t, &thing.doc.uuid)?.ok_or_else(|| StoreError::Backend("a created thing is missing".into()))
}

fn replace_thing(
    c: &Connection,
    t: &Tenant,
    thing: &NewThing,
    expected: Option<&str>,
) -> Result<StoredThing, StoreError> {
    let uuid = &thing.doc.uuid;
    let Some(current) = body(c, t, uuid)? else {
        return Err(StoreError::NotFound(format!("thing {uuid}")));
    };
    if expected.is_some_and(|e| e != current) {
        return Err(StoreError::Conflict(THING_CHANGED.into()));
    }
    check_categories(c, t, &thing.categories)?;
    update_document(c, t, &thing.doc)?;
    drop_undeclared(c, t, uuid, &thing.properties)?;
    self::thing(c, t, uuid)?.ok_or_else(|| StoreError::Backend("a replaced thing is missing".into()))
}

/// Deletes the current values of properties the thing no longer declares.
fn drop_undeclared(c: &Connection, t: &Tenant, uuid: &str, declared: &[String]) -> Result<(), StoreError> {
    let names: Vec<String> = status(c, t, uuid)?.into_iter().map(|(n, _)| n).collect();
    let mut s = c
        .prepare_cached(
            "DELETE FROM thing_status WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2 AND name = ?3",
        )
        .map_err(backend)?;
    for name in names.iter().filter(|n| !declared.contains(n)) {
        s.execute(params![t.id(), uuid, name]).map_err(backend)?;
    }
    Ok(())
}

fn delete_thing(c: &Connection, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let n = c
        .prepare_cached("DELETE FROM documents WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2")
        .and_then(|mut s| s.execute(params![t.id(), uuid]))
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("thing {uuid}")));
    }
    Ok(())
}

fn key_value(r: &rusqlite::Row, i: usize, kind: KeyKind) -> rusqlite::Result<KeyValue> {
    Ok(match kind {
        KeyKind::Int => r.get::<_, Option<i64>>(i)?.map_or(KeyValue::Null, KeyValue::Int),
        KeyKind::Real => r.get::<_, Option<f64>>(i)?.map_or(KeyValue::Null, KeyValue::Real),
        KeyKind::Text => r.get::<_, Option<String>>(i)?.map_or(KeyValue::Null, KeyValue::Text),
    })
}

type Found = (Vec<(StoredThing, Vec<KeyValue>)>, bool);

fn find_things(c: &Connection, t: &Tenant, q: &ThingQuery) -> Result<Found, StoreError> {
    let built = find_sql(&DIALECT, t.id(), q);
    let kinds = key_kinds(q);
    let mut s = c.prepare_cached(&built.sql).map_err(backend)?;
    let rows: Vec<(StoredThing, Vec<KeyValue>)> = s
        .query_map(params_from_iter(sql_params(&built.params)), |r| {
            let uuid: String = r.get(0)?;
            let mut keys = Vec::with_capacity(kinds.len() + 1);
            for (i, kind) in kinds.iter().enumerate() {
                keys.push(key_value(r, 4 + i, *kind)?);
            }
            keys.push(KeyValue::Text(uuid.clone()));
            Ok((
                StoredThing {
                    uuid,
                    body: r.get(1)?,
                    created_at: r.get(2)?,
                    updated_at: r.get(3)?,
                    status: Vec::new(),
                },
                keys,
            ))
        })
        .and_then(Iterator::collect)
        .map_err(backend)?;
    let more = rows.len() > q.limit as usize;
    let mut things = Vec::with_capacity(rows.len());
    for (mut thing, keys) in rows.into_iter().take(q.limit as usize) {
        thing.status = status(c, t, &thing.uuid)?;
        things.push((thing, keys));
    }
    Ok((things, more))
}

fn delete_things(c: &Connection, t: &Tenant, f: &ThingFilter, limit: u32) -> Result<Vec<String>, StoreError> {
    let built = select_uids_sql(&DIALECT, t.id(), f, limit);
    let uuids: Vec<String> = c
        .prepare_cached(&built.sql)
        .and_then(|mut s| {
            s.query_map(params_from_iter(sql_params(&built.params)), |r| r.get(0))?
                .collect()
        })
        .map_err(backend)?;
    for uuid in &uuids {
        delete_thing(c, t, uuid)?;
    }
    Ok(uuids)
}

fn write_properties(
    c: &Connection,
    t: &Tenant,
    uuid: &str,
    expected: &str,
    values: &[PropertyWrite],
    at: i64,
    history: bool,
) -> Result<(), StoreError> {
    let same = c
        .prepare_cached(
            "SELECT 1 FROM documents WHERE org_id = ?1 AND collection = 'things' AND uuid = ?2 AND body = ?3",
        )
        .and_then(|mut s| s.exists(params![t.id(), uuid, expected]))
        .map_err(backend)?;
    if !same {
        return Err(match body(c, t, uuid)? {
            Some(_) => StoreError::Conflict(THING_CHANGED.into()),
            None => StoreError::NotFound(format!("thing {uuid}")),
        });
    }
    // A value of an older instant than the current one (a write that took
    // its instant first but committed last) goes to the history only: the
    // current value is always that of the newest instant.
    let mut upsert = c
        .prepare_cached(
            "INSERT INTO thing_status (org_id, collection, uuid, name, value, num, str, updated_at) \
             VALUES (?1, 'things', ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (org_id, collection, uuid, name) DO UPDATE SET value = excluded.value, num = excluded.num, \
             str = excluded.str, updated_at = excluded.updated_at \
             WHERE excluded.updated_at >= thing_status.updated_at",
        )
        .map_err(backend)?;
    for v in values {
        upsert
            .execute(params![t.id(), uuid, v.name, v.value, v.number, v.text, at])
            .map_err(backend)?;
    }
    if history {
        let mut insert = c
            .prepare_cached(
                "INSERT INTO thing_history (org_id, collection, uuid, at, name, value) \
                 VALUES (?1, 'things', ?2, ?3, ?4, ?5) \
                 ON CONFLICT (org_id, collection, uuid, at, name) DO UPDATE SET value = excluded.value",
            )
            .map_err(backend)?;
        for v in values {
            insert
                .execute(params![t.id(), uuid, at, v.name, v.value])
                .map_err(backend)?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::ThingStore for SqliteStore {
    async fn create_category(&self, t: &Tenant, d: &CategoryDraft) -> Result<Category, StoreError> {
        let (t, d) = (t.clone(), d.clone());
        self.pool.write(move |c| create_category(c, &t, &d)).await
    }
    async fn category(&self, t: &Tenant, name: &str) -> Result<Option<Category>, StoreError> {
        let (t, n) = (t.clone(), name.to_owned());
        self.pool.read(move |c| category(c, &t, &n)).await
    }
    async fn list_categories(&self, t: &Tenant, after: Option<&str>, limit: u32) -> Result<Vec<Category>, StoreError> {
        let (t, a) = (t.clone(), after.map(str::to_owned));
        self.pool
            .read(move |c| list_categories(c, &t, a.as_deref(), limit))
            .await
    }
    async fn list_categories_before(&self, t: &Tenant, before: &str, limit: u32) -> Result<Vec<Category>, StoreError> {
        let (t, b) = (t.clone(), before.to_owned());
        self.pool.read(move |c| list_categories_before(c, &t, &b, limit)).await
    }
    async fn update_category(
        &self,
        t: &Tenant,
        name: &str,
        d: &CategoryDraft,
    ) -> Result<(Category, Vec<String>), StoreError> {
        let (t, n, d) = (t.clone(), name.to_owned(), d.clone());
        self.pool.write(move |c| update_category(c, &t, &n, &d)).await
    }
    async fn delete_category(&self, t: &Tenant, name: &str) -> Result<Vec<String>, StoreError> {
        let (t, n) = (t.clone(), name.to_owned());
        self.pool.write(move |c| delete_category(c, &t, &n)).await
    }
    async fn create_thing(&self, t: &Tenant, thing: NewThing) -> Result<StoredThing, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| create_thing(c, &t, &thing)).await
    }
    async fn thing(&self, t: &Tenant, uid: &str) -> Result<Option<StoredThing>, StoreError> {
        let (t, u) = (t.clone(), uid.to_owned());
        self.pool.read(move |c| thing(c, &t, &u)).await
    }
    async fn replace_thing(
        &self,
        t: &Tenant,
        thing: NewThing,
        expected: Option<String>,
    ) -> Result<StoredThing, StoreError> {
        let t = t.clone();
        self.pool
            .write(move |c| replace_thing(c, &t, &thing, expected.as_deref()))
            .await
    }
    async fn delete_thing(&self, t: &Tenant, uid: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uid.to_owned());
        self.pool.write(move |c| delete_thing(c, &t, &u)).await
    }
    async fn find_things(&self, t: &Tenant, q: &ThingQuery) -> Result<Found, StoreError> {
        let (t, q) = (t.clone(), q.clone());
        self.pool.read(move |c| find_things(c, &t, &q)).await
    }
    async fn delete_things(&self, t: &Tenant, f: &ThingFilter, limit: u32) -> Result<Vec<String>, StoreError> {
        let (t, f) = (t.clone(), f.clone());
        self.pool.write(move |c| delete_things(c, &t, &f, limit)).await
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
        let (t, u) = (t.clone(), uid.to_owned());
        self.pool
            .write(move |c| write_properties(c, &t, &u, &expected, &values, at, history))
            .await
    }
    async fn add_history(&self, t: &Tenant, uid: &str, rows: Vec<crate::things::HistoryRow>) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uid.to_owned());
        self.pool
            .write(move |c| super::thing_history::add(c, &t, &u, &rows))
            .await
    }
    async fn history(
        &self,
        t: &Tenant,
        uid: &str,
        spec: &crate::things::HistorySpec,
    ) -> Result<(Vec<crate::things::HistoryRow>, bool), StoreError> {
        let (t, u, spec) = (t.clone(), uid.to_owned(), spec.clone());
        self.pool
            .read(move |c| super::thing_history::page(c, &t, &u, &spec))
            .await
    }
    async fn delete_history(
        &self,
        t: &Tenant,
        uid: &str,
        what: &crate::things::HistoryDelete,
    ) -> Result<u64, StoreError> {
        let (t, u, w) = (t.clone(), uid.to_owned(), what.clone());
        self.pool
            .write(move |c| super::thing_history::delete(c, &t, &u, &w))
            .await
    }
    async fn prune_property_history(&self, t: &Tenant, before_ms: i64) -> Result<u64, StoreError> {
        let tenant = t.clone();
        let uuids: Vec<String> = self
            .pool
            .read(move |c| super::thing_history::history_things(c, &tenant))
            .await?;
        let mut total = 0;
        for uuid in uuids {
            loop {
                let (t, u) = (t.clone(), uuid.clone());
                let n = self
                    .pool
                    .write(move |c| super::thing_history::prune_batch(c, &t, &u, before_ms))
                    .await?;
                total += n;
                if n < super::thing_history::PRUNE_BATCH {
                    break;
                }
            }
        }
        Ok(total)
    }
}
