//! Content items and location layouts SQL.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::errors::{backend, map};
use super::pool::{execute, query};
use crate::content::columns::{
    data_from_text, data_to_text, fields_from_text, fields_to_text, replace_data, subtype, variants_from_text,
    variants_to_text,
};
use crate::content::{ContentData, ContentPage, ContentQuery, ContentRecord, NewContent};
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::{ContentStore, StoreError};

const COLUMNS: &str = "uuid, name, subtype, parent, path, url, data, variants, fields, created_at, updated_at";

fn record(t: &Tenant, r: &Row) -> Result<ContentRecord, StoreError> {
    Ok(ContentRecord {
        uuid: r.get(0),
        org: t.name().to_string(),
        name: r.get(1),
        subtype: subtype(r.get(2))?,
        parent: r.get(3),
        path: r.get(4),
        url: r.get(5),
        data: data_from_text(r.get(6))?,
        variants: variants_from_text(r.get(7))?,
        fields: fields_from_text(r.get(8))?,
        created_at: r.get(9),
        updated_at: r.get(10),
    })
}

async fn select_one<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    filter: &str,
    key: &str,
    lock: bool,
) -> Result<Option<ContentRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM content_items WHERE org_id = $1 AND {filter} = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows = query(c, &sql, &[&t.id(), &key]).await.map_err(backend)?;
    rows.first().map(|r| record(t, r)).transpose()
}

async fn create<C: GenericClient + Sync>(c: &C, t: &Tenant, item: NewContent) -> Result<ContentRecord, StoreError> {
    if let Some(parent) = &item.parent {
        // Locked, so the folder cannot be deleted before this commits.
        if select_one(c, t, "uuid", parent, true).await?.is_none() {
            return Err(StoreError::NotFound(format!("folder {parent}")));
        }
    }
    let now = now_ms();
    let sql = format!(
        "INSERT INTO content_items (uuid, org_id, name, subtype, parent, path, url, data, variants, fields, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, '[]', $8, $9, $9) RETURNING {COLUMNS}"
    );
    let rows = query(
        c,
        &sql,
        &[
            &item.uuid,
            &t.id(),
            &item.name,
            &item.subtype.as_str(),
            &item.parent,
            &item.path,
            &item.url,
            &fields_to_text(&item.fields),
            &now,
        ],
    )
    .await
    .map_err(|e| map(e, &format!("content {}", item.path)))?;
    rows.first()
        .map(|r| record(t, r))
        .ok_or_else(|| StoreError::Backend("INSERT returned no row".into()))?
}

async fn find<C: GenericClient + Sync>(c: &C, t: &Tenant, q: &ContentQuery) -> Result<ContentPage, StoreError> {
    let org = t.id();
    let mut filter = String::from("org_id = $1");
    let mut texts: Vec<String> = Vec::new();
    let mut add = |column: &str, value: String, filter: &mut String| {
        texts.push(value);
        filter.push_str(&format!(" AND {column} = ${}", texts.len() + 1));
    };
    if let Some(k) = q.subtype {
        add("subtype", k.as_str().to_owned(), &mut filter);
    }
    if let Some(name) = &q.name {
        add("name", name.clone(), &mut filter);
    }
    if let Some(path) = &q.path {
        add("path", path.clone(), &mut filter);
    }
    match &q.parent {
        Some(Some(parent)) => add("parent", parent.clone(), &mut filter),
        Some(None) => filter.push_str(" AND parent IS NULL"),
        None => {}
    }
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&org];
    args.extend(texts.iter().map(|t| t as &(dyn ToSql + Sync)));
    let total: i64 = query(c, &format!("SELECT count(*) FROM content_items WHERE {filter}"), &args)
        .await
        .map_err(backend)?
        .first()
        .map_or(0, |r| r.get(0));
    let sql = format!(
        "SELECT {COLUMNS} FROM content_items WHERE {filter} ORDER BY path COLLATE \"C\" LIMIT {} OFFSET {}",
        q.limit, q.skip
    );
    let rows = query(c, &sql, &args).await.map_err(backend)?;
    Ok(ContentPage {
        results: rows.iter().map(|r| record(t, r)).collect::<Result<_, _>>()?,
        total: total.max(0) as u64,
    })
}

