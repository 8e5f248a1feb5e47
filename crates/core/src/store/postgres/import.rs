//! Filling an empty PostgreSQL store from another store's rows
//! (`store/migrate.rs`): one transaction that locks every copied table,
//! refuses a target holding rows, copies each table in batches (one binary
//! `COPY` per batch, so no statement runs long), advances the id sequences
//! past the ids copied, and compares the counts before it commits.

use std::error::Error;

use bytes::BytesMut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::PgStore;
use super::errors::backend;
use crate::store::migrate::{BLOBS, Kind, MigrateError, Progress, RowSource, TABLES, Table, TableCount, Value};

/// Rows read and written per batch.
const BATCH: usize = 1000;

impl PgStore {
    /// Copies every table of [`TABLES`] from `source` into this store, which
    /// must hold no rows in them; all or nothing.
    pub(crate) async fn import(
        &self,
        source: &mut (dyn RowSource + Send),
        progress: &mut (dyn FnMut(Progress<'_>) + Send),
    ) -> Result<Vec<TableCount>, MigrateError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(backend)?;
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        // Nodes started on the target meanwhile wait instead of writing.
        tx.batch_execute(&format!("LOCK TABLE {} IN EXCLUSIVE MODE", names.join(", ")))
            .await
            .map_err(backend)?;
        for table in TABLES {
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.name);
            let full: bool = tx.query_one(&sql, &[]).await.map_err(backend)?.get(0);
            if full {
                return Err(MigrateError::TargetNotEmpty { table: table.name });
            }
        }
        let mut counts = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let total = source.count(table)?;
            let copied = copy_table(&tx, table, source, total, progress).await?;
            if table.name == BLOBS {
                copy_blob_bytes(&tx, source).await?;
            }
            if table.id_sequence {
                let high = source.high_water(table)?;
                if high > 0 {
                    let sql = format!("SELECT setval(pg_get_serial_sequence('{}', 'id'), $1)", table.name);
                    tx.query_one(&sql, &[&high]).await.map_err(backend)?;
                }
            }
            let sql = format!("SELECT count(*) FROM {}", table.name);
            let target: i64 = tx.query_one(&sql, &[]).await.map_err(backend)?.get(0);
            let target = target.max(0) as u64;
            if target != total || copied != total {
                return Err(MigrateError::Mismatch {
                    table: table.name,
                    in_source: total,
                    in_target: target,
                });
            }
            counts.push(TableCount {
                table: table.name,
                source: total,
                target,
            });
        }
        tx.commit().await.map_err(backend)?;
        Ok(counts)
    }
}

/// Copies one table batch by batch; returns the rows written.
async fn copy_table(
    tx: &deadpool_postgres::Transaction<'_>,
    table: &Table,
    source: &mut (dyn RowSource + Send),
    total: u64,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<u64, MigrateError> {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let types: Vec<Type> = table.columns.iter().map(|c| pg_type(c.kind)).collect();
    let copy = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        table.name,
        columns.join(", ")
    );
    let (mut after, mut copied) = (0, 0u64);
    progress(Progress {
        table: table.name,
        copied,
        total,
    });
    loop {
        let batch = source.rows(table, after, BATCH)?;
        let Some(&(last, _)) = batch.last() else { break };
        let sink = tx.copy_in(&copy).await.map_err(backend)?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        let mut writer = std::pin::pin!(writer);
        for (_, row) in &batch {
            writer.as_mut().write_raw(row.iter()).await.map_err(backend)?;
        }
        copied += writer.finish().await.map_err(backend)?;
        after = last;
        progress(Progress {
            table: table.name,
            copied,
            total,
        });
    }
    Ok(copied)
}

/// Copies the bytes of every blob copied into chunk rows, piece by piece,
/// and checks each blob's length against its row.
async fn copy_blob_bytes(
    tx: &deadpool_postgres::Transaction<'_>,
    source: &mut (dyn RowSource + Send),
) -> Result<(), MigrateError> {
    use std::io::Read;
    let blobs = tx
        .query("SELECT id, size FROM blobs ORDER BY id", &[])
        .await
        .map_err(backend)?;
    let mut piece = vec![0u8; super::blobs::CHUNK];
    for row in blobs {
        let (id, size): (String, i64) = (row.get(0), row.get(1));
        let mut bytes = source.blob(&id)?;
        let (mut seq, mut copied) = (0i32, 0i64);
        loop {
            // Fill a whole chunk (a read may return less).
            let mut filled = 0;
            while filled < piece.len() {
                let n = bytes
                    .read(&mut piece[filled..])
                    .map_err(|e| crate::store::StoreError::Unavailable(format!("blob {id}: {e}")))?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            tx.execute(
                "INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)",
                &[&id, &seq, &&piece[..filled]],
            )
            .await
            .map_err(backend)?;
            seq += 1;
            copied += filled as i64;
        }
        if copied != size {
            return Err(crate::store::StoreError::Backend(format!(
                "blob {id}: {size} bytes in its row but {copied} in its file; rolled back"
            ))
            .into());
        }
    }
    Ok(())
}

fn pg_type(kind: Kind) -> Type {
    match kind {
        Kind::Int => Type::INT8,
        Kind::Text => Type::TEXT,
        Kind::Bytes => Type::BYTEA,
        Kind::TextList => Type::TEXT_ARRAY,
        Kind::Real => Type::FLOAT8,
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bytes(b) => b.to_sql(ty, out),
            Value::TextList(l) => l.to_sql(ty, out),
            Value::Real(f) => f.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::INT8, Type::TEXT, Type::BYTEA, Type::TEXT_ARRAY, Type::FLOAT8].contains(ty)
    }

    to_sql_checked!();
}
