//! Blobs in PostgreSQL: a row in `blobs`, the bytes in `blob_chunks` rows
//! of [`CHUNK`] bytes, so every node serves every blob.
//!
//! An upload is spooled first, as its bytes arrive, into an unnamed
//! temporary file (in `$TMPDIR`, else `/tmp`; the OS removes it when it is
//! closed, a crash included). Only when the last byte is in does the write
//! take a pooled connection, and it holds it for one transaction that
//! copies the file at disk speed: its row first, then a chunk row per
//! [`CHUNK`] bytes. So a client that uploads slowly (up to
//! `content.upload_timeout_secs`) costs this node a file, never one of the
//! pool's few connections, nor an open transaction that PostgreSQL's
//! `idle_in_transaction_session_timeout` would end. The caller hears
//! "stored" after COMMIT. A blob over its cap, a stream that fails, or a
//! caller that goes away leaves nothing: the spool goes with the write,
//! and a transaction not committed is rolled back. A read asks for one
//! chunk row at a time, so memory per reader is one chunk whatever the
//! blob's length.

use bytes::Bytes;
use deadpool_postgres::{GenericClient, Pool};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::PgStore;
use super::errors::{backend, map, pool as pool_error};
use super::pool::{execute, query};
use crate::content::columns::check_blob_id;
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::blob_stream::copy_capped;
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

fn spool_error(e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("spooling an upload to a temporary file: {e}"))
}

/// An upload's bytes in an unnamed temporary file, and their length.
struct Spool {
    file: tokio::fs::File,
    len: u64,
}

impl Spool {
    /// Takes `chunks` into a new spool, at most `max_bytes` of them
    /// (`TooLarge` beyond, as soon as they arrive).
    async fn fill(chunks: BlobChunks, max_bytes: u64) -> Result<Self, StoreError> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(|e| StoreError::Backend(format!("spool task failed: {e}")))?
            .map_err(spool_error)?;
        let mut out = tokio::io::BufWriter::with_capacity(CHUNK, tokio::fs::File::from_std(file));
        let len = copy_capped(chunks, &mut out, max_bytes, spool_error).await?;
        let mut file = out.into_inner();
        file.rewind().await.map_err(spool_error)?;
        Ok(Self { file, len })
    }

    /// The next [`CHUNK`] bytes (fewer only at the end) into `piece`;
    /// how many (0 at the end).
    async fn next_chunk(&mut self, piece: &mut [u8]) -> Result<usize, StoreError> {
        let mut filled = 0;
        while filled < piece.len() {
            let n = self.file.read(&mut piece[filled..]).await.map_err(spool_error)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok(filled)
    }
}

/// Writes the chunk rows of blob `id` (whose `blobs` row exists) from
/// `spool`, and its length into its row; returns that length.
async fn write_chunks<C: GenericClient + Sync>(c: &C, id: &str, mut spool: Spool) -> Result<u64, StoreError> {
    let mut piece = vec![0u8; CHUNK];
    let (mut seq, mut written) = (0i32, 0u64);
    loop {
        let n = spool.next_chunk(&mut piece).await?;
        if n == 0 {
            break;
        }
        insert_chunk(c, id, seq, &piece[..n]).await?;
        seq += 1;
        written += n as u64;
    }
    if written != spool.len {
        return Err(StoreError::Backend(format!(
            "blob {id}: {} bytes spooled but {written} read back",
            spool.len
        )));
    }
    execute(c, "UPDATE blobs SET size = $2 WHERE id = $1", &[&id, &(written as i64)])
        .await
        .map_err(backend)?;
    Ok(written)
}

async fn taken<C: GenericClient + Sync>(c: &C, id: &str) -> Result<bool, StoreError> {
    let rows = query(c, "SELECT 1 FROM blobs WHERE id = $1", &[&id])
        .await
        .map_err(backend)?;
    Ok(!rows.is_empty())
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
    async fn put_blob(&self, tenant: &Tenant, id: &str, chunks: BlobChunks, max_bytes: u64) -> Result<u64, StoreError> {
        check_blob_id(id)?;
        // A taken id fails before a byte is spooled (the insert below
        // still decides a race).
        if read!(self, |c| taken(c, id))? {
            return Err(StoreError::Conflict("blob".into()));
        }
        let spool = Spool::fill(chunks, max_bytes).await?;
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(backend)?;
        execute(
            &tx,
            "INSERT INTO blobs (id, org_id, size, created_at) VALUES ($1, $2, 0, $3)",
            &[&id, &tenant.id(), &now_ms()],
        )
        .await
        .map_err(|e| map(e, "blob"))?;
        let size = write_chunks(&tx, id, spool).await?;
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
            execute(
                c,
                "DELETE FROM blobs WHERE id = $1 AND org_id = $2",
                &[&id, &tenant.id()],
            )
            .await
            .map_err(backend)
        })?;
        Ok(n == 1)
    }
}
