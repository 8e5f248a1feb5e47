//! Document SQL: resource documents with their search terms, data items;
//! the same tables and rules as the SQLite store. A write that touches
//! several rows (a document and its terms, a device and its document) is
//! one transaction.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::errors::{backend, map};
use super::pool::{execute, query};
use crate::documents::{Collection, DataItem, DataQuery, DocumentQuery, NewDocument};
use crate::ids::Tenant;
use crate::master_key::MasterKey;
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
pub(super) async fn put_terms<C: GenericClient + Sync>(c: &C, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    execute(
        c,
        "DELETE FROM document_terms WHERE org_id = $1 AND collection = $2 AND uuid = $3",
        &[&t.id(), &doc.collection.as_str(), &doc.uuid],
    )
    .await
    .map_err(backend)?;
    if doc.terms.is_empty() {
        return Ok(());
    }
    let paths: Vec<&str> = doc.terms.iter().map(|t| t.path.as_str()).collect();
    let values: Vec<&str> = doc.terms.iter().map(|t| t.value.as_str()).collect();
    let numbers: Vec<Option<f64>> = doc.terms.iter().map(|t| t.number).collect();
    execute(
        c,
        "INSERT INTO document_terms (org_id, collection, uuid, path, value, num) \
         SELECT $1, $2, $3, p, v, n FROM unnest($4::text[], $5::text[], $6::float8[]) AS u(p, v, n)",
        &[&t.id(), &doc.collection.as_str(), &doc.uuid, &paths, &values, &numbers],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// Inserts a document with its terms (a device's names its registry device).
pub(crate) async fn insert<C: GenericClient + Sync>(c: &C, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    let device = (doc.collection == Collection::Devices).then_some(doc.uuid.as_str());
    execute(
        c,
        "INSERT INTO documents (org_id, collection, uuid, device_uuid, unique_name, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        &[
            &t.id(),
            &doc.collection.as_str(),
            &doc.uuid,
            &device,
            &doc.unique_name,
            &doc.body,
            &now_ms(),
        ],
    )
    .await
    .map_err(|e| map(e, &what(doc)))?;
    put_terms(c, t, doc).await
}

async fn update<C: GenericClient + Sync>(c: &C, t: &Tenant, doc: &NewDocument) -> Result<(), StoreError> {
    let n = execute(
        c,
        "UPDATE documents SET body = $4, unique_name = $5, updated_at = $6 \
         WHERE org_id = $1 AND collection = $2 AND uuid = $3",
        &[
            &t.id(),
            &doc.collection.as_str(),
            &doc.uuid,
            &doc.body,
            &doc.unique_name,
            &now_ms(),
        ],
    )
    .await
    .map_err(|e| map(e, &what(doc)))?;
    if n == 0 {
        return Err(StoreError::NotFound(what(doc)));
    }
    if let (Collection::Devices, Some(name)) = (doc.collection, &doc.name) {
        execute(
            c,
            "UPDATE devices SET name = $3 WHERE org_id = $1 AND uuid = $2",
            &[&t.id(), &doc.uuid, name],
        )
        .await
        .map_err(backend)?;
    }
    put_terms(c, t, doc).await
}

async fn delete<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    collection: Collection,
    uuid: &str,
) -> Result<(), StoreError> {
    let n = if collection == Collection::Devices {
        // The document goes with its device (ON DELETE CASCADE).
        execute(
            c,
            "DELETE FROM devices WHERE org_id = $1 AND uuid = $2",
            &[&t.id(), &uuid],
        )
        .await
    } else {
        execute(
            c,
            "DELETE FROM documents WHERE org_id = $1 AND collection = $2 AND uuid = $3",
            &[&t.id(), &collection.as_str(), &uuid],
        )
        .await
    }
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("{} {uuid}", collection.noun())));
    }
    Ok(())
}

fn placeholder(n: usize) -> String {
    format!("${n}")
}

async fn find<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    collection: Collection,
    q: &DocumentQuery,
) -> Result<(Vec<String>, u64), StoreError> {
    let sql = find_sql(collection, q, placeholder, " COLLATE \"C\"");
    let id = t.id();
    fn params<'a>(id: &'a i64, texts: &'a [String]) -> Vec<&'a (dyn ToSql + Sync)> {
        let mut p: Vec<&(dyn ToSql + Sync)> = vec![id];
        p.extend(texts.iter().map(|s| s as &(dyn ToSql + Sync)));
        p
    }
    let total: i64 = query(c, &sql.count, &params(&id, &sql.texts[..sql.count_texts]))
        .await
        .map_err(backend)?
        .first()
        .map(|r| r.get(0))
        .unwrap_or(0);
    let bodies = query(c, &sql.page, &params(&id, &sql.texts))
        .await
        .map_err(backend)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok((bodies, total.max(0) as u64))
}

