//! Blobs in PostgreSQL: a row in `blobs`, the bytes in `blob_chunks` rows
//! of [`CHUNK`] bytes, so every node serves every blob.
//!
//! A blob is written in one transaction (its row first, so a taken id
//! fails at once, then a chunk row per [`CHUNK`] bytes as they arrive);
//! the caller hears "stored" after COMMIT. A blob over its cap, a stream
//! that fails, or a caller that goes away rolls the transaction back:
//! nothing is kept. A read asks for one chunk row at a time, so memory per
//! reader is one chunk whatever the blob's length.

use bytes::{Bytes, BytesMut};
use deadpool_postgres::{GenericClient, Pool};
use futures::StreamExt;

use super::PgStore;
use super::errors::{backend, map, pool as pool_error};
use super::pool::{execute, query};
use crate::content::columns::check_blob_id;
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::{BlobChunks, BlobReader, BlobStore, StoreError};

/// Bytes per chunk row.
pub(crate) const CHUNK: usize = 256 * 1024;

async fn insert_chunk<C: GenericClient + Sync>(c: &C, id: &str, seq: i32, data: &[u8]) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)",
        &[&id, &seq, &data],
    )
    .await
    .map(|_| ())
    .map_err(backend)
}

/// Writes the chunk rows of blob `id` (whose `blobs` row exists) from
/// `chunks`; returns its length.
pub(crate) async fn write_chunks<C: GenericClient + Sync>(
    c: &C,
    id: &str,
    mut chunks: BlobChunks,
    max_bytes: u64,
) -> Result<u64, StoreError> {
    let mut buf = BytesMut::with_capacity(CHUNK);
    let (mut seq, mut written) = (0i32, 0u64);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        written += chunk.len() as u64;
        if written > max_bytes {
            return Err(StoreError::TooLarge { limit: max_bytes });
        }
        buf.extend_from_slice(&chunk);
        while buf.len() >= CHUNK {
            let full = buf.split_to(CHUNK);
            insert_chunk(c, id, seq, &full).await?;
            seq += 1;
        }
    }
    if !buf.is_empty() {
        insert_chunk(c, id, seq, &buf).await?;
    }
    execute(c, "UPDATE blobs SET size = $2 WHERE id = $1", &[&id, &(written as i64)])
        .await
        .map_err(backend)?;
    Ok(written)
}

async fn size_of<C: GenericClient + Sync>(c: &C, org: i64, id: &str) -> Result<Option<u64>, StoreError> {
    let rows = query(c, "SELECT size FROM blobs WHERE id = $1 AND org_id = $2", &[&id, &org])
        .await
        .map_err(backend)?;
    Ok(rows.first().map(|r| r.get::<_, i64>(0).max(0) as u64))
}

/// The chunks of blob `id` of length `size`, one query each.
fn chunks_of(pool: Pool, id: String, size: u64) -> BlobChunks {
    futures::stream::try_unfold((pool, id, 0i32, 0u64), move |(pool, id, seq, read)| async move {
        if read >= size {
            return Ok(None);
        }
        let conn = pool.get().await.map_err(pool_error)?;
        let rows = query(
            &conn,
            "SELECT data FROM blob_chunks WHERE blob_id = $1 AND seq = $2",
            &[&id, &seq],
        )
        .await
        .map_err(backend)?;
        drop(conn);
        let Some(row) = rows.first() else {
            return Err(StoreError::NotFound(format!("blob {id} chunk {seq}")));
        };
        let data: Vec<u8> = row.get(0);
        if data.is_empty() {
            return Err(StoreError::Backend(format!("blob {id}: empty chunk {seq}")));
        }
        let read = read + data.len() as u64;
        Ok(Some((Bytes::from(data), (pool, id, seq + 1, read))))
    })
    .boxed()
}

#[async_trait::async_trait]
impl BlobStore for PgStore {
    async fn put_blob(
        &self,
        tenant: &Tenant,
        id: &str,
        chunks: BlobChunks,
        max_bytes: u64,
    ) -> Result<u64, StoreError> {
        check_blob_id(id)?;
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(backend)?;
        execute(
            &tx,
            "INSERT INTO blobs (id, org_id, size, created_at) VALUES ($1, $2, 0, $3)",
            &[&id, &tenant.id(), &now_ms()],
        )
        .await
        .map_err(|e| map(e, "blob"))?;
        let size = write_chunks(&tx, id, chunks, max_bytes).await?;
        tx.commit().await.map_err(backend)?;
        self.committed(Ok(size))
    }

    async fn blob_size(&self, tenant: &Tenant, id: &str) -> Result<Option<u64>, StoreError> {
        read!(self, |c| size_of(c, tenant.id(), id))
    }

    async fn read_blob(&self, tenant: &Tenant, id: &str) -> Result<Option<BlobReader>, StoreError> {
        let Some(size) = self.blob_size(tenant, id).await? else {
            return Ok(None);
        };
        Ok(Some(BlobReader {
            size,
            chunks: chunks_of(self.pool.clone(), id.to_owned(), size),
        }))
    }

    async fn delete_blob(&self, tenant: &Tenant, id: &str) -> Result<bool, StoreError> {
        // The chunk rows go with it (ON DELETE CASCADE).
        let n = write!(self, |c| async {
            execute(c, "DELETE FROM blobs WHERE id = $1 AND org_id = $2", &[&id, &tenant.id()])
                .await
                .map_err(backend)
        })?;
        Ok(n == 1)
    }
}
