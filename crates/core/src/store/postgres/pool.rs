//! The connection pool: bounded everywhere. Waiting for a connection,
//! making one and checking one all time out, and every statement carries a
//! `statement_timeout`, so when PostgreSQL goes away calls fail fast with
//! `Unavailable` instead of hanging; pooled connections found broken are
//! replaced, so the store recovers on its own when PostgreSQL returns.
//! Sessions send only warnings and errors to the client (no NOTICE lines in
//! the log, such as `CREATE TABLE IF NOT EXISTS` makes at every start).
//! Connections use TLS as `sslmode` in the URL asks (`tls.rs`).

use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::tls::{self, PgTls};
use crate::store::StoreError;

/// Limits of the pool.
#[derive(Debug, Clone)]
pub struct PoolLimits {
    /// Connections kept at most.
    pub max_size: usize,
    /// How long a caller waits for a free connection.
    pub wait: Duration,
    /// How long making a connection may take.
    pub connect: Duration,
    /// How long checking a pooled connection may take.
    pub recycle: Duration,
    /// The longest a statement may run.
    pub statement: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait: Duration::from_secs(5),
            connect: Duration::from_secs(5),
            recycle: Duration::from_secs(2),
            statement: Duration::from_secs(30),
        }
    }
}

/// Checks that `url` is a PostgreSQL URL or connection string this store
/// takes (its `sslmode` included), without connecting: for `config print`
/// to catch what `serve` would refuse.
pub fn check_url(url: &str) -> Result<(), StoreError> {
    let (url, _) = tls::split_sslmode(url)?;
    url.parse::<tokio_postgres::Config>()
        .map(|_| ())
        .map_err(|e| StoreError::Unavailable(format!("store.url is not a PostgreSQL URL: {e}")))
}

/// A pool for `url` (`postgres://user:password@host:port/db?sslmode=...`).
/// No connection is made here.
pub(crate) fn build(url: &str, limits: &PoolLimits, tls: &PgTls) -> Result<Pool, StoreError> {
    let (url, mode) = tls::split_sslmode(url)?;
    let connector = tls::connector(mode, tls)?;
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("store.url is not a PostgreSQL URL: {e}")))?;
    config
        .connect_timeout(limits.connect)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .application_name("thingstead")
        .options(format!(
            "-c statement_timeout={} -c idle_in_transaction_session_timeout={} -c client_min_messages=warning",
            limits.statement.as_millis(),
            limits.statement.as_millis() * 2
        ));
    let manager = Manager::from_config(
        config,
        connector,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(limits.max_size)
        .wait_timeout(Some(limits.wait))
        .create_timeout(Some(limits.connect))
        .recycle_timeout(Some(limits.recycle))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("PostgreSQL pool: {e}")))
}

/// Runs a cached prepared statement, returning its rows.
pub(crate) async fn query<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    let statement = c.prepare_cached(sql).await?;
    c.query(&statement, params).await
}

/// Runs a cached prepared statement, returning the rows it changed.
pub(crate) async fn execute<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let statement = c.prepare_cached(sql).await?;
    c.execute(&statement, params).await
}
