//! Copying a whole store to another backend (`thingstead admin migrate`):
//! the embedded SQLite store into an empty PostgreSQL database.
//!
//! Both backends keep the same tables with the same columns; [`TABLES`]
//! lists every table that holds records, in an order that satisfies the
//! foreign keys, with the kind of each column. A backend reads rows through
//! [`RowSource`] (`sqlite/export.rs`) and the other writes them
//! (`postgres/import.rs`); neither knows the list. **A new table is one more
//! entry in [`TABLES`]** (or in [`NOT_COPIED`], saying why): the copy
//! refuses a source holding a table that is in neither, so a table added to
//! the schema without a line here fails loudly instead of being lost.
//!
//! Values are copied as stored: keyed device-key hashes, argon2 hashes and
//! sealed secrets move byte for byte. Sealing binds a value to its record's
//! uuid (`sealed.rs`), never to a row id, and every key (uuids and ids
//! alike) is kept, so nothing is re-sealed; the target opens them with the
//! same master key file, which never goes into the database.

use serde::Serialize;

use crate::store::StoreError;

/// How a column's values travel between backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 64-bit integer (`INTEGER` / `BIGINT`).
    Int,
    /// UTF-8 text.
    Text,
    /// Bytes (`BLOB` / `BYTEA`): payloads, sealed values.
    Bytes,
    /// A list of strings: a JSON array in SQLite, `TEXT[]` in PostgreSQL.
    TextList,
    /// A floating-point number (`REAL` / `DOUBLE PRECISION`).
    Real,
}

/// One column of a copied table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its name, the same in every backend.
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
}

/// One copied table.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Its name, the same in every backend.
    pub name: &'static str,
    /// The columns copied (all of them).
    pub columns: &'static [Column],
    /// Whether its `id` comes from a sequence the target must advance past
    /// the ids copied (and past ids the source handed out and deleted since).
    pub id_sequence: bool,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

use Kind::{Bytes, Int, Real, Text, TextList};

