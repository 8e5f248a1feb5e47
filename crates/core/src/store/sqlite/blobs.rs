//! Blobs of the embedded store: one file per blob under
//! `<data-dir>/blobs/`, its row in `blobs`.
//!
//! A blob is written to `blobs/tmp/<id>.<random>.part` (mode 0600),
//! fsynced, hard-linked to `blobs/<id>` (which never replaces a file), the
//! directory fsynced, and only then is its row committed; the caller hears
//! "stored" after that. The last steps run in a task of their own, so a
//! caller that goes away meanwhile leaves either the whole blob or nothing.
//! A blob over its cap, or whose bytes stop coming, leaves nothing: the
//! temp file is removed when the write is dropped. Temp files and blob
//! files without a row that are older than [`STALE`] (a crash mid-write,
//! an organization deleted) are removed when the store opens.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::io::AsyncReadExt;

use super::SqliteStore;
use super::errors::backend;
use super::pool::Pool;
use crate::content::columns::check_blob_id;
use crate::ids::Tenant;
use crate::now_ms;
use crate::store::blob_stream::copy_capped;
use crate::store::{BlobChunks, BlobReader, BlobStore, StoreError};

/// The blob directory of a data dir.
pub(crate) const DIR: &str = "blobs";
/// Where blobs are written before they are complete.
const TMP: &str = "tmp";
/// Leftovers older than this are removed at open (a live upload keeps
/// touching its temp file).
const STALE: Duration = Duration::from_secs(600);
/// Bytes per chunk when reading a blob.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes buffered before a write reaches the file.
const WRITE_BUFFER: usize = 256 * 1024;

fn io(what: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {e}", what.display()))
}

impl SqliteStore {
    /// `<data-dir>/blobs`.
    pub(crate) fn blob_dir(&self) -> PathBuf {
        blob_dir(&self.path)
    }
}

fn blob_dir(db: &Path) -> PathBuf {
    db.parent().unwrap_or_else(|| Path::new(".")).join(DIR)
}

/// The file of blob `id` (checked) under the data dir of database `db`.
pub(crate) fn blob_path(db: &Path, id: &str) -> Result<PathBuf, StoreError> {
    check_blob_id(id)?;
    Ok(blob_dir(db).join(id))
}

/// Creates `blobs/` and `blobs/tmp/` (mode 0700) when missing.
fn prepare(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join(TMP))
        .map_err(|e| io(dir, e))
}

/// Removes what interrupted writes left behind: stale temp files, and
/// stale blob files that have no row. Called at open, before serving.
pub(crate) fn clean_leftovers(data_dir: &Path, conn: &Connection) -> Result<(), StoreError> {
    let dir = data_dir.join(DIR);
    if !dir.exists() {
        return Ok(());
    }
    prepare(&dir)?;
    let stale = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE)
    };
    let mut removed = 0u64;
    for entry in std::fs::read_dir(dir.join(TMP)).map_err(|e| io(&dir, e))?.flatten() {
        let path = entry.path();
        if stale(&path) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    let mut known = conn.prepare("SELECT 1 FROM blobs WHERE id = ?1").map_err(backend)?;
    for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))?.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name == TMP || !path.is_file() || !stale(&path) {
            continue;
        }
        let has_row = known
            .query_row([name], |_| Ok(()))
            .optional()
            .map_err(backend)?
            .is_some();
        if !has_row && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "removed blob files left by interrupted writes");
    }
    Ok(())
}

/// A temp file removed when dropped, unless it was linked into place.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), error = %e, "could not remove a blob temp file");
        }
    }
}

async fn write_file(path: &Path, chunks: BlobChunks, max_bytes: u64) -> Result<u64, StoreError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .await
        .map_err(|e| io(path, e))?;
    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let written = copy_capped(chunks, &mut out, max_bytes, |e| io(path, e)).await?;
    out.into_inner().sync_all().await.map_err(|e| io(path, e))?;
    Ok(written)
}

