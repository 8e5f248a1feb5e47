//! Migrations embedded in the binary, applied at open in one transaction
//! under a transaction-level advisory lock, so nodes starting together
//! apply each migration once; the version is kept in `schema_version`.

use deadpool_postgres::Object;
use deadpool_postgres::Transaction;

use super::errors::backend;
use crate::master_key::MasterKey;
use crate::store::StoreError;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_claims.sql"),
    include_str!("migrations/0003_signing_keys.sql"),
    include_str!("migrations/0004_documents.sql"),
    include_str!("migrations/0005_content.sql"),
    include_str!("migrations/0006_pairings.sql"),
    include_str!("migrations/0007_things.sql"),
    include_str!("migrations/0008_token_revocations.sql"),
    include_str!("migrations/0009_thing_actions_events.sql"),
    include_str!("migrations/0010_term_numbers.sql"),
];

/// The version whose migration is followed, in its transaction, by
/// [`term_numbers`].
const TERM_NUMBERS: i64 = 10;

/// Documents read at a time by [`term_numbers`].
const TERM_NUMBERS_BATCH: i64 = 200;

/// The newest schema version this binary knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock every node takes to migrate ("thingstead" in ASCII).
const MIGRATION_LOCK: i64 = 0x7468_696e_6773_7464;

/// The canary sealed into `meta` to recognise the master key (the same as SQLite's).
const KEY_CHECK: &str = "master_key_check";

/// Applies the migrations the database lacks; refuses a newer schema, and a
/// master key that is not the one this database was sealed with.
pub(crate) async fn migrate(client: &mut Object, key: &MasterKey) -> Result<i64, StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await
    .map_err(backend)?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(backend)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).await.map_err(backend)?;
        let version = i as i64 + 1;
        if version == TERM_NUMBERS {
            term_numbers(&tx).await?;
        }
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
            &[&version, &crate::now_ms()],
        )
        .await
        .map_err(backend)?;
        tracing::info!(version, "applied PostgreSQL store migration");
    }
    check_key(&tx, key).await?;
    tx.commit().await.map_err(backend)?;
    Ok(SCHEMA_VERSION)
}

/// Proves `key` is the database's master key (sealing the canary on first use).
async fn check_key(tx: &Transaction<'_>, key: &MasterKey) -> Result<(), StoreError> {
    let sealed: Option<Vec<u8>> = tx
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&KEY_CHECK])
        .await
        .map_err(backend)?
        .map(|r| r.get(0));
    match sealed {
        Some(sealed) => key.open(KEY_CHECK, &sealed).map(|_| ()).map_err(|_| {
            StoreError::Unavailable(
                "the master key file does not belong to this database (its credentials are sealed with another key)"
                    .into(),
            )
        }),
        None => tx
            .execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)",
                &[&KEY_CHECK, &key.seal(KEY_CHECK, "thingstead")],
            )
            .await
            .map(|_| ())
            .map_err(backend),
    }
}

/// Version 10: the numbers of the search terms written before it, from the
/// documents' bodies (see [`crate::documents::number_terms`]), a batch of
/// documents at a time.
async fn term_numbers(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let mut after = (i64::MIN, String::new(), String::new());
    loop {
        let rows = tx
            .query(
                "SELECT org_id, collection, uuid, body FROM documents \
                 WHERE (org_id, collection, uuid) > ($1, $2, $3) ORDER BY org_id, collection, uuid LIMIT $4",
                &[&after.0, &after.1, &after.2, &TERM_NUMBERS_BATCH],
            )
            .await
            .map_err(backend)?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = (last.get(0), last.get(1), last.get(2));
        for row in &rows {
            let terms = crate::documents::number_terms(row.get(3));
            if terms.is_empty() {
                continue;
            }
            let paths: Vec<&str> = terms.iter().map(|t| t.path.as_str()).collect();
            let values: Vec<&str> = terms.iter().map(|t| t.value.as_str()).collect();
            let numbers: Vec<Option<f64>> = terms.iter().map(|t| t.number).collect();
            let (org, collection, uuid): (i64, &str, &str) = (row.get(0), row.get(1), row.get(2));
            tx.execute(
                "UPDATE document_terms t SET num = u.n \
                 FROM unnest($4::text[], $5::text[], $6::float8[]) AS u(p, v, n) \
                 WHERE t.org_id = $1 AND t.collection = $2 AND t.uuid = $3 AND t.path = u.p AND t.value = u.v",
                &[&org, &collection, &uuid, &paths, &values, &numbers],
            )
            .await
            .map_err(backend)?;
        }
    }
}
