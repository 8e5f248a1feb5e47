//! The store test suite. Each test takes a fresh store from `open`; a
//! second backend (PostgreSQL) runs the same functions.

use std::sync::Arc;

use thingstead_core::OrgName;
use thingstead_core::master_key::MasterKey;
use thingstead_core::records::{MessageQuery, NewMessage};
use thingstead_core::store::sqlite::SqliteStore;
use thingstead_core::store::{NewDevice, RegistryStore, Store, StoreError};

fn key(dir: &std::path::Path) -> MasterKey {
    MasterKey::load_or_generate(&dir.join("master.key")).expect("master key")
}

fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir, key(dir)).expect("open store"))
}

/// A fresh store with organization `name` and its device `d1` (key `aaaaaaaa`).
/// The temp dir lives as long as the returned guard.
async fn store_with_device(name: &str) -> (tempfile::TempDir, Arc<dyn Store>, thingstead_core::Tenant) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let tenant = store.create_org(&org(name)).await.unwrap();
    store.create_device(&tenant, device("d1", "aaaaaaaa")).await.unwrap();
    (dir, store, tenant)
}

/// Every message of a tenant, newest first.
async fn all_messages(
    store: &Arc<dyn Store>,
    tenant: &thingstead_core::Tenant,
) -> Vec<thingstead_core::records::MessageRecord> {
    let query = MessageQuery {
        limit: 1000,
        ..Default::default()
    };
    store.list_messages(tenant, &query).await.unwrap()
}

fn org(name: &str) -> OrgName {
    OrgName::parse(name).unwrap()
}

fn device(uuid: &str, key: &str) -> NewDevice {
    NewDevice {
        uuid: uuid.into(),
        name: uuid.into(),
        secret: "s".into(),
        devicekey: key.into(),
    }
}

fn message(text: &str) -> NewMessage {
    NewMessage {
        topics: vec!["t".into()],
        payload: text.as_bytes().to_vec(),
        received_at: thingstead_core::now_ms(),
        peer: "127.0.0.1:1".into(),
        sdk: None,
        modem: None,
        idempotency_key: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_group_committed_and_all_durable() {
    let (dir, store, t) = store_with_device("acme").await;
    let before = store.stats();
    let writers: Vec<_> = (0..500)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.insert_message(&t, "d1", message(&format!("m{i}"))).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let after = store.stats();
    let writes = after.writes - before.writes;
    let commits = after.commits - before.commits;
    assert_eq!(writes, 500);
    assert!(
        commits < writes,
        "group commit shares transactions: {commits} commits for {writes} writes"
    );
    store.close().await;
    let reopened = open(dir.path());
    let t = reopened.tenant(&org("acme")).await.unwrap().unwrap();
    let all = all_messages(&reopened, &t).await;
    assert_eq!(all.len(), 500);
}

#[tokio::test]
async fn a_failing_write_does_not_spoil_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let writes: Vec<_> = ["a", "b", "a", "c"]
        .into_iter()
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.create_org(&org(n)).await })
        })
        .collect();
    let mut conflicts = 0;
    for w in writes {
        match w.await.unwrap() {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(conflicts, 1);
    let names: Vec<_> = store.list_orgs().await.unwrap().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[tokio::test]
async fn every_call_is_scoped_by_its_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_org(&org("a")).await.unwrap();
    let b = store.create_org(&org("b")).await.unwrap();
    store.create_device(&a, device("da", "aaaaaaaa")).await.unwrap();
    let m = store.insert_message(&a, "da", message("for a")).await.unwrap().record;
    store.enqueue_sms(&a, Some("da"), "+15555550123", "x").await.unwrap();
    assert!(store.device(&b, "da").await.unwrap().is_none());
    assert!(store.list_devices(&b).await.unwrap().is_empty());
    assert!(store.message(&b, m.id).await.unwrap().is_none());
    let q = MessageQuery {
        device_uuid: Some("da".into()),
        limit: 10,
        ..Default::default()
    };
    assert!(store.list_messages(&b, &q).await.unwrap().is_empty());
    assert!(store.list_sms(&b, None, 10).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_device(&b, "da").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.delete_messages_before(&b, i64::MAX, 100).await.unwrap(), 0);
    assert_eq!(store.list_messages(&a, &q).await.unwrap().len(), 1);
    // Credential look-ups resolve the owning tenant.
    let (owner, _) = store.device_by_key("aaaaaaaa").await.unwrap().unwrap();
    assert_eq!(owner, a);
}

#[tokio::test]
async fn unique_keys_conflict_and_deleting_an_org_removes_what_it_owns() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = store.create_org(&org("a")).await.unwrap();
    let b = store.create_org(&org("b")).await.unwrap();
    store.create_device(&a, device("d1", "kkkkkkkk")).await.unwrap();
    let dup = store.create_device(&b, device("d2", "kkkkkkkk")).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(_))),
        "device keys are unique on the server"
    );
    store.create_user(&a, "ann", "hash").await.unwrap();
    assert!(matches!(
        store.create_user(&a, "ann", "hash").await,
        Err(StoreError::Conflict(_))
    ));
    store.create_user(&b, "ann", "hash").await.unwrap();
    store.insert_message(&a, "d1", message("x")).await.unwrap();
    store.delete_org(&a).await.unwrap();
    assert!(store.device_by_key("kkkkkkkk").await.unwrap().is_none());
    assert!(store.tenant(&org("a")).await.unwrap().is_none());
    assert_eq!(store.list_users(&b).await.unwrap().len(), 1);
}

