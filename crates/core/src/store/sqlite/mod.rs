//! The embedded SQLite backend: WAL, `synchronous=FULL`, migrations at
//! open, one group-committing writer and a small reader pool.

mod blobs;
mod content;
mod documents;
mod errors;
mod export;
mod keys;
mod messages;
mod outbox;
mod pairings;
mod pool;
mod registry;
mod retention;
mod revocations;
mod schema;
#[cfg(test)]
mod sort_plans;
mod standing;
mod thing_actions;
mod thing_activity;
mod thing_events;
mod thing_history;
mod things;
mod writer_priority;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use self::export::SqliteExport;
use self::pool::Pool;
use crate::master_key::MasterKey;
use crate::store::{StoreError, StoreLifecycle, StoreStats};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

/// The database file in a data dir.
pub const DB_FILE: &str = "thingstead.db";

/// Reader connections kept open.
const READERS: usize = 4;
/// How long a statement waits for another process's lock (the admin CLI).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store of one data directory (`<data-dir>/thingstead.db`).
pub struct SqliteStore {
    pool: Arc<Pool>,
    path: PathBuf,
    key: Arc<MasterKey>,
    standings: Arc<standing::Standings>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, creating the
    /// directory with mode 0700 and every file in it with mode 0600, and
    /// applies migrations. `key` seals credentials at rest; a store made
    /// with another key refuses to open.
    pub fn open(data_dir: &Path, key: MasterKey) -> Result<Self, StoreError> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        create_private_file(&path)?;
        let mut writer = open_conn(&path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(errors::backend)?;
        schema::migrate(&mut writer, &key)?;
        blobs::clean_leftovers(data_dir, &writer)?;
        let epoch_file = data_dir.join(standing::EPOCH_FILE);
        create_private_file(&epoch_file)?;
        standing::attach(&writer, &epoch_file, true)?;
        // SQLite gives the -wal and -shm files the database file's mode;
        // ones left by an older version are made private here.
        for db in [&path, &epoch_file] {
            for suffix in ["-wal", "-shm"] {
                let mut side = db.as_os_str().to_owned();
                side.push(suffix);
                make_private(Path::new(&side))?;
            }
        }
        let readers = (0..READERS)
            .map(|_| {
                let reader = open_conn(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
                standing::attach(&reader, &epoch_file, false)?;
                Ok(reader)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Self {
            pool: Arc::new(Pool::new(writer, readers)),
            path,
            key: Arc::new(key),
            standings: Arc::default(),
        })
    }

    /// Creates `data_dir` with mode 0700 (or makes an existing one 0700).
    pub fn prepare_dir(data_dir: &Path) -> Result<(), StoreError> {
        create_private_dir(data_dir)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let unavailable = |e: std::io::Error| StoreError::Unavailable(format!("data dir {}: {e}", dir.display()));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(unavailable)?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(unavailable)
}

/// Creates `path` with mode 0600 when missing; makes it 0600 when not.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => make_private(path),
        Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", path.display()))),
    }
}

/// Mode 0600 for an existing file (nothing when it does not exist).
fn make_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(StoreError::Unavailable(format!("{}: {e}", path.display())))
        }
        _ => Ok(()),
    }
}

fn open_conn(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(errors::backend)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(errors::backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[async_trait::async_trait]
impl StoreLifecycle for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(errors::backend))
            .await
    }
    fn stats(&self) -> StoreStats {
        self.pool.stats()
    }
    async fn close(&self) {
        self.pool.close().await;
    }
}
