//! Content items and location layouts SQL.

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::errors::{backend, map};
use crate::content::columns::{
    data_from_text, data_to_text, fields_from_text, fields_to_text, replace_data, subtype, variants_from_text,
    variants_to_text,
};
use crate::content::{ContentData, ContentPage, ContentQuery, ContentRecord, NewContent};
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::{ContentStore, StoreError};

const COLUMNS: &str = "uuid, name, subtype, parent, path, url, data, variants, fields, created_at, updated_at";

type RawRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    i64,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
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
        r.get(9)?,
        r.get(10)?,
    ))
}

fn record(t: &Tenant, r: RawRow) -> Result<ContentRecord, StoreError> {
    let (uuid, name, kind, parent, path, url, data, variants, fields, created_at, updated_at) = r;
    Ok(ContentRecord {
        uuid,
        org: t.name().to_string(),
        name,
        subtype: subtype(&kind)?,
        parent,
        path,
        url,
        data: data_from_text(data.as_deref())?,
        variants: variants_from_text(&variants)?,
        fields: fields_from_text(&fields)?,
        created_at,
        updated_at,
    })
}

fn select_one(c: &Connection, t: &Tenant, filter: &str, key: &str) -> Result<Option<ContentRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM content_items WHERE org_id = ?1 AND {filter} = ?2");
    let row = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params![t.id(), key], raw).optional())
        .map_err(backend)?;
    row.map(|r| record(t, r)).transpose()
}

fn create(c: &Connection, t: &Tenant, item: NewContent) -> Result<ContentRecord, StoreError> {
    if let Some(parent) = &item.parent
        && select_one(c, t, "uuid", parent)?.is_none()
    {
        return Err(StoreError::NotFound(format!("folder {parent}")));
    }
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO content_items (uuid, org_id, name, subtype, parent, path, url, data, variants, fields, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, '[]', ?8, ?9, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            item.uuid,
            t.id(),
            item.name,
            item.subtype.as_str(),
            item.parent,
            item.path,
            item.url,
            fields_to_text(&item.fields),
            now,
        ])
    })
    .map_err(|e| map(e, &format!("content {}", item.path)))?;
    select_one(c, t, "uuid", &item.uuid)?.ok_or_else(|| StoreError::Backend("content item vanished".into()))
}

fn find(c: &Connection, t: &Tenant, q: &ContentQuery) -> Result<ContentPage, StoreError> {
    let mut filter = String::from("org_id = ?1");
    let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(t.id())];
    let mut add = |column: &str, value: String| {
        args.push(Box::new(value));
        filter.push_str(&format!(" AND {column} = ?{}", args.len()));
    };
    if let Some(k) = q.subtype {
        add("subtype", k.as_str().to_owned());
    }
    if let Some(name) = &q.name {
        add("name", name.clone());
    }
    if let Some(path) = &q.path {
        add("path", path.clone());
    }
    match &q.parent {
        Some(Some(parent)) => add("parent", parent.clone()),
        Some(None) => filter.push_str(" AND parent IS NULL"),
        None => {}
    }
    let refs: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
    let total: i64 = c
        .prepare_cached(&format!("SELECT count(*) FROM content_items WHERE {filter}"))
        .and_then(|mut s| s.query_row(refs.as_slice(), |r| r.get(0)))
        .map_err(backend)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM content_items WHERE {filter} ORDER BY path LIMIT {} OFFSET {}",
        q.limit, q.skip
    );
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_map(refs.as_slice(), raw).and_then(Iterator::collect::<Result<Vec<_>, _>>))
        .map_err(backend)?;
    Ok(ContentPage {
        results: rows.into_iter().map(|r| record(t, r)).collect::<Result<_, _>>()?,
        total: total.max(0) as u64,
    })
}

fn set_data(
    c: &Connection,
    t: &Tenant,
    uuid: &str,
    variant: Option<&str>,
    new: ContentData,
) -> Result<(ContentRecord, Option<String>), StoreError> {
    let mut item = select_one(c, t, "uuid", uuid)?.ok_or_else(|| StoreError::NotFound(format!("content {uuid}")))?;
    let replaced = replace_data(&mut item.data, &mut item.variants, variant, new);
    item.updated_at = now_ms();
    c.prepare_cached("UPDATE content_items SET data = ?3, variants = ?4, updated_at = ?5 WHERE org_id = ?1 AND uuid = ?2")
        .and_then(|mut s| {
            s.execute(params![
                t.id(),
                uuid,
                data_to_text(item.data.as_ref()),
                variants_to_text(&item.variants),
                item.updated_at
            ])
        })
        .map_err(backend)?;
    Ok((item, replaced))
}