#[tokio::test]
async fn totp_steps_are_used_once_and_in_order() {
    let (_dir, store, a) = store_with_device("a").await;
    store.set_device_totp(&a, "d1", "JBSWY3DPEHPK3PXP").await.unwrap();
    assert!(store.consume_totp_step(&a, "d1", 100).await.unwrap());
    assert!(!store.consume_totp_step(&a, "d1", 100).await.unwrap());
    assert!(!store.consume_totp_step(&a, "d1", 99).await.unwrap());
    assert!(store.consume_totp_step(&a, "d1", 101).await.unwrap());
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.close().await;
    let conn = rusqlite::Connection::open(dir.path().join("thingstead.db")).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    match SqliteStore::open(dir.path(), key(dir.path())) {
        Err(e @ StoreError::SchemaTooNew { found: 999, .. }) => assert!(e.to_string().contains("newer")),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[tokio::test]
async fn the_data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    SqliteStore::prepare_dir(&data).unwrap();
    let store = SqliteStore::open(&data, key(&data)).unwrap();
    let t = store.create_org(&org("a")).await.unwrap();
    store.create_device(&t, device("d1", "aaaaaaaa")).await.unwrap();
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    // The database, its WAL and shared-memory files, and the key file.
    let files: Vec<_> = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
}

#[tokio::test]
async fn ingest_by_key_resolves_the_device_in_the_same_write() {
    let (_dir, store, a) = store_with_device("a").await;
    let mut m = message("hello");
    m.peer = "10.1.2.3:4567".into();
    let (tenant, stored) = store.insert_message_by_key("aaaaaaaa", m).await.unwrap().unwrap();
    assert_eq!(tenant, a);
    assert_eq!(stored.record.device_uuid, "d1");
    let device = store.device(&a, "d1").await.unwrap().unwrap();
    assert_eq!(
        device.last_seen_addr.as_deref(),
        Some("10.1.2.3"),
        "last seen is the address, without the port"
    );
    assert!(
        store
            .insert_message_by_key("zzzzzzzz", message("nobody"))
            .await
            .unwrap()
            .is_none()
    );
    let all = all_messages(&store, &a).await;
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn retention_deletes_oldest_first_in_bounded_chunks() {
    let (_dir, store, a) = store_with_device("a").await;
    for (i, at) in [10, 20, 30, 40, 50, 1_000].into_iter().enumerate() {
        let mut m = message(&format!("m{i}"));
        m.received_at = at;
        store.insert_message(&a, "d1", m).await.unwrap();
    }
    let mut chunks = Vec::new();
    loop {
        let n = store.delete_messages_before(&a, 100, 2).await.unwrap();
        chunks.push(n);
        if n < 2 {
            break;
        }
    }
    assert_eq!(chunks, [2, 2, 1]);
    let left = all_messages(&store, &a).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].payload, b"m5");
}

