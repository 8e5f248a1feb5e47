//! Document SQL: resource documents with their search terms, data items.

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::SqliteStore;
use super::errors::{backend, map};
use crate::documents::{Collection, DataItem, DataQuery, DocumentQuery, NewDocument};
use crate::ids::Tenant;
use crate::now_ms;
use crate::records::DeviceRecord;
use crate::store::document_query::find_sql;
use crate::store::{DocumentStore, NewDevice, StoreError};

fn what(doc: &NewDocument) -> String {
    match &doc.unique_name {
        // Its uuid is new (the platform makes one for each document):
        // only the name can be taken.
        Some(name) => format!("{} named {name:?}", doc.collection.noun()),
        None => format!("{} {}", doc.collection.noun(), doc.uuid),
    }
}

/// Replaces the search terms of `doc` (of any collection, things included).
pub(super) fn put_terms(c: &Connection, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM document_terms WHERE org_id = ?1 AND collection = ?2 AND uuid = ?3")
        .and_then(|mut s| s.execute(params![t.id(), doc.collection.as_str(), doc.uuid]))
        .map_err(backend)?;
    let mut s = c
        .prepare_cached(
            "INSERT INTO document_terms (org_id, collection, uuid, path, value, num) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for term in &doc.terms {
        s.execute(params![
            t.id(),
            doc.collection.as_str(),
            doc.uuid,
            term.path,
            term.value,
            term.number
        ])
        .map_err(backend)?;
    }
    Ok(())
}

/// Inserts a document with its terms (a device's names its registry device).
pub(crate) fn insert(c: &Connection, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    let now = now_ms();
    let device = (doc.collection == Collection::Devices).then_some(doc.uuid.as_str());
    c.prepare_cached(
        "INSERT INTO documents (org_id, collection, uuid, device_uuid, unique_name, body, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.id(),
            doc.collection.as_str(),
            doc.uuid,
            device,
            doc.unique_name,
            doc.body,
            now
        ])
    })
    .map_err(|e| map(e, &what(doc)))?;
    put_terms(c, t, doc)
}

fn update(c: &Connection, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    let n = c
        .prepare_cached(
            "UPDATE documents SET body = ?4, unique_name = ?5, updated_at = ?6 \
             WHERE org_id = ?1 AND collection = ?2 AND uuid = ?3",
        )
        .and_then(|mut s| {
            s.execute(params![
                t.id(),
                doc.collection.as_str(),
                doc.uuid,
                doc.body,
                doc.unique_name,
                now_ms()
            ])
        })
        .map_err(|e| map(e, &what(doc)))?;
    if n == 0 {
        return Err(StoreError::NotFound(what(doc)));
    }
    if let (Collection::Devices, Some(name)) = (doc.collection, &doc.name) {
        c.execute(
            "UPDATE devices SET name = ?3 WHERE org_id = ?1 AND uuid = ?2",
            params![t.id(), doc.uuid, name],
        )
        .map_err(backend)?;
    }
    put_terms(c, t, doc)
}

fn delete(c: &Connection, t: &Tenant, collection: Collection, uuid: &str) -> Result<(), StoreError> {
    let n = if collection == Collection::Devices {
        // The document goes with its device (ON DELETE CASCADE).
        c.execute(
            "DELETE FROM devices WHERE org_id = ?1 AND uuid = ?2",
            params![t.id(), uuid],
        )
    } else {
        c.execute(
            "DELETE FROM documents WHERE org_id = ?1 AND collection = ?2 AND uuid = ?3",
            params![t.id(), collection.as_str(), uuid],
        )
    }
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("{} {uuid}", collection.noun())));
    }
    Ok(())
}

fn document(c: &Connection, t: &Tenant, collection: Collection, uuid: &str) -> Result<Option<String>, StoreError> {
    c.prepare_cached("SELECT body FROM documents WHERE org_id = ?1 AND collection = ?2 AND uuid = ?3")
        .and_then(|mut s| {
            s.query_row(params![t.id(), collection.as_str(), uuid], |r| r.get(0))
                .optional()
        })
        .map_err(backend)
}

fn placeholder(n: usize) -> String {
    format!("?{n}")
}

fn find(
    c: &Connection,
    t: &Tenant,
    collection: Collection,
    q: &DocumentQuery,
) -> Result<(Vec<String>, u64), StoreError> {
    let sql = find_sql(collection, q, placeholder, "");
    let values = |texts: &[String]| {
        std::iter::once(rusqlite::types::Value::Integer(t.id()))
            .chain(texts.iter().map(|s| rusqlite::types::Value::Text(s.clone())))
            .collect::<Vec<_>>()
    };
    let total: i64 = c
        .prepare_cached(&sql.count)
        .and_then(|mut s| s.query_row(params_from_iter(values(&sql.texts[..sql.count_texts])), |r| r.get(0)))
        .map_err(backend)?;
    let mut s = c.prepare_cached(&sql.page).map_err(backend)?;
    let bodies = s
        .query_map(params_from_iter(values(&sql.texts)), |r| r.get(0))
        .and_then(Iterator::collect)
        .map_err(backend)?;
    Ok((bodies, total.max(0) as u64))
}

