//! The PostgreSQL backend, for several stateless nodes on one database:
//! the same promises as the SQLite store. A caller hears "stored" only
//! after COMMIT; device messages are group-committed by one writer task per
//! node (`ingest.rs`); other writes are one transaction each. Uniqueness
//! lives in the database (unique indexes, conditional updates), so it holds
//! across nodes. Migrations run at open under an advisory lock.

/// Runs `$body` with `$c` bound to a pooled connection.
macro_rules! read {
    ($self:ident, |$c:ident| $body:expr) => {{
        let conn = $self.conn().await?;
        let $c = &conn;
        $body.await
    }};
}

/// Runs `$body` as one autocommitted statement and counts it.
macro_rules! write {
    ($self:ident, |$c:ident| $body:expr) => {{
        let conn = $self.conn().await?;
        let $c = &conn;
        let result = $body.await;
        $self.committed(result)
    }};
}

/// Runs `$body` in one transaction and counts it.
macro_rules! transaction {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let mut conn = $self.conn().await?;
        let $tx = conn
            .transaction()
            .await
            .map_err($crate::store::postgres::errors::backend)?;
        let value = $body.await?;
        $tx.commit().await.map_err($crate::store::postgres::errors::backend)?;
        $self.committed(Ok(value))
    }};
}

mod blobs;
mod content;
mod documents;
mod errors;
mod import;
mod ingest;
mod keys;
mod messages;
mod outbox;
mod pairings;
mod pool;
mod registry;
mod retention;
mod revocations;
mod schema;
mod thing_actions;
mod thing_activity;
mod thing_events;
mod thing_history;
mod things;
mod tls;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::{Object, Pool};

use self::errors::backend;
use self::ingest::Ingest;
pub use self::pool::{PoolLimits, check_url};
pub use self::tls::PgTls;
use crate::master_key::MasterKey;
use crate::store::{StoreError, StoreLifecycle, StoreStats};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) writes: AtomicU64,
    pub(crate) commits: AtomicU64,
}

/// The PostgreSQL store of one database.
pub struct PgStore {
    pool: Pool,
    key: Arc<MasterKey>,
    ingest: Ingest,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`) with the
    /// default limits and applies migrations. `key` seals credentials at
    /// rest; a database made with another key is refused. Must be called
    /// inside a tokio runtime (it starts the writer task).
    pub async fn open(url: &str, key: MasterKey) -> Result<Self, StoreError> {
        Self::open_with(url, key, PoolLimits::default()).await
    }

    /// [`PgStore::open`] with explicit pool limits.
    pub async fn open_with(url: &str, key: MasterKey, limits: PoolLimits) -> Result<Self, StoreError> {
        Self::connect(url, key, limits, &PgTls::default()).await
    }

    /// [`PgStore::open`] with explicit pool limits and TLS settings
    /// (`sslmode` in `url`; the CA file of a private CA in `tls`).
    pub async fn connect(url: &str, key: MasterKey, limits: PoolLimits, tls: &PgTls) -> Result<Self, StoreError> {
        let pool = pool::build(url, &limits, tls)?;
        let mut client = pool.get().await.map_err(errors::pool)?;
        schema::migrate(&mut client, &key).await?;
        drop(client);
        let counters = Arc::new(Counters::default());
        Ok(Self {
            ingest: Ingest::start(pool.clone(), counters.clone()),
            pool,
            key: Arc::new(key),
            counters,
        })
    }

    async fn conn(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(errors::pool)
    }

    /// Counts a write that committed on its own.
    fn committed<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_ok() {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
            self.counters.commits.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

#[async_trait::async_trait]
impl StoreLifecycle for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        conn.simple_query("SELECT 1").await.map(|_| ()).map_err(backend)
    }
    fn stats(&self) -> StoreStats {
        StoreStats {
            writes: self.counters.writes.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
        }
    }
    async fn close(&self) {
        self.ingest.close().await;
        self.pool.close();
    }
}
