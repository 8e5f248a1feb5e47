//! The store test suite. Each test takes a fresh store from `open`; a
//! second backend (PostgreSQL) runs the same functions.

use std::sync::Arc;

use thingstead_core::OrgName;
use thingstead_core::records::{MessageQuery, NewMessage};
use thingstead_core::store::sqlite::SqliteStore;
use thingstead_core::store::{NewDevice, Store, StoreError};

fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(dir).expect("open store"))
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
    let store = SqliteStore::open(dir.path()).unwrap();
    store.close().await;
    let conn = rusqlite::Connection::open(dir.path().join("thingstead.db")).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    match SqliteStore::open(dir.path()) {
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
    let _store = SqliteStore::open(&data).unwrap();
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
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