/// Every table holding records, parents before children.
pub const TABLES: &[Table] = &[
    Table {
        name: "orgs",
        columns: &[
            col("id", Int),
            col("name", Text),
            col("message_retention_secs", Int),
            col("created_at", Int),
        ],
        id_sequence: true,
    },
    Table {
        name: "users",
        columns: &[
            col("org_id", Int),
            col("username", Text),
            col("password_hash", Text),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "devices",
        columns: &[
            col("uuid", Text),
            col("org_id", Int),
            col("name", Text),
            col("secret_enc", Bytes),
            col("devicekey_hash", Text),
            col("totp_seed_enc", Bytes),
            col("totp_last_step", Int),
            col("last_seen_addr", Text),
            col("last_seen_at", Int),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "apps",
        columns: &[
            col("uuid", Text),
            col("org_id", Int),
            col("name", Text),
            col("api_key_enc", Bytes),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "oauth_clients",
        columns: &[
            col("client_id", Text),
            col("org_id", Int),
            col("secret_hash", Text),
            col("scopes", TextList),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "api_keys",
        columns: &[
            col("id", Text),
            col("org_id", Int),
            col("prefix", Text),
            col("key_hash", Text),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "messages",
        columns: &[
            col("id", Int),
            col("org_id", Int),
            col("device_uuid", Text),
            col("topics", TextList),
            col("payload", Bytes),
            col("received_at", Int),
            col("peer", Text),
            col("sdk", Text),
            col("modem", Text),
            col("idempotency_key", Text),
        ],
        id_sequence: true,
    },
    Table {
        name: "sms",
        columns: &[
            col("id", Int),
            col("org_id", Int),
            col("device_uuid", Text),
            col("destination", Text),
            col("text", Text),
            col("state", Text),
            col("attempts", Int),
            col("provider_id", Text),
            col("reason", Text),
            col("created_at", Int),
            col("updated_at", Int),
            col("next_attempt_at", Int),
            col("claimed_by", Text),
            col("claim_until", Int),
        ],
        id_sequence: true,
    },
    Table {
        name: "sms_events",
        columns: &[
            col("id", Int),
            col("org_id", Int),
            col("sms_id", Int),
            col("state", Text),
            col("attempt", Int),
            col("provider_id", Text),
            col("detail", Text),
            col("at", Int),
        ],
        id_sequence: true,
    },
    Table {
        name: "deliveries",
        columns: &[
            col("id", Int),
            col("org_id", Int),
            col("device_uuid", Text),
            col("target", Text),
            col("result", Text),
            col("detail", Text),
            col("at", Int),
        ],
        id_sequence: true,
    },
    Table {
        name: "signing_keys",
        columns: &[
            col("purpose", Text),
            col("generation", Int),
            col("secret_sealed", Bytes),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "documents",
        columns: &[
            col("org_id", Int),
            col("collection", Text),
            col("uuid", Text),
            col("device_uuid", Text),
            col("unique_name", Text),
            col("body", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "document_terms",
        columns: &[
            col("org_id", Int),
            col("collection", Text),
            col("uuid", Text),
            col("path", Text),
            col("value", Text),
            col("num", Real),
        ],
        id_sequence: false,
    },
    Table {
        name: "data_items",
        columns: &[
            col("org_id", Int),
            col("grp", Text),
            col("key", Text),
            col("value", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
    // Things (issue 9): categories, current property values, history.
    Table {
        name: "thing_categories",
        columns: &[
            col("org_id", Int),
            col("name", Text),
            col("description", Text),
            col("model_name", Text),
            col("model_version", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "thing_status",
        columns: &[
            col("org_id", Int),
            col("collection", Text),
            col("uuid", Text),
            col("name", Text),
            col("value", Text),
            col("num", Real),
            col("str", Text),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "thing_history",
        columns: &[
            col("org_id", Int),
            col("collection", Text),
            col("uuid", Text),
            col("at", Int),
            col("name", Text),
            col("value", Text),
        ],
        id_sequence: false,
    },
    // The rows of blobs; their bytes follow each row ([`RowSource::blob`]).
    Table {
        name: "blobs",
        columns: &[
            col("id", Text),
            col("org_id", Int),
            col("size", Int),
            col("created_at", Int),
        ],
        id_sequence: false,
    },
    // Parents before children: a folder is always older than what it holds.
    Table {
        name: "content_items",
        columns: &[
            col("uuid", Text),
            col("org_id", Int),
            col("name", Text),
            col("subtype", Text),
            col("parent", Text),
            col("path", Text),
            col("url", Text),
            col("data", Text),
            col("variants", Text),
            col("fields", Text),
            col("created_at", Int),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "location_layouts",
        columns: &[
            col("org_id", Int),
            col("location_uuid", Text),
            col("data", Text),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
    // Copied: a token revoked before the move must stay refused after it.
    Table {
        name: "token_revocations",
        columns: &[
            col("jti", Text),
            col("org_id", Int),
            col("expires_at", Int),
            col("revoked_at", Int),
        ],
        id_sequence: false,
    },
    Table {
        name: "thing_actions",
        columns: &[
            col("id", Int),
            col("action_id", Text),
            col("org_id", Int),
            col("thing_uid", Text),
            col("name", Text),
            col("input", Text),
            col("status", Text),
            col("output", Text),
            col("requested_at", Int),
            col("completed_at", Int),
        ],
        id_sequence: true,
    },
    Table {
        name: "thing_events",
        columns: &[
            col("id", Int),
            col("event_id", Text),
            col("org_id", Int),
            col("thing_uid", Text),
            col("name", Text),
            col("data", Text),
            col("at", Int),
        ],
        id_sequence: true,
    },
    Table {
        name: "space_retention",
        columns: &[
            col("org_id", Int),
            col("history_days", Int),
            col("events_days", Int),
            col("updated_at", Int),
        ],
        id_sequence: false,
    },
];

/// The table whose rows each come with bytes ([`RowSource::blob`]).
pub const BLOBS: &str = "blobs";

/// Tables of a source that are deliberately not copied, and why.
pub const NOT_COPIED: &[(&str, &str)] = &[
    (
        "pairings",
        "pairing offers live minutes; a device being paired while the store moves is paired again",
    ),
    (
        "meta",
        "the master-key canary: the target seals its own with the same key when it is opened",
    ),
    (
        "leases",
        "cluster work leases (retention sweeps) of the old server: run-time state that expires",
    ),
    (
        "sqlite_sequence",
        "SQLite's id counters: carried over as the target's sequences",
    ),
    ("schema_version", "each backend keeps its own schema version"),
];

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// [`Kind::Int`].
    Int(i64),
    /// [`Kind::Text`].
    Text(String),
    /// [`Kind::Bytes`].
    Bytes(Vec<u8>),
    /// [`Kind::TextList`].
    TextList(Vec<String>),
    /// [`Kind::Real`].
    Real(f64),
}

/// One row: a value per column of its [`Table`], in order.
pub type Row = Vec<Value>;

/// The reading side of a copy: one consistent snapshot of a store.
pub trait RowSource {
    /// Every table of the source's schema.
    fn table_names(&mut self) -> Result<Vec<String>, StoreError>;
    /// How many rows `table` holds.
    fn count(&mut self, table: &Table) -> Result<u64, StoreError>;
    /// Up to `limit` rows of `table` after cursor `after` (0: from the
    /// start), in a stable order, each with its cursor.
    fn rows(&mut self, table: &Table, after: i64, limit: usize) -> Result<Vec<(i64, Row)>, StoreError>;
    /// The highest id `table` ever handed out (0: none); only asked for
    /// tables with [`Table::id_sequence`].
    fn high_water(&mut self, table: &Table) -> Result<i64, StoreError>;
    /// The bytes of the blob whose [`BLOBS`] row has id `id`, to be read
    /// in pieces (never whole in memory).
    fn blob(&mut self, id: &str) -> Result<Box<dyn std::io::Read + Send>, StoreError>;
}

/// How far the copy of one table is, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The table being copied.
    pub table: &'a str,
    /// Rows copied so far.
    pub copied: u64,
    /// Rows to copy.
    pub total: u64,
}

/// The rows of one table on each side after a copy.
#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    /// The table.
    pub table: &'static str,
    /// Rows in the source.
    pub source: u64,
    /// Rows in the target, counted before the commit.
    pub target: u64,
}

/// Why a copy did not happen; the target is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The target already holds records.
    #[error("the target database is not empty (table {table} holds rows); migrate into an empty database")]
    TargetNotEmpty {
        /// The first non-empty table found.
        table: &'static str,
    },
    /// The source holds a table this binary does not know how to copy.
    #[error("the source store has a table `{0}` that migrate does not know; nothing was copied (upgrade thingstead)")]
    UnknownTable(String),
    /// The counts after the copy differ.
    #[error("table {table}: {in_source} rows in the source but {in_target} in the target after the copy; rolled back")]
    Mismatch {
        /// The table.
        table: &'static str,
        /// Rows in the source.
        in_source: u64,
        /// Rows in the target.
        in_target: u64,
    },
    /// Either store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refuses a source whose schema holds a table neither copied nor
/// deliberately left out.
pub fn check_covered(names: &[String]) -> Result<(), MigrateError> {
    match names
        .iter()
        .find(|n| !TABLES.iter().any(|t| t.name == n.as_str()) && !NOT_COPIED.iter().any(|(skip, _)| skip == n))
    {
        Some(unknown) => Err(MigrateError::UnknownTable(unknown.clone())),
        None => Ok(()),
    }
}

/// Copies the embedded store of `data_dir` into the empty PostgreSQL
/// database at `url`, all or nothing, and verifies the counts per table
/// before committing.
///
/// The source is opened as a store first (which proves `key` is its master
/// key, and brings an older schema up to date), then read in one read
/// transaction, so the copy is one consistent snapshot even if an admin
/// command writes meanwhile. The target is opened as a store (migrating it
/// to the current schema and sealing the key canary), then filled in one
/// transaction that locks its tables. The caller keeps servers off the
/// source (the serve lock).
#[cfg(feature = "postgres")]
pub async fn sqlite_to_postgres(
    data_dir: &std::path::Path,
    key: crate::master_key::MasterKey,
    url: &str,
    tls: &crate::store::postgres::PgTls,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<Vec<TableCount>, MigrateError> {
    use crate::store::StoreLifecycle;
    use crate::store::postgres::{PgStore, PoolLimits};
    use crate::store::sqlite::{SqliteExport, SqliteStore};

    let source = SqliteStore::open(data_dir, key.clone())?;
    source.close().await;
    let mut rows = SqliteExport::open(data_dir)?;
    check_covered(&rows.table_names()?)?;
    let limits = PoolLimits {
        max_size: 2,
        ..PoolLimits::default()
    };
    let target = PgStore::connect(url, key, limits, tls).await?;
    let copied = target.import(&mut rows, progress).await;
    target.close().await;
    copied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_of_a_new_embedded_store_is_copied_or_left_out_on_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::master_key::MasterKey::load_or_generate(&dir.path().join("master.key")).unwrap();
        drop(crate::store::sqlite::SqliteStore::open(dir.path(), key).unwrap());
        let mut export = crate::store::sqlite::SqliteExport::open(dir.path()).unwrap();
        let names = export.table_names().unwrap();
        assert!(names.iter().any(|n| n == "messages"), "{names:?}");
        check_covered(&names).unwrap();
        // And every listed column exists in SQLite (a read of each table
        // names them all).
        for t in TABLES {
            export.rows(t, 0, 1).unwrap();
            export.count(t).unwrap();
        }
        let err = check_covered(&["signing_keys_2".into()]).unwrap_err().to_string();
        assert!(err.contains("signing_keys_2"), "{err}");
    }
}
