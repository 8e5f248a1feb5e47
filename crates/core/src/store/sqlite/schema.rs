//! Migrations embedded in the binary, applied at open; the schema version
//! is SQLite's `user_version`.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction that reads
//! the version again once it holds the write lock, so processes opening a
//! new data dir at the same moment (a server and an admin command) apply
//! each migration once.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::errors::backend;
use crate::master_key::MasterKey;
use crate::store::StoreError;
use crate::store::sealed::{app_key_context, device_secret_context, totp_seed_context};

/// A conversion in Rust, run inside a migration's transaction; `true`
/// when the file must be rewritten afterwards (pages that held secrets).
type Step = fn(&Transaction, &MasterKey) -> Result<bool, StoreError>;

/// A migration's SQL, and the Rust step that follows it in the same
/// transaction (for conversions SQL cannot do, such as sealing secrets).
struct Migration {
    sql: &'static str,
    then: Option<Step>,
}

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/0001_init.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0002_sms_events.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0003_idempotency.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0004_credentials_at_rest.sql"),
        then: Some(seal_credentials),
    },
    Migration {
        sql: include_str!("migrations/0005_claims.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0006_signing_keys.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0007_documents.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0008_content.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0009_pairings.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0010_things.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0011_token_revocations.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0012_thing_actions_events.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/0013_term_numbers.sql"),
        then: Some(term_numbers),
    },
];

/// The newest schema version this binary knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The canary sealed into `meta` to recognise the master key.
const KEY_CHECK: &str = "master_key_check";

fn version(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)
}

/// Applies the migrations the database lacks; refuses a newer schema, and a
/// master key that is not the one this database was sealed with.
pub(crate) fn migrate(conn: &mut Connection, key: &MasterKey) -> Result<i64, StoreError> {
    let mut converted = false;
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let found = version(&tx)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        let Some(m) = MIGRATIONS.get(found as usize) else {
            check_key(&tx, key)?;
            tx.commit().map_err(backend)?;
            break;
        };
        tx.execute_batch(m.sql).map_err(backend)?;
        if let Some(then) = m.then {
            converted |= then(&tx, key)? && found > 0;
        }
        tx.pragma_update(None, "user_version", found + 1).map_err(backend)?;
        tx.commit().map_err(backend)?;
        tracing::info!(version = found + 1, "applied store migration");
    }
    if converted {
        // Pages that held plaintext credentials are free now, not gone:
        // rewrite the file so a copy of it holds none.
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend)?;
    }
    Ok(SCHEMA_VERSION)
}

/// Proves `key` is the database's master key (sealing the canary on first use).
fn check_key(tx: &Transaction, key: &MasterKey) -> Result<(), StoreError> {
    let sealed: Option<Vec<u8>> = tx
        .query_row("SELECT value FROM meta WHERE key = ?1", [KEY_CHECK], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    match sealed {
        Some(sealed) => key.open(KEY_CHECK, &sealed).map(|_| ()).map_err(|_| {
            StoreError::Unavailable(
                "the master key file does not belong to this database (its credentials are sealed with another key)"
                    .into(),
            )
        }),
        None => tx
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![KEY_CHECK, key.seal(KEY_CHECK, "thingstead")],
            )
            .map(|_| ())
            .map_err(backend),
    }
}

/// Version 4: moves devices and apps to the tables with hashed and sealed
/// credentials, converting every row, and drops the plaintext tables.
fn seal_credentials(tx: &Transaction, key: &MasterKey) -> Result<bool, StoreError> {
    type OldDevice = (String, String, String, Option<String>);
    let devices: Vec<OldDevice> = tx
        .prepare("SELECT uuid, secret, devicekey, totp_seed FROM devices")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .and_then(Iterator::collect)
        })
        .map_err(backend)?;
    for (uuid, secret, devicekey, seed) in devices {
        tx.execute(
            "INSERT INTO devices_v4 (uuid, org_id, name, secret_enc, devicekey_hash, totp_seed_enc, totp_last_step, \
             last_seen_addr, last_seen_at, created_at) \
             SELECT uuid, org_id, name, ?2, ?3, ?4, totp_last_step, last_seen_addr, last_seen_at, created_at \
             FROM devices WHERE uuid = ?1",
            params![
                uuid,
                key.seal(&device_secret_context(&uuid), &secret),
                key.devicekey_hash(&devicekey),
                seed.map(|s| key.seal(&totp_seed_context(&uuid), &s)),
            ],
        )
        .map_err(backend)?;
    }
    let apps: Vec<(String, String)> = tx
        .prepare("SELECT uuid, api_key FROM apps")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
        })
        .map_err(backend)?;
    for (uuid, api_key) in apps {
        tx.execute(
            "INSERT INTO apps_v4 (uuid, org_id, name, api_key_enc, created_at) \
             SELECT uuid, org_id, name, ?2, created_at FROM apps WHERE uuid = ?1",
            params![uuid, key.seal(&app_key_context(&uuid), &api_key)],
        )
        .map_err(backend)?;
    }
    tx.execute_batch(
        "DROP TABLE devices; ALTER TABLE devices_v4 RENAME TO devices; \
         CREATE INDEX devices_org ON devices(org_id); \
         DROP TABLE apps; ALTER TABLE apps_v4 RENAME TO apps; \
         CREATE INDEX apps_org ON apps(org_id);",
    )
    .map_err(backend)?;
    Ok(true)
}

/// Version 13: the numbers of the search terms written before it, from
/// the documents' bodies (see [`crate::documents::number_terms`]).
fn term_numbers(tx: &Transaction, _key: &MasterKey) -> Result<bool, StoreError> {
    let mut documents = tx
        .prepare("SELECT org_id, collection, uuid, body FROM documents")
        .map_err(backend)?;
    let mut set = tx
        .prepare(
            "UPDATE document_terms SET num = ?6 \
             WHERE org_id = ?1 AND collection = ?2 AND uuid = ?3 AND path = ?4 AND value = ?5",
        )
        .map_err(backend)?;
    let mut rows = documents.query([]).map_err(backend)?;
    while let Some(row) = rows.next().map_err(backend)? {
        let (org, collection, uuid, body): (i64, String, String, String) = (
            row.get(0).map_err(backend)?,
            row.get(1).map_err(backend)?,
            row.get(2).map_err(backend)?,
            row.get(3).map_err(backend)?,
        );
        for term in crate::documents::number_terms(&body) {
            set.execute(params![org, collection, uuid, term.path, term.value, term.number])
                .map_err(backend)?;
        }
    }
    Ok(false)
}