async fn put_data<C: GenericClient + Sync>(c: &C, t: &Tenant, item: &DataItem) -> Result<bool, StoreError> {
    // `xmax = 0` only for a row this statement inserted.
    let rows = query(
        c,
        "INSERT INTO data_items (org_id, grp, key, value, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (org_id, grp, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at \
         RETURNING (xmax = 0)",
        &[&t.id(), &item.group, &item.key, &item.value, &now_ms()],
    )
    .await
    .map_err(|e| map(e, &format!("data item {}:{}", item.group, item.key)))?;
    Ok(rows.first().map(|r| r.get::<_, bool>(0)).unwrap_or(false))
}

fn data_row(r: &tokio_postgres::Row) -> DataItem {
    DataItem {
        group: r.get(0),
        key: r.get(1),
        value: r.get(2),
    }
}

async fn data_item<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    group: &str,
    key: &str,
) -> Result<Option<DataItem>, StoreError> {
    Ok(query(
        c,
        "SELECT grp, key, value FROM data_items WHERE org_id = $1 AND grp = $2 AND key = $3",
        &[&t.id(), &group, &key],
    )
    .await
    .map_err(backend)?
    .first()
    .map(data_row))
}

async fn delete_data<C: GenericClient + Sync>(c: &C, t: &Tenant, group: &str, key: &str) -> Result<(), StoreError> {
    let n = execute(
        c,
        "DELETE FROM data_items WHERE org_id = $1 AND grp = $2 AND key = $3",
        &[&t.id(), &group, &key],
    )
    .await
    .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("data item {group}:{key}")));
    }
    Ok(())
}

const DATA_FILTER: &str =
    "org_id = $1 AND ($2::text IS NULL OR grp = $2::text) AND ($3::text IS NULL OR key = $3::text)";

async fn find_data<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    q: &DataQuery,
) -> Result<(Vec<DataItem>, u64), StoreError> {
    let total: i64 = query(
        c,
        &format!("SELECT count(*) FROM data_items WHERE {DATA_FILTER}"),
        &[&t.id(), &q.group, &q.key],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| r.get(0))
    .unwrap_or(0);
    let sql = format!(
        "SELECT grp, key, value FROM data_items WHERE {DATA_FILTER} \
         ORDER BY grp COLLATE \"C\", key COLLATE \"C\" LIMIT $4 OFFSET $5"
    );
    let items = query(
        c,
        &sql,
        &[&t.id(), &q.group, &q.key, &i64::from(q.limit), &(q.skip as i64)],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(data_row)
    .collect();
    Ok((items, total.max(0) as u64))
}

/// Creates the registry device and its document (call inside a transaction).
pub(crate) async fn create_device_document<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    t: &Tenant,
    device: NewDevice,
    doc: &NewDocument,
) -> Result<DeviceRecord, StoreError> {
    let record = super::registry::insert_device(c, key, t, device).await?;
    insert(c, t, doc).await?;
    Ok(record)
}

#[async_trait::async_trait]
impl DocumentStore for PgStore {
    async fn create_document(&self, t: &Tenant, doc: NewDocument) -> Result<(), StoreError> {
        if doc.collection == Collection::Devices {
            return Err(StoreError::Backend("a device document is made with its device".into()));
        }
        transaction!(self, |tx| insert(&tx, t, &doc))
    }
    async fn create_device_document(
        &self,
        t: &Tenant,
        device: NewDevice,
        doc: NewDocument,
    ) -> Result<DeviceRecord, StoreError> {
        transaction!(self, |tx| create_device_document(&tx, &self.key, t, device, &doc))
    }
    async fn document(&self, t: &Tenant, collection: Collection, uuid: &str) -> Result<Option<String>, StoreError> {
        read!(self, |c| async {
            Ok(query(
                c,
                "SELECT body FROM documents WHERE org_id = $1 AND collection = $2 AND uuid = $3",
                &[&t.id(), &collection.as_str(), &uuid],
            )
            .await
            .map_err(backend)?
            .first()
            .map(|r| r.get(0)))
        })
    }
    async fn find_documents(
        &self,
        t: &Tenant,
        collection: Collection,
        q: &DocumentQuery,
    ) -> Result<(Vec<String>, u64), StoreError> {
        read!(self, |c| find(c, t, collection, q))
    }
    async fn update_document(&self, t: &Tenant, doc: NewDocument) -> Result<(), StoreError> {
        transaction!(self, |tx| update(&tx, t, &doc))
    }
    async fn delete_document(&self, t: &Tenant, collection: Collection, uuid: &str) -> Result<(), StoreError> {
        write!(self, |c| delete(c, t, collection, uuid))
    }
    async fn put_data(&self, t: &Tenant, item: DataItem) -> Result<bool, StoreError> {
        write!(self, |c| put_data(c, t, &item))
    }
    async fn data_item(&self, t: &Tenant, group: &str, key: &str) -> Result<Option<DataItem>, StoreError> {
        read!(self, |c| data_item(c, t, group, key))
    }
    async fn delete_data(&self, t: &Tenant, group: &str, key: &str) -> Result<(), StoreError> {
        write!(self, |c| delete_data(c, t, group, key))
    }
    async fn find_data(&self, t: &Tenant, q: &DataQuery) -> Result<(Vec<DataItem>, u64), StoreError> {
        read!(self, |c| find_data(c, t, q))
    }
}