fn delete(c: &Connection, t: &Tenant, uuid: &str) -> Result<Vec<ContentRecord>, StoreError> {
    let sql = format!(
        "WITH RECURSIVE sub(uuid) AS (SELECT uuid FROM content_items WHERE org_id = ?1 AND uuid = ?2 \
         UNION ALL SELECT c.uuid FROM content_items c JOIN sub ON c.parent = sub.uuid) \
         SELECT {COLUMNS} FROM content_items WHERE org_id = ?1 AND uuid IN (SELECT uuid FROM sub)"
    );
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_map(params![t.id(), uuid], raw).and_then(Iterator::collect::<Result<Vec<_>, _>>))
        .map_err(backend)?;
    if rows.is_empty() {
        return Err(StoreError::NotFound(format!("content {uuid}")));
    }
    // The parent key cascades to everything below.
    c.prepare_cached("DELETE FROM content_items WHERE org_id = ?1 AND uuid = ?2")
        .and_then(|mut s| s.execute(params![t.id(), uuid]))
        .map_err(backend)?;
    rows.into_iter().map(|r| record(t, r)).collect()
}

fn layout(c: &Connection, t: &Tenant, location: &str) -> Result<Option<ContentData>, StoreError> {
    let data: Option<String> = c
        .prepare_cached("SELECT data FROM location_layouts WHERE org_id = ?1 AND location_uuid = ?2")
        .and_then(|mut s| s.query_row(params![t.id(), location], |r| r.get(0)).optional())
        .map_err(backend)?;
    data_from_text(data.as_deref())
}

fn set_layout(c: &Connection, t: &Tenant, location: &str, data: ContentData) -> Result<Option<String>, StoreError> {
    let old = layout(c, t, location)?;
    c.prepare_cached(
        "INSERT INTO location_layouts (org_id, location_uuid, data, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (org_id, location_uuid) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| s.execute(params![t.id(), location, data_to_text(Some(&data)), now_ms()]))
    .map_err(backend)?;
    Ok(old.map(|d| d.blob))
}

#[async_trait::async_trait]
impl ContentStore for SqliteStore {
    async fn create_content(&self, t: &Tenant, item: NewContent) -> Result<ContentRecord, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| create(c, &t, item)).await
    }
    async fn content(&self, t: &Tenant, uuid: &str) -> Result<Option<ContentRecord>, StoreError> {
        let (t, uuid) = (t.clone(), uuid.to_owned());
        self.pool.read(move |c| select_one(c, &t, "uuid", &uuid)).await
    }
    async fn content_by_path(&self, t: &Tenant, path: &str) -> Result<Option<ContentRecord>, StoreError> {
        let (t, path) = (t.clone(), path.to_owned());
        self.pool.read(move |c| select_one(c, &t, "path", &path)).await
    }
    async fn find_content(&self, t: &Tenant, q: &ContentQuery) -> Result<ContentPage, StoreError> {
        let (t, q) = (t.clone(), q.clone());
        self.pool.read(move |c| find(c, &t, &q)).await
    }
    async fn set_content_data(
        &self,
        t: &Tenant,
        uuid: &str,
        variant: Option<&str>,
        data: ContentData,
    ) -> Result<(ContentRecord, Option<String>), StoreError> {
        let (t, uuid, variant) = (t.clone(), uuid.to_owned(), variant.map(str::to_owned));
        self.pool
            .write(move |c| set_data(c, &t, &uuid, variant.as_deref(), data))
            .await
    }
    async fn delete_content(&self, t: &Tenant, uuid: &str) -> Result<Vec<ContentRecord>, StoreError> {
        let (t, uuid) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| delete(c, &t, &uuid)).await
    }
    async fn set_layout(&self, t: &Tenant, location: &str, data: ContentData) -> Result<Option<String>, StoreError> {
        let (t, location) = (t.clone(), location.to_owned());
        self.pool.write(move |c| set_layout(c, &t, &location, data)).await
    }
    async fn layout(&self, t: &Tenant, location: &str) -> Result<Option<ContentData>, StoreError> {
        let (t, location) = (t.clone(), location.to_owned());
        self.pool.read(move |c| layout(c, &t, &location)).await
    }
}