/// Links the complete temp file into place, makes the link durable and
/// commits the row; on failure removes what it made.
async fn publish(
    pool: Arc<Pool>,
    db: PathBuf,
    org: i64,
    id: String,
    tmp: TempFile,
    size: u64,
) -> Result<(), StoreError> {
    let target = blob_path(&db, &id)?;
    let (from, to) = (tmp.0.clone(), target.clone());
    let linked = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        std::fs::hard_link(&from, &to).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::Conflict(format!("blob {}", to.display())),
            _ => io(&to, e),
        })?;
        std::fs::File::open(to.parent().unwrap_or(Path::new(".")))
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&to, e))
    })
    .await
    .map_err(|e| StoreError::Backend(format!("blob task failed: {e}")))?;
    drop(tmp);
    linked?;
    let id_owned = id;
    let row = pool
        .write(move |c| {
            c.execute(
                "INSERT INTO blobs (id, org_id, size, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id_owned, org, size as i64, now_ms()],
            )
            .map(|_| ())
            .map_err(|e| super::errors::map(e, "blob"))
        })
        .await;
    if row.is_err() {
        let _ = std::fs::remove_file(&target);
    }
    row
}

/// Bytes of an open blob file as chunks.
fn chunks_of(file: tokio::fs::File, path: PathBuf) -> BlobChunks {
    futures::stream::try_unfold((file, path), |(mut file, path)| async move {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let n = file.read_buf(&mut buf).await.map_err(|e| io(&path, e))?;
        Ok(if n == 0 {
            None
        } else {
            Some((buf.freeze(), (file, path)))
        })
    })
    .boxed()
}

fn size_of(c: &Connection, org: i64, id: &str) -> Result<Option<u64>, StoreError> {
    c.query_row(
        "SELECT size FROM blobs WHERE id = ?1 AND org_id = ?2",
        params![id, org],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map(|s| s.map(|s| s.max(0) as u64))
    .map_err(backend)
}

#[async_trait::async_trait]
impl BlobStore for SqliteStore {
    async fn put_blob(&self, tenant: &Tenant, id: &str, chunks: BlobChunks, max_bytes: u64) -> Result<u64, StoreError> {
        check_blob_id(id)?;
        let dir = self.blob_dir();
        prepare(&dir)?;
        let tmp = TempFile(dir.join(TMP).join(format!("{id}.{:016x}.part", rand::random::<u64>())));
        let size = write_file(&tmp.0, chunks, max_bytes).await?;
        // From here on the blob is complete: finish it even if the caller
        // stops waiting, so the outcome is all or nothing.
        let publishing = publish(
            self.pool.clone(),
            self.path.clone(),
            tenant.id(),
            id.to_owned(),
            tmp,
            size,
        );
        tokio::spawn(publishing)
            .await
            .map_err(|e| StoreError::Backend(format!("blob task failed: {e}")))??;
        Ok(size)
    }

    async fn blob_size(&self, tenant: &Tenant, id: &str) -> Result<Option<u64>, StoreError> {
        let (org, id) = (tenant.id(), id.to_owned());
        self.pool.read(move |c| size_of(c, org, &id)).await
    }

    async fn read_blob(&self, tenant: &Tenant, id: &str) -> Result<Option<BlobReader>, StoreError> {
        let Some(size) = self.blob_size(tenant, id).await? else {
            return Ok(None);
        };
        let path = blob_path(&self.path, id)?;
        // Open before answering: a delete after this leaves the open file readable.
        let file = tokio::fs::File::open(&path).await.map_err(|e| io(&path, e))?;
        Ok(Some(BlobReader {
            size,
            chunks: chunks_of(file, path),
        }))
    }

    async fn delete_blob(&self, tenant: &Tenant, id: &str) -> Result<bool, StoreError> {
        let path = blob_path(&self.path, id)?;
        let (org, id) = (tenant.id(), id.to_owned());
        let deleted = self
            .pool
            .write(move |c| {
                c.execute("DELETE FROM blobs WHERE id = ?1 AND org_id = ?2", params![id, org])
                    .map_err(backend)
            })
            .await?
            == 1;
        if deleted
            && let Err(e) = tokio::fs::remove_file(&path).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            // Its row is gone: the file is an orphan, removed at the next open.
            tracing::warn!(path = %path.display(), error = %e, "could not remove a deleted blob's file");
        }
        Ok(deleted)
    }
}