async fn set_data<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    variant: Option<&str>,
    new: ContentData,
) -> Result<(ContentRecord, Option<String>), StoreError> {
    let mut item = select_one(c, t, "uuid", uuid, true)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("content {uuid}")))?;
    let replaced = replace_data(&mut item.data, &mut item.variants, variant, new);
    item.updated_at = now_ms();
    execute(
        c,
        "UPDATE content_items SET data = $3, variants = $4, updated_at = $5 WHERE org_id = $1 AND uuid = $2",
        &[
            &t.id(),
            &uuid,
            &data_to_text(item.data.as_ref()),
            &variants_to_text(&item.variants),
            &item.updated_at,
        ],
    )
    .await
    .map_err(backend)?;
    Ok((item, replaced))
}

async fn delete<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<Vec<ContentRecord>, StoreError> {
    let sql = format!(
        "WITH RECURSIVE sub(uuid) AS (SELECT uuid FROM content_items WHERE org_id = $1 AND uuid = $2 \
         UNION ALL SELECT c.uuid FROM content_items c JOIN sub ON c.parent = sub.uuid) \
         SELECT {COLUMNS} FROM content_items WHERE org_id = $1 AND uuid IN (SELECT uuid FROM sub) FOR UPDATE"
    );
    let rows = query(c, &sql, &[&t.id(), &uuid]).await.map_err(backend)?;
    if rows.is_empty() {
        return Err(StoreError::NotFound(format!("content {uuid}")));
    }
    // The parent key cascades to everything below.
    execute(c, "DELETE FROM content_items WHERE org_id = $1 AND uuid = $2", &[&t.id(), &uuid])
        .await
        .map_err(backend)?;
    rows.iter().map(|r| record(t, r)).collect()
}

async fn layout<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    location: &str,
    lock: bool,
) -> Result<Option<ContentData>, StoreError> {
    let sql = format!(
        "SELECT data FROM location_layouts WHERE org_id = $1 AND location_uuid = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows = query(c, &sql, &[&t.id(), &location]).await.map_err(backend)?;
    data_from_text(rows.first().map(|r| r.get::<_, &str>(0)))
}

async fn set_layout<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    location: &str,
    data: ContentData,
) -> Result<Option<String>, StoreError> {
    let old = layout(c, t, location, true).await?;
    execute(
        c,
        "INSERT INTO location_layouts (org_id, location_uuid, data, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, location_uuid) DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at",
        &[&t.id(), &location, &data_to_text(Some(&data)), &now_ms()],
    )
    .await
    .map_err(backend)?;
    Ok(old.map(|d| d.blob))
}

#[async_trait::async_trait]
impl ContentStore for PgStore {
    async fn create_content(&self, t: &Tenant, item: NewContent) -> Result<ContentRecord, StoreError> {
        transaction!(self, |tx| create(&tx, t, item))
    }
    async fn content(&self, t: &Tenant, uuid: &str) -> Result<Option<ContentRecord>, StoreError> {
        read!(self, |c| select_one(c, t, "uuid", uuid, false))
    }
    async fn content_by_path(&self, t: &Tenant, path: &str) -> Result<Option<ContentRecord>, StoreError> {
        read!(self, |c| select_one(c, t, "path", path, false))
    }
    async fn find_content(&self, t: &Tenant, q: &ContentQuery) -> Result<ContentPage, StoreError> {
        read!(self, |c| find(c, t, q))
    }
    async fn set_content_data(
        &self,
        t: &Tenant,
        uuid: &str,
        variant: Option<&str>,
        data: ContentData,
    ) -> Result<(ContentRecord, Option<String>), StoreError> {
        transaction!(self, |tx| set_data(&tx, t, uuid, variant, data))
    }
    async fn delete_content(&self, t: &Tenant, uuid: &str) -> Result<Vec<ContentRecord>, StoreError> {
        transaction!(self, |tx| delete(&tx, t, uuid))
    }
    async fn set_layout(&self, t: &Tenant, location: &str, data: ContentData) -> Result<Option<String>, StoreError> {
        transaction!(self, |tx| set_layout(&tx, t, location, data))
    }
    async fn layout(&self, t: &Tenant, location: &str) -> Result<Option<ContentData>, StoreError> {
        read!(self, |c| layout(c, t, location, false))
    }
}