#[tokio::test]
async fn a_repeated_idempotency_key_stores_nothing_new() {
    let (_dir, store, a) = store_with_device("a").await;
    store.create_device(&a, device("d2", "bbbbbbbb")).await.unwrap();
    let keyed = |text: &str, key: &str| NewMessage {
        idempotency_key: Some(key.into()),
        ..message(text)
    };
    let first = store.insert_message(&a, "d1", keyed("one", "k1")).await.unwrap();
    assert!(!first.duplicate);
    let again = store
        .insert_message_by_key("aaaaaaaa", keyed("one (resent)", "k1"))
        .await
        .unwrap()
        .unwrap()
        .1;
    assert!(again.duplicate);
    assert_eq!(again.record.id, first.record.id);
    assert_eq!(again.record.payload, b"one", "the first copy is kept");
    // Keys are per device, and messages without keys are never deduplicated.
    assert!(
        !store
            .insert_message(&a, "d2", keyed("other device", "k1"))
            .await
            .unwrap()
            .duplicate
    );
    assert!(
        !store
            .insert_message(&a, "d1", message("plain"))
            .await
            .unwrap()
            .duplicate
    );
    assert!(
        !store
            .insert_message(&a, "d1", message("plain"))
            .await
            .unwrap()
            .duplicate
    );
    let all = all_messages(&store, &a).await;
    assert_eq!(all.len(), 4);
}

/// Every byte of the database files of `dir` (the database, WAL, shm).
fn raw_database(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("thingstead.db") {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

const SECRET: &str = "device-secret-0123456789abcdef";
const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const APP_KEY: &str = "app-api-key-fedcba9876543210";

#[tokio::test]
async fn a_copy_of_the_database_reveals_no_credential() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let t = store.create_org(&org("a")).await.unwrap();
    let mut d = device("d1", "kq7z2m9x");
    d.secret = SECRET.into();
    store.create_device(&t, d).await.unwrap();
    store.set_device_totp(&t, "d1", SEED).await.unwrap();
    store.create_app(&t, "app1", "app", APP_KEY).await.unwrap();
    // Checked while the server would be running (WAL not yet folded in) and after close.
    for round in 0..2 {
        let raw = raw_database(dir.path());
        for secret in ["kq7z2m9x", SECRET, SEED, APP_KEY] {
            assert!(
                !contains(&raw, secret),
                "round {round}: {secret} found in the database files"
            );
        }
        if round == 0 {
            let (tenant, found) = store.device_by_key("kq7z2m9x").await.unwrap().unwrap();
            assert_eq!((tenant, found.secret.as_str()), (t.clone(), SECRET));
            assert_eq!(found.totp_seed.as_deref(), Some(SEED));
            assert!(store.device_by_key("kq7z2m9y").await.unwrap().is_none());
            store.close().await;
        }
    }
}

#[tokio::test]
async fn another_master_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).close().await;
    let other = tempfile::tempdir().unwrap();
    match SqliteStore::open(dir.path(), key(other.path())) {
        Err(e) => assert!(e.to_string().contains("master key"), "{e}"),
        Ok(_) => panic!("a store sealed with another master key must not open"),
    }
}

#[tokio::test]
async fn a_store_of_schema_3_is_converted_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("thingstead.db")).unwrap();
        conn.execute_batch(include_str!("../src/store/sqlite/migrations/0001_init.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../src/store/sqlite/migrations/0002_sms_events.sql"))
            .unwrap();
        conn.execute_batch(include_str!("../src/store/sqlite/migrations/0003_idempotency.sql"))
            .unwrap();
        conn.execute_batch(&format!(
            "PRAGMA user_version = 3; \
             INSERT INTO orgs (id, name, created_at) VALUES (1, 'old', 1); \
             INSERT INTO devices (uuid, org_id, name, secret, devicekey, totp_seed, totp_last_step, last_seen_addr, created_at) \
             VALUES ('d1', 1, 'pump', '{SECRET}', 'oldkey42', '{SEED}', 7, '10.0.0.1:5', 2); \
             INSERT INTO apps (uuid, org_id, name, api_key, created_at) VALUES ('app1', 1, 'app', '{APP_KEY}', 3);"
        ))
        .unwrap();
    }
    let store = open(dir.path());
    let (t, d) = store.device_by_key("oldkey42").await.unwrap().unwrap();
    assert_eq!(
        (d.uuid.as_str(), d.name.as_str(), d.secret.as_str()),
        ("d1", "pump", SECRET)
    );
    assert_eq!(d.totp_seed.as_deref(), Some(SEED));
    assert_eq!(d.last_seen_addr.as_deref(), Some("10.0.0.1:5"));
    // The step used before the upgrade stays used.
    assert!(!store.consume_totp_step(&t, "d1", 7).await.unwrap());
    assert_eq!(store.list_apps(&t).await.unwrap().len(), 1);
    store.close().await;
    let raw = raw_database(dir.path());
    for secret in ["oldkey42", SECRET, SEED, APP_KEY] {
        assert!(!contains(&raw, secret), "{secret} survived the conversion");
    }
}
