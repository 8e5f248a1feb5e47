//! Reading a whole SQLite store for a copy to another backend
//! (`store/migrate.rs`): a read-only connection holding one read
//! transaction, so every table is read from the same snapshot.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::errors::backend;
use super::{BUSY_TIMEOUT, DB_FILE, SCHEMA_VERSION};
use crate::store::StoreError;
use crate::store::migrate::{Kind, Row, RowSource, Table, Value};

/// A read-only snapshot of the store of one data dir.
pub struct SqliteExport {
    conn: Connection,
    db: std::path::PathBuf,
}

impl std::fmt::Debug for SqliteExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteExport").finish_non_exhaustive()
    }
}

impl SqliteExport {
    /// Opens the store of `data_dir` read-only and starts its snapshot. The
    /// schema must be the current one (open it as a store first).
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::Backend(format!(
                "{}: schema version {version}, expected {SCHEMA_VERSION}",
                path.display()
            )));
        }
        // The first read inside the transaction fixes the snapshot.
        conn.execute_batch("BEGIN DEFERRED").map_err(backend)?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(backend)?;
        Ok(Self { conn, db: path })
    }
}

impl RowSource for SqliteExport {
    fn table_names(&mut self) -> Result<Vec<String>, StoreError> {
        self.conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0)).and_then(Iterator::collect))
            .map_err(backend)
    }

    fn count(&mut self, table: &Table) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row(&format!("SELECT count(*) FROM {}", table.name), [], |r| r.get(0))
            .map_err(backend)?;
        Ok(n.max(0) as u64)
    }

    fn rows(&mut self, table: &Table, after: i64, limit: usize) -> Result<Vec<(i64, Row)>, StoreError> {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
        let sql = format!(
            "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            columns.join(", "),
            table.name
        );
        let mut statement = self.conn.prepare_cached(&sql).map_err(backend)?;
        let mut rows = statement
            .query(rusqlite::params![after, limit as i64])
            .map_err(backend)?;
        let mut out = Vec::with_capacity(limit);
        while let Some(r) = rows.next().map_err(backend)? {
            let rowid: i64 = r.get(0).map_err(backend)?;
            let mut row = Vec::with_capacity(table.columns.len());
            for (i, column) in table.columns.iter().enumerate() {
                let raw = r.get_ref(i + 1).map_err(backend)?;
                let value = convert(column.kind, raw).map_err(|why| {
                    StoreError::Backend(format!("{}.{} of row {rowid}: {why}", table.name, column.name))
                })?;
                row.push(value);
            }
            out.push((rowid, row));
        }
        Ok(out)
    }

    fn high_water(&mut self, table: &Table) -> Result<i64, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row(&format!("SELECT max(id) FROM {}", table.name), [], |r| r.get(0))
            .map_err(backend)?;
        // AUTOINCREMENT tables remember ids handed out and deleted since.
        let seq: Option<i64> = self
            .conn
            .query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", [table.name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(backend)?;
        Ok(max.unwrap_or(0).max(seq.unwrap_or(0)))
    }

    fn blob(&mut self, id: &str) -> Result<Box<dyn std::io::Read + Send>, StoreError> {
        let path = super::blobs::blob_path(&self.db, id)?;
        let file =
            std::fs::File::open(&path).map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        Ok(Box::new(file))
    }
}

/// A stored value as the kind its column copies as.
fn convert(kind: Kind, raw: ValueRef<'_>) -> Result<Value, String> {
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| "text that is not UTF-8".to_owned());
    Ok(match (kind, raw) {
        (_, ValueRef::Null) => Value::Null,
        (Kind::Int, ValueRef::Integer(i)) => Value::Int(i),
        (Kind::Real, ValueRef::Real(f)) => Value::Real(f),
        (Kind::Real, ValueRef::Integer(i)) => Value::Real(i as f64),
        (Kind::Text, ValueRef::Text(b)) => Value::Text(text(b)?),
        (Kind::Bytes, ValueRef::Blob(b) | ValueRef::Text(b)) => Value::Bytes(b.to_vec()),
        (Kind::TextList, ValueRef::Text(b)) => {
            Value::TextList(serde_json::from_slice(b).map_err(|e| format!("not a JSON list of strings: {e}"))?)
        }
        (kind, other) => return Err(format!("a {:?} value where {kind:?} was expected", other.data_type())),
    })
}