fn put_data(c: &Connection, t: &Tenant, item: &DataItem) -> Result<bool, StoreError> {
    let now = now_ms();
    let updated = c
        .prepare_cached("UPDATE data_items SET value = ?4, updated_at = ?5 WHERE org_id = ?1 AND grp = ?2 AND key = ?3")
        .and_then(|mut s| s.execute(params![t.id(), item.group, item.key, item.value, now]))
        .map_err(backend)?;
    if updated > 0 {
        return Ok(false);
    }
    c.prepare_cached(
        "INSERT INTO data_items (org_id, grp, key, value, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )
    .and_then(|mut s| s.execute(params![t.id(), item.group, item.key, item.value, now]))
    .map_err(|e| map(e, &format!("data item {}:{}", item.group, item.key)))?;
    Ok(true)
}

fn data_row(r: &rusqlite::Row) -> rusqlite::Result<DataItem> {
    Ok(DataItem {
        group: r.get(0)?,
        key: r.get(1)?,
        value: r.get(2)?,
    })
}

fn data_item(c: &Connection, t: &Tenant, group: &str, key: &str) -> Result<Option<DataItem>, StoreError> {
    c.prepare_cached("SELECT grp, key, value FROM data_items WHERE org_id = ?1 AND grp = ?2 AND key = ?3")
        .and_then(|mut s| s.query_row(params![t.id(), group, key], data_row).optional())
        .map_err(backend)
}

fn delete_data(c: &Connection, t: &Tenant, group: &str, key: &str) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM data_items WHERE org_id = ?1 AND grp = ?2 AND key = ?3",
            params![t.id(), group, key],
        )
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("data item {group}:{key}")));
    }
    Ok(())
}

const DATA_FILTER: &str = "org_id = ?1 AND (?2 IS NULL OR grp = ?2) AND (?3 IS NULL OR key = ?3)";

fn find_data(c: &Connection, t: &Tenant, q: &DataQuery) -> Result<(Vec<DataItem>, u64), StoreError> {
    let total: i64 = c
        .prepare_cached(&format!("SELECT count(*) FROM data_items WHERE {DATA_FILTER}"))
        .and_then(|mut s| s.query_row(params![t.id(), q.group, q.key], |r| r.get(0)))
        .map_err(backend)?;
    let sql =
        format!("SELECT grp, key, value FROM data_items WHERE {DATA_FILTER} ORDER BY grp, key LIMIT ?4 OFFSET ?5");
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let items = s
        .query_map(
            params![t.id(), q.group, q.key, i64::from(q.limit), q.skip as i64],
            data_row,
        )
        .and_then(Iterator::collect)
        .map_err(backend)?;
    Ok((items, total.max(0) as u64))
}

/// Creates the registry device and its document in one write.
pub(crate) fn create_device_document(
    c: &Connection,
    key: &crate::master_key::MasterKey,
    t: &Tenant,
    device: NewDevice,
    doc: &NewDocument,
) -> Result<DeviceRecord, StoreError> {
    let record = super::registry::insert_device(c, key, t, device)?;
    insert(c, t, doc)?;
    Ok(record)
}

#[async_trait::async_trait]
impl DocumentStore for SqliteStore {
    async fn create_document(&self, t: &Tenant, doc: NewDocument) -> Result<(), StoreError> {
        if doc.collection == Collection::Devices {
            return Err(StoreError::Backend("a device document is made with its device".into()));
        }
        let t = t.clone();
        self.pool.write(move |c| insert(c, &t, &doc)).await
    }
    async fn create_device_document(
        &self,
        t: &Tenant,
        device: NewDevice,
        doc: NewDocument,
    ) -> Result<DeviceRecord, StoreError> {
        let (t, key) = (t.clone(), self.key.clone());
        self.pool
            .write(move |c| create_device_document(c, &key, &t, device, &doc))
            .await
    }
    async fn document(&self, t: &Tenant, collection: Collection, uuid: &str) -> Result<Option<String>, StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.read(move |c| document(c, &t, collection, &u)).await
    }
    async fn find_documents(
        &self,
        t: &Tenant,
        collection: Collection,
        q: &DocumentQuery,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let (t, q) = (t.clone(), q.clone());
        self.pool.read(move |c| find(c, &t, collection, &q)).await
    }
    async fn update_document(&self, t: &Tenant, doc: NewDocument) -> Result<(), StoreError> {
        let t = t.clone();
        self.pool.write(move |c| update(c, &t, &doc)).await
    }
    async fn delete_document(&self, t: &Tenant, collection: Collection, uuid: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| delete(c, &t, collection, &u)).await
    }
    async fn put_data(&self, t: &Tenant, item: DataItem) -> Result<bool, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| put_data(c, &t, &item)).await
    }
    async fn data_item(&self, t: &Tenant, group: &str, key: &str) -> Result<Option<DataItem>, StoreError> {
        let (t, g, k) = (t.clone(), group.to_owned(), key.to_owned());
        self.pool.read(move |c| data_item(c, &t, &g, &k)).await
    }
    async fn delete_data(&self, t: &Tenant, group: &str, key: &str) -> Result<(), StoreError> {
        let (t, g, k) = (t.clone(), group.to_owned(), key.to_owned());
        self.pool.write(move |c| delete_data(c, &t, &g, &k)).await
    }
    async fn find_data(&self, t: &Tenant, q: &DataQuery) -> Result<(Vec<DataItem>, u64), StoreError> {
        let (t, q) = (t.clone(), q.clone());
        self.pool.read(move |c| find_data(c, &t, &q)).await
    }
}
