//! Migrations embedded in the binary, applied at open; the schema version
//! is SQLite's `user_version`.

use rusqlite::Connection;

use super::errors::backend;
use crate::store::StoreError;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_init.sql"),
    include_str!("../../../migrations/0002_sms_events.sql"),
    include_str!("../../../migrations/0003_idempotency.sql"),
];

/// The newest schema version this binary knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations the database lacks; refuses a newer schema.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", i as i64 + 1).map_err(backend)?;
        tx.commit().map_err(backend)?;
        tracing::info!(version = i + 1, "applied store migration");
    }
    Ok(SCHEMA_VERSION)
}
