//! The store conformance suite. Every test in `both!` runs against each
//! backend: SQLite in a temp dir, and (with feature `postgres`) PostgreSQL,
//! a fresh database per test on one throwaway cluster started once per test
//! binary. Tests of one backend's own files stay in their own section.

use std::sync::Arc;

use thingstead_core::OrgName;
use thingstead_core::master_key::MasterKey;
use thingstead_core::records::{MessageQuery, MessageRecord, NewMessage, SmsState, SmsUpdate};
use thingstead_core::store::sqlite::SqliteStore;
use thingstead_core::store::{NewDevice, RegistryStore, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

/// One test's store location: a temp dir (SQLite's data dir, and the
/// master key file for both), and for PostgreSQL a fresh database.
struct Env {
    backend: Backend,
    dir: tempfile::TempDir,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    url: Option<String>,
}

#[cfg(feature = "postgres")]
fn cluster() -> &'static thingstead_testkit::postgres::PgCluster {
    static CLUSTER: std::sync::OnceLock<thingstead_testkit::postgres::PgCluster> = std::sync::OnceLock::new();
    CLUSTER.get_or_init(|| {
        thingstead_testkit::postgres::PgCluster::start()
            .unwrap_or_else(|e| panic!("the PostgreSQL store tests need PostgreSQL 15: {e}"))
    })
}

#[cfg(feature = "postgres")]
async fn raw_pg(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

impl Env {
    async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => None,
            #[cfg(feature = "postgres")]
            Backend::Postgres => Some(
                tokio::task::spawn_blocking(|| cluster().create_database().expect("create database"))
                    .await
                    .unwrap(),
            ),
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!("built without feature postgres"),
        };
        Self { backend, dir, url }
    }

    fn key(&self) -> MasterKey {
        MasterKey::load_or_generate(&self.dir.path().join("master.key")).expect("master key")
    }

    async fn open(&self) -> Arc<dyn Store> {
        self.open_with(self.key()).await.expect("open store")
    }

    async fn open_with(&self, key: MasterKey) -> Result<Arc<dyn Store>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(Arc::new(SqliteStore::open(self.dir.path(), key)?)),
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(Arc::new(
                thingstead_core::store::postgres::PgStore::open(self.url.as_deref().unwrap(), key).await?,
            )),
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!(),
        }
    }

    /// Pretends a newer binary migrated the store.
    async fn set_schema_version(&self, version: i64) {
        match self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.dir.path().join("thingstead.db")).unwrap();
                conn.pragma_update(None, "user_version", version).unwrap();
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                raw_pg(self.url.as_deref().unwrap())
                    .await
                    .execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)",
                        &[&version],
                    )
                    .await
                    .unwrap();
            }
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!(),
        }
    }

    /// Drops the document tables and sets the schema back to before them
    /// (SQLite 6, PostgreSQL 3), as a store made by an older binary (with
    /// every later table).
    async fn undo_documents_migration(&self) {
        // The documents' migration and every one after it (content, pairings, token revocations).
        let later = match self.backend {
            Backend::Sqlite => "DROP TABLE location_layouts; DROP TABLE content_items; DROP TABLE blobs;",
            Backend::Postgres => {
                "DROP TABLE location_layouts; DROP TABLE content_items; DROP TABLE blob_chunks; DROP TABLE blobs;"
            }
        };
        // The things' tables (issue 9) refer to documents.
        let things = "DROP TABLE thing_history; DROP TABLE thing_status; DROP TABLE thing_categories;";
        let drop = format!(
            "{things} DROP TABLE token_revocations; DROP TABLE thing_actions; DROP TABLE thing_events; DROP TABLE space_retention; \
             DROP TABLE pairings; {later} DROP TABLE document_terms; DROP TABLE documents; DROP TABLE data_items;"
        );
        let drop = drop.as_str();
        match self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.dir.path().join("thingstead.db")).unwrap();
                conn.execute_batch(drop).unwrap();
                conn.pragma_update(None, "user_version", 6).unwrap();
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let c = raw_pg(self.url.as_deref().unwrap()).await;
                c.batch_execute(drop).await.unwrap();
                c.execute("DELETE FROM schema_version WHERE version >= 4", &[])
                    .await
                    .unwrap();
            }
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!(),
        }
    }

    /// Everything the database holds, as bytes: SQLite's files (database,
    /// WAL, shm); every row of every PostgreSQL table as text.
    async fn raw(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => raw_database(self.dir.path()),
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let c = raw_pg(self.url.as_deref().unwrap()).await;
                let tables = c
                    .query(
                        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
                        &[],
                    )
                    .await
                    .unwrap();
                assert!(tables.len() >= 10, "{} tables", tables.len());
                let mut all = Vec::new();
                for t in tables {
                    let name: String = t.get(0);
                    for r in c
                        .query(&format!("SELECT t::text FROM \"{name}\" t"), &[])
                        .await
                        .unwrap()
                    {
                        all.extend(r.get::<_, String>(0).into_bytes());
                    }
                }
                all
            }
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => unreachable!(),
        }
    }
}

/// Each listed test, once per backend.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

#[path = "store/documents.rs"]
mod documents;
#[path = "store/revocations.rs"]
mod revocations;
#[path = "store/thing_properties.rs"]
mod thing_properties;
#[path = "store/things.rs"]
mod things;

both!(
    concurrent_writes_are_group_committed_and_all_durable,
    a_failing_write_does_not_spoil_its_batch,
    a_failing_message_does_not_spoil_its_batch,
    every_call_is_scoped_by_its_tenant,
    unique_keys_conflict_and_deleting_an_org_removes_what_it_owns,
    concurrent_creates_of_one_name_or_key_conflict_once,
    totp_steps_are_used_once_and_in_order,
    a_totp_step_is_used_once_under_concurrency,
    a_newer_schema_is_refused,
    ingest_by_key_resolves_the_device_in_the_same_write,
    retention_deletes_oldest_first_in_bounded_chunks,
    a_repeated_idempotency_key_stores_nothing_new,
    one_idempotency_key_sent_concurrently_is_stored_once,
    paging_is_stable_under_concurrent_inserts,
    everything_survives_a_reopen,
    a_copy_of_the_database_reveals_no_credential,
    another_master_key_is_refused,
    nodes_claiming_concurrently_never_get_one_sms,
    an_expired_sms_claim_is_claimable_again,
    a_recorded_outcome_clears_the_claim,
    a_lease_has_one_holder_until_it_expires,
    the_first_signing_key_of_a_generation_wins_and_is_sealed,
    a_token_issued_on_one_node_verifies_on_another,
    a_rotated_token_key_keeps_older_tokens_valid,
    forged_expired_and_oversized_tokens_are_refused,
    user_login_checks_password_and_organization,
    device_jwt_login_is_signed_with_the_device_secret,
    pairing_login_belongs_to_no_organization,
    a_device_allowing_pairing_without_valid_credentials_waits_to_be_paired,
    consumer_app_jwt_login_is_signed_with_the_api_key,
    authenticate_gives_the_principal_and_refresh_keeps_it,
    authenticate_stops_at_once_when_the_device_app_or_user_is_deleted,
    authenticate_never_yields_another_organization,
    login_refuses_oversized_input_before_any_work,
    a_paired_session_refreshes_into_the_device_of_its_organization_only,
);

/// A fresh store with organization `name` and its device `d1` (key `aaaaaaaa`).
/// The env (temp dir, database) lives as long as the returned guard.
async fn store_with_device(b: Backend, name: &str) -> (Env, Arc<dyn Store>, thingstead_core::Tenant) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let tenant = store.create_org(&org(name)).await.unwrap();
    store.create_device(&tenant, device("d1", "aaaaaaaa")).await.unwrap();
    (env, store, tenant)
}

/// Every message of a tenant, newest first.
async fn all_messages(store: &Arc<dyn Store>, tenant: &thingstead_core::Tenant) -> Vec<MessageRecord> {
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

fn keyed(text: &str, key: &str) -> NewMessage {
    NewMessage {
        idempotency_key: Some(key.into()),
        ..message(text)
    }
}

async fn concurrent_writes_are_group_committed_and_all_durable(b: Backend) {
    let (env, store, t) = store_with_device(b, "acme").await;
    let before = store.stats();
    let writers: Vec<_> = (0..500)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store
                        .insert_message(&t, "d1", message(&format!("m{i}")))
                        .await
                        .map(|_| ())
                } else {
                    store
                        .insert_message_by_key("aaaaaaaa", message(&format!("m{i}")))
                        .await
                        .map(|found| assert!(found.is_some()))
                }
            })
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
    let reopened = env.open().await;
    let t = reopened.tenant(&org("acme")).await.unwrap().unwrap();
    let all = all_messages(&reopened, &t).await;
    assert_eq!(all.len(), 500);
    let mut ids: Vec<_> = all.iter().map(|m| m.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 500, "every message has its own id");
}

async fn a_failing_write_does_not_spoil_its_batch(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
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

/// A message of an organization deleted meanwhile fails alone; the
/// messages queued beside it are stored.
async fn a_failing_message_does_not_spoil_its_batch(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    let gone = store.create_org(&org("gone")).await.unwrap();
    store.delete_org(&gone).await.unwrap();
    let writes: Vec<_> = (0..40)
        .map(|i| {
            let (store, a, gone) = (store.clone(), a.clone(), gone.clone());
            tokio::spawn(async move {
                if i % 10 == 5 {
                    (false, store.insert_message(&gone, "dx", message("lost")).await.is_ok())
                } else {
                    (true, store.insert_message(&a, "d1", message("kept")).await.is_ok())
                }
            })
        })
        .collect();
    for w in writes {
        let (should, did) = w.await.unwrap();
        assert_eq!(should, did);
    }
    assert_eq!(all_messages(&store, &a).await.len(), 36);
}

async fn every_call_is_scoped_by_its_tenant(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    let b = store.create_org(&org("b")).await.unwrap();
    store.create_device(&a, device("da", "aaaaaaaa")).await.unwrap();
    let m = store.insert_message(&a, "da", message("for a")).await.unwrap().record;
    let sms = store.enqueue_sms(&a, Some("da"), "+15555550123", "x").await.unwrap();
    assert!(store.device(&b, "da").await.unwrap().is_none());
    assert!(store.list_devices(&b).await.unwrap().is_empty());
    assert!(store.message(&b, m.id).await.unwrap().is_none());
    assert!(store.sms(&b, sms.id).await.unwrap().is_none());
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

async fn unique_keys_conflict_and_deleting_an_org_removes_what_it_owns(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
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
    store.create_app(&a, "app1", "app", "k").await.unwrap();
    assert!(matches!(
        store.create_app(&b, "app1", "app", "k").await,
        Err(StoreError::Conflict(_))
    ));
    store.create_api_key(&a, "key1", "tsk_", "h1").await.unwrap();
    assert!(matches!(
        store.create_api_key(&b, "key2", "tsk_", "h1").await,
        Err(StoreError::Conflict(_))
    ));
    store.insert_message(&a, "d1", message("x")).await.unwrap();
    store.delete_org(&a).await.unwrap();
    assert!(store.device_by_key("kkkkkkkk").await.unwrap().is_none());
    assert!(store.tenant(&org("a")).await.unwrap().is_none());
    assert!(store.tenant_by_api_key_hash("h1").await.unwrap().is_none());
    assert_eq!(store.list_users(&b).await.unwrap().len(), 1);
}

/// Uniqueness lives in the store, not in a check before the write: racing
/// creates of one name or device key succeed once.
async fn concurrent_creates_of_one_name_or_key_conflict_once(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let orgs: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.create_org(&org("same")).await })
        })
        .collect();
    let mut created = 0;
    for w in orgs {
        match w.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(created, 1);
    let t = store.tenant(&org("same")).await.unwrap().unwrap();
    let devices: Vec<_> = (0..8)
        .map(|i| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.create_device(&t, device(&format!("d{i}"), "samekey1")).await })
        })
        .collect();
    let mut created = 0;
    for w in devices {
        match w.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(store.list_devices(&t).await.unwrap().len(), 1);
}

async fn totp_steps_are_used_once_and_in_order(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    store.set_device_totp(&a, "d1", "JBSWY3DPEHPK3PXP").await.unwrap();
    assert!(store.consume_totp_step(&a, "d1", 100).await.unwrap());
    assert!(!store.consume_totp_step(&a, "d1", 100).await.unwrap());
    assert!(!store.consume_totp_step(&a, "d1", 99).await.unwrap());
    assert!(store.consume_totp_step(&a, "d1", 101).await.unwrap());
}

async fn a_totp_step_is_used_once_under_concurrency(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    store.set_device_totp(&a, "d1", "JBSWY3DPEHPK3PXP").await.unwrap();
    let tries: Vec<_> = (0..16)
        .map(|_| {
            let (store, a) = (store.clone(), a.clone());
            tokio::spawn(async move { store.consume_totp_step(&a, "d1", 500).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for t in tries {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 1, "one login per TOTP step");
}

async fn a_newer_schema_is_refused(b: Backend) {
    let env = Env::new(b).await;
    env.open().await.close().await;
    env.set_schema_version(999).await;
    match env.open_with(env.key()).await {
        Err(e @ StoreError::SchemaTooNew { found: 999, .. }) => assert!(e.to_string().contains("newer")),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

async fn ingest_by_key_resolves_the_device_in_the_same_write(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
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
    assert_eq!(all[0], stored.record, "what the caller heard is what was stored");
}

async fn retention_deletes_oldest_first_in_bounded_chunks(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    store.set_message_retention(&a, Some(60)).await.unwrap();
    assert_eq!(store.org(&a).await.unwrap().message_retention_secs, Some(60));
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

async fn a_repeated_idempotency_key_stores_nothing_new(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    store.create_device(&a, device("d2", "bbbbbbbb")).await.unwrap();
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

/// Resends racing each other (so sharing one group commit) store one
/// message; every one of them hears of that message.
async fn one_idempotency_key_sent_concurrently_is_stored_once(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    let sends: Vec<_> = (0..32)
        .map(|i| {
            let (store, a) = (store.clone(), a.clone());
            tokio::spawn(async move {
                let m = keyed(&format!("copy {i}"), "same-key");
                if i % 2 == 0 {
                    store.insert_message(&a, "d1", m).await.unwrap()
                } else {
                    store.insert_message_by_key("aaaaaaaa", m).await.unwrap().unwrap().1
                }
            })
        })
        .collect();
    let mut results = Vec::new();
    for s in sends {
        results.push(s.await.unwrap());
    }
    let fresh: Vec<_> = results.iter().filter(|r| !r.duplicate).collect();
    assert_eq!(fresh.len(), 1, "exactly one copy is new");
    let id = fresh[0].record.id;
    assert!(results.iter().all(|r| r.record.id == id));
    assert!(results.iter().all(|r| r.record.payload == fresh[0].record.payload));
    assert_eq!(all_messages(&store, &a).await.len(), 1);
}

/// Paging with the `before_id` cursor while messages keep arriving neither
/// repeats nor skips a message that was there when paging began.
async fn paging_is_stable_under_concurrent_inserts(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    for i in 0..60 {
        store
            .insert_message(&a, "d1", message(&format!("old {i}")))
            .await
            .unwrap();
    }
    let existing: Vec<i64> = all_messages(&store, &a).await.iter().map(|m| m.id).collect();
    let writer = {
        let (store, a) = (store.clone(), a.clone());
        tokio::spawn(async move {
            for i in 0..100 {
                store
                    .insert_message(&a, "d1", message(&format!("new {i}")))
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let q = MessageQuery {
            before_id: cursor,
            limit: 7,
            ..Default::default()
        };
        let page = store.list_messages(&a, &q).await.unwrap();
        tokio::task::yield_now().await;
        let Some(last) = page.last() else { break };
        cursor = Some(last.id);
        seen.extend(page.iter().map(|m| m.id));
    }
    writer.await.unwrap();
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
    for id in &existing {
        assert!(seen.contains(id), "message {id} was skipped");
    }
    assert_eq!(all_messages(&store, &a).await.len(), 160);
}

/// What a caller heard was stored is there after the store is reopened.
async fn everything_survives_a_reopen(b: Backend) {
    let (env, store, a) = store_with_device(b, "a").await;
    store.create_user(&a, "ann", "hash").await.unwrap();
    store.set_device_totp(&a, "d1", "JBSWY3DPEHPK3PXP").await.unwrap();
    assert!(store.consume_totp_step(&a, "d1", 7).await.unwrap());
    store.create_app(&a, "app1", "app", "k").await.unwrap();
    store
        .create_client(&a, "client1", "hash", &["read".into(), "write".into()])
        .await
        .unwrap();
    store.create_api_key(&a, "key1", "tsk_", "keyhash").await.unwrap();
    let m = store.insert_message(&a, "d1", keyed("m", "k")).await.unwrap().record;
    let sms = store.enqueue_sms(&a, Some("d1"), "+15555550123", "hi").await.unwrap();
    store.claim_due_sms("node-a", later(), 60_000, 10).await.unwrap();
    store
        .update_sms(
            &a,
            sms.id,
            "node-a",
            SmsUpdate {
                state: SmsState::Sent,
                attempts: 1,
                provider_id: Some("p1".into()),
                reason: None,
                next_attempt_at: 0,
            },
        )
        .await
        .unwrap();
    let delivery = store
        .record_delivery(
            &a,
            "d1",
            "10.0.0.1:4010",
            thingstead_core::records::DeliveryResult::Delivered,
            None,
        )
        .await
        .unwrap();
    store.close().await;
    assert!(
        matches!(store.list_orgs().await, Err(StoreError::Unavailable(_))),
        "a closed store answers Unavailable"
    );

    let store = env.open().await;
    let a = store.tenant(&org("a")).await.unwrap().unwrap();
    assert_eq!(
        store.user_password_hash(&a, "ann").await.unwrap().as_deref(),
        Some("hash")
    );
    let d = store.device(&a, "d1").await.unwrap().unwrap();
    assert_eq!(d.secret, "s");
    assert_eq!(d.totp_seed.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    assert!(
        !store.consume_totp_step(&a, "d1", 7).await.unwrap(),
        "a used step stays used"
    );
    assert_eq!(store.list_apps(&a).await.unwrap().len(), 1);
    assert_eq!(store.list_clients(&a).await.unwrap()[0].scopes, ["read", "write"]);
    assert_eq!(store.tenant_by_api_key_hash("keyhash").await.unwrap(), Some(a.clone()));
    assert_eq!(store.message(&a, m.id).await.unwrap(), Some(m.clone()));
    assert!(
        store
            .insert_message(&a, "d1", keyed("again", "k"))
            .await
            .unwrap()
            .duplicate
    );
    let (sms, history) = store.sms(&a, sms.id).await.unwrap().unwrap();
    assert_eq!(sms.state, SmsState::Sent);
    let states: Vec<_> = history.iter().map(|e| e.state).collect();
    assert_eq!(states, [SmsState::Queued, SmsState::Sent]);
    let deliveries = store.list_deliveries(&a, "d1", 10).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].id, delivery.id);
    // The SMS worker's scan sees nothing due: it was sent.
    assert!(
        store
            .claim_due_sms("node-a", i64::MAX / 2, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Every byte of the database files of `dir` (the database, WAL, shm).
fn raw_database(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("thingstead.db") {
            // A checkpoint or a rollback journal may remove a file between
            // the listing and the read: what is gone holds nothing.
            match std::fs::read(&path) {
                Ok(bytes) => all.extend(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("{}: {e}", path.display()),
            }
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

async fn a_copy_of_the_database_reveals_no_credential(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("a")).await.unwrap();
    let mut d = device("d1", "kq7z2m9x");
    d.secret = SECRET.into();
    store.create_device(&t, d).await.unwrap();
    store.set_device_totp(&t, "d1", SEED).await.unwrap();
    store.create_app(&t, "app1", "app", APP_KEY).await.unwrap();
    // Checked while the server would be running (WAL not yet folded in) and after close.
    for round in 0..2 {
        let raw = env.raw().await;
        assert!(contains(&raw, "app1"), "the dump holds the rows");
        for secret in ["kq7z2m9x", SECRET, SEED, APP_KEY] {
            assert!(!contains(&raw, secret), "round {round}: {secret} found in the database");
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

async fn another_master_key_is_refused(b: Backend) {
    let env = Env::new(b).await;
    env.open().await.close().await;
    let other = tempfile::tempdir().unwrap();
    let other_key = MasterKey::load_or_generate(&other.path().join("master.key")).unwrap();
    match env.open_with(other_key).await {
        Err(e) => assert!(e.to_string().contains("master key"), "{e}"),
        Ok(_) => panic!("a store sealed with another master key must not open"),
    }
}

// --- SQLite only: its files.

fn sqlite_key(dir: &std::path::Path) -> MasterKey {
    MasterKey::load_or_generate(&dir.join("master.key")).expect("master key")
}

#[tokio::test]
async fn sqlite_the_data_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    SqliteStore::prepare_dir(&data).unwrap();
    let store = SqliteStore::open(&data, sqlite_key(&data)).unwrap();
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
async fn sqlite_a_store_of_schema_3_is_converted_without_loss() {
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
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path(), sqlite_key(dir.path())).unwrap());
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

// --- PostgreSQL only: nodes starting together, the database going away.

#[cfg(feature = "postgres")]
mod postgres_only {
    use super::*;
    use std::time::{Duration, Instant};
    use thingstead_core::store::postgres::{PgStore, PoolLimits};
    use thingstead_core::store::{MessageStore, StoreLifecycle};

    /// Nodes starting together on an empty database migrate it once
    /// (advisory lock) and all open.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_starting_together_migrate_once() {
        let env = Env::new(Backend::Postgres).await;
        let url = env.url.clone().unwrap();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let (url, key) = (url.clone(), env.key());
                tokio::spawn(async move { PgStore::open(&url, key).await })
            })
            .collect();
        let mut stores = Vec::new();
        for o in opens {
            stores.push(o.await.unwrap().expect("every node opens"));
        }
        let t = stores[0].create_org(&org("shared")).await.unwrap();
        assert_eq!(stores[3].tenant(&org("shared")).await.unwrap(), Some(t));
        let versions = raw_pg(&url)
            .await
            .query("SELECT version FROM schema_version", &[])
            .await
            .unwrap();
        assert_eq!(versions.len() as i64, thingstead_core::store::postgres::SCHEMA_VERSION);
    }

    /// PostgreSQL stopped: calls fail fast with `Unavailable` (not a hang,
    /// not a generic error); started again: the same store works, no reopen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_store_fails_fast_while_postgres_is_away_and_recovers_on_its_own() {
        let cluster = tokio::task::spawn_blocking(|| thingstead_testkit::postgres::PgCluster::start().unwrap())
            .await
            .unwrap();
        let url = cluster.create_database().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = sqlite_key(dir.path());
        let limits = PoolLimits {
            wait: Duration::from_secs(2),
            connect: Duration::from_secs(2),
            ..PoolLimits::default()
        };
        let store = PgStore::open_with(&url, key, limits).await.unwrap();
        let t = store.create_org(&org("a")).await.unwrap();
        store.create_device(&t, device("d1", "aaaaaaaa")).await.unwrap();
        store.insert_message(&t, "d1", message("before")).await.unwrap();

        let cluster = tokio::task::spawn_blocking(move || {
            cluster.stop().unwrap();
            cluster
        })
        .await
        .unwrap();
        for _ in 0..3 {
            let started = Instant::now();
            let ping = store.ping().await;
            assert!(matches!(ping, Err(StoreError::Unavailable(_))), "{ping:?}");
            let insert = store.insert_message_by_key("aaaaaaaa", message("during")).await;
            assert!(matches!(insert, Err(StoreError::Unavailable(_))), "{insert:?}");
            let read = store.list_orgs().await;
            assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
            assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        }

        let cluster = tokio::task::spawn_blocking(move || {
            cluster.start_again().unwrap();
            cluster
        })
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.ping().await.is_err() {
            assert!(Instant::now() < deadline, "the store did not recover");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stored = store
            .insert_message_by_key("aaaaaaaa", message("after"))
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.1.duplicate);
        assert_eq!(all_messages_of(&store, &t).await, 2);
        store.close().await;
        drop(cluster);
    }

    async fn all_messages_of(store: &PgStore, t: &thingstead_core::Tenant) -> usize {
        let q = MessageQuery {
            limit: 100,
            ..Default::default()
        };
        store.list_messages(t, &q).await.unwrap().len()
    }
}

// --- work done once per cluster (claims and leases)

/// Later than every enqueue of a test: every queued SMS is due.
fn later() -> i64 {
    thingstead_core::now_ms() + 60_000
}

/// Eight nodes (on PostgreSQL, over two connection pools, as two server
/// processes would be) claim at once: every SMS goes to exactly one.
async fn nodes_claiming_concurrently_never_get_one_sms(b: Backend) {
    let (env, store, a) = store_with_device(b, "a").await;
    let mut queued = Vec::new();
    for i in 0..40 {
        queued.push(
            store
                .enqueue_sms(&a, None, "+15555550123", &format!("m{i}"))
                .await
                .unwrap()
                .id,
        );
    }
    let other = match b {
        Backend::Sqlite => store.clone(),
        Backend::Postgres => env.open().await,
    };
    let now = later();
    let claims: Vec<_> = (0..8)
        .map(|n| {
            let s = if n % 2 == 0 { store.clone() } else { other.clone() };
            tokio::spawn(async move { s.claim_due_sms(&format!("node-{n}"), now, 60_000, 5).await.unwrap() })
        })
        .collect();
    let mut got = Vec::new();
    for c in claims {
        let mine = c.await.unwrap();
        assert!(mine.len() <= 5);
        got.extend(mine.into_iter().map(|(t, s)| {
            assert_eq!(t, a);
            s.id
        }));
    }
    got.sort_unstable();
    assert_eq!(got, queued, "each SMS claimed by exactly one node");
    assert!(
        store.claim_due_sms("node-9", now, 60_000, 50).await.unwrap().is_empty(),
        "nothing is left while the claims run"
    );
}

/// A node that died mid-send leaves a claim; once its lease expires the
/// SMS is due again for another node.
async fn an_expired_sms_claim_is_claimable_again(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    let sms = store.enqueue_sms(&a, None, "+15555550123", "hi").await.unwrap();
    let t = later();
    let first = store.claim_due_sms("node-a", t, 1_000, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        store
            .claim_due_sms("node-b", t + 999, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_due_sms("node-b", t + 1_000, 1_000, 10).await.unwrap();
    assert_eq!(again.iter().map(|(_, s)| s.id).collect::<Vec<_>>(), [sms.id]);
    assert!(
        store
            .claim_due_sms("node-a", t + 1_500, 1_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "the new claim holds against the old node"
    );
    // The old node's send outlived its lease: its outcome is refused and
    // the new holder's is the one recorded.
    let failed = SmsUpdate {
        state: SmsState::Failed,
        attempts: 1,
        provider_id: None,
        reason: Some("timed out".into()),
        next_attempt_at: t,
    };
    let err = store.update_sms(&a, sms.id, "node-a", failed).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let sent = SmsUpdate {
        state: SmsState::Sent,
        attempts: 1,
        provider_id: Some("p".into()),
        reason: None,
        next_attempt_at: t,
    };
    store.update_sms(&a, sms.id, "node-b", sent.clone()).await.unwrap();
    let (record, events) = store.sms(&a, sms.id).await.unwrap().unwrap();
    assert_eq!(record.state, SmsState::Sent);
    assert_eq!(
        events.iter().filter(|e| e.state == SmsState::Failed).count(),
        0,
        "nothing of the refused outcome is kept"
    );
    // Recorded, the SMS is claimed by nobody: a second outcome is refused too.
    let err = store.update_sms(&a, sms.id, "node-b", sent.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let err = store.update_sms(&a, sms.id + 1000, "node-b", sent).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

/// Recording an attempt's outcome frees the SMS: a retry is claimable by
/// any node at once, though the lease it was sent under still runs.
async fn a_recorded_outcome_clears_the_claim(b: Backend) {
    let (_env, store, a) = store_with_device(b, "a").await;
    let sms = store.enqueue_sms(&a, None, "+15555550123", "hi").await.unwrap();
    let t = later();
    assert_eq!(store.claim_due_sms("node-a", t, 60_000, 10).await.unwrap().len(), 1);
    let retry = SmsUpdate {
        state: SmsState::Queued,
        attempts: 1,
        provider_id: None,
        reason: Some("busy".into()),
        next_attempt_at: t + 10,
    };
    store.update_sms(&a, sms.id, "node-a", retry).await.unwrap();
    assert!(
        store
            .claim_due_sms("node-b", t + 5, 60_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let next = store.claim_due_sms("node-b", t + 10, 60_000, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].1.attempts, 1);
    let sent = SmsUpdate {
        state: SmsState::Sent,
        attempts: 2,
        provider_id: Some("p".into()),
        reason: None,
        next_attempt_at: t + 20,
    };
    store.update_sms(&a, sms.id, "node-b", sent).await.unwrap();
    assert!(
        store
            .claim_due_sms("node-c", i64::MAX / 2, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A named lease (a retention sweep) has one holder; the holder renews it;
/// another node takes it once it expires.
async fn a_lease_has_one_holder_until_it_expires(b: Backend) {
    let (env, store, _a) = store_with_device(b, "a").await;
    let other = match b {
        Backend::Sqlite => store.clone(),
        Backend::Postgres => env.open().await,
    };
    let t = later();
    let (x, y) = tokio::join!(
        store.try_lease("retention", "node-a", t, 1_000),
        other.try_lease("retention", "node-b", t, 1_000)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x ^ y, "exactly one node holds it: {x} {y}");
    let (holder, loser) = if x { ("node-a", "node-b") } else { ("node-b", "node-a") };
    assert!(!store.try_lease("retention", loser, t + 500, 1_000).await.unwrap());
    assert!(
        store.try_lease("retention", holder, t + 900, 1_000).await.unwrap(),
        "renewed"
    );
    assert!(!store.try_lease("retention", loser, t + 1_500, 1_000).await.unwrap());
    assert!(
        store.try_lease("retention", loser, t + 1_900, 1_000).await.unwrap(),
        "expired: taken over"
    );
    assert!(
        store.try_lease("other-job", holder, t, 1_000).await.unwrap(),
        "names are independent"
    );
}

// --- signing keys and the tokens they sign

async fn the_first_signing_key_of_a_generation_wins_and_is_sealed(b: Backend) {
    let env = Env::new(b).await;
    let (one, two) = (env.open().await, env.open().await);
    assert!(one.signing_keys("token").await.unwrap().is_empty());
    // Eight would-be first keys from two "nodes" at once: one is stored.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            store.add_signing_key("token", 1, &[i; 32]).await.unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one first key");
    let (k1, k2) = (
        one.signing_keys("token").await.unwrap(),
        two.signing_keys("token").await.unwrap(),
    );
    assert_eq!(k1.len(), 1);
    assert_eq!(
        k1[0].secret.as_slice(),
        k2[0].secret.as_slice(),
        "every node reads the same key"
    );
    assert_eq!(k1[0].kid(), "token-1");
    assert!(two.add_signing_key("token", 2, &[0xab; 32]).await.unwrap());
    let keys = one.signing_keys("token").await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.generation).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
    assert!(
        one.signing_keys("other").await.unwrap().is_empty(),
        "purposes are apart"
    );
    drop((one, two));
    let raw = env.raw().await;
    for secret in [hex_of(&[0xab; 32]), hex_of(&k1[0].secret)] {
        assert!(!contains(&raw, &secret), "a signing key is stored in the clear");
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn platform(store: Arc<dyn Store>) -> thingstead_core::Platform {
    thingstead_core::Platform::new(store, Arc::new(thingstead_core::bus::local::LocalBus::default()))
}

fn grant(sub: &str) -> thingstead_core::TokenGrant {
    thingstead_core::TokenGrant {
        org: "acme".into(),
        tenant_id: Some(1),
        sub: sub.into(),
        kind: "user".into(),
        scopes: vec!["thing".into()],
    }
}

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

async fn a_token_issued_on_one_node_verifies_on_another(b: Backend) {
    let env = Env::new(b).await;
    let (a, b_node) = (platform(env.open().await), platform(env.open().await));
    // Both nodes start together: they agree on one key.
    let (ra, rb) = tokio::join!(a.ensure_token_key(), b_node.ensure_token_key());
    ra.unwrap();
    rb.unwrap();
    let issued = a.issue_token(grant("alice"), HOUR).await.unwrap();
    let now = thingstead_core::now_ms();
    assert!(
        (issued.expires_at_ms - (now + 3_600_000)).abs() < 2_000,
        "{}",
        issued.expires_at_ms
    );
    let claims = b_node.verify_token(&issued.token).await.unwrap();
    assert_eq!(
        (claims.org.as_str(), claims.sub.as_str(), claims.kind.as_str()),
        ("acme", "alice", "user")
    );
    assert_eq!(claims.scopes, ["thing"]);
    assert_eq!(claims.exp * 1000, issued.expires_at_ms);
    let back = a
        .verify_token(&b_node.issue_token(grant("bob"), HOUR).await.unwrap().token)
        .await;
    assert_eq!(back.unwrap().sub, "bob");
    // A node that starts later (a fresh cache) accepts both.
    let c = platform(env.open().await);
    assert_eq!(c.verify_token(&issued.token).await.unwrap().sub, "alice");
}

async fn a_rotated_token_key_keeps_older_tokens_valid(b: Backend) {
    let env = Env::new(b).await;
    let (a, b_node) = (platform(env.open().await), platform(env.open().await));
    let old = a.issue_token(grant("alice"), HOUR).await.unwrap().token;
    assert_eq!(b_node.rotate_token_key().await.unwrap(), 2);
    let new = b_node.issue_token(grant("bob"), HOUR).await.unwrap().token;
    assert_ne!(header_kid(&old), header_kid(&new));
    assert_eq!(header_kid(&new), "token-2", "the newest key signs");
    // Node a has never seen generation 2: it re-reads the store for it.
    assert_eq!(a.verify_token(&new).await.unwrap().sub, "bob");
    assert_eq!(b_node.verify_token(&old).await.unwrap().sub, "alice");
    assert_eq!(a.verify_token(&old).await.unwrap().sub, "alice");
}

fn header_kid(token: &str) -> String {
    use base64::Engine;
    let head = token.split('.').next().unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap();
    json["kid"].as_str().unwrap().to_owned()
}

async fn forged_expired_and_oversized_tokens_are_refused(b: Backend) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let env = Env::new(b).await;
    let node = platform(env.open().await);
    let good = node.issue_token(grant("alice"), HOUR).await.unwrap().token;
    let parts: Vec<&str> = good.split('.').collect();
    let refused = |r: Result<thingstead_core::TokenClaims, thingstead_core::CoreError>| {
        let e = r.expect_err("refused");
        assert_eq!(e.kind(), thingstead_core::ErrorKind::Unauthorized, "{e}");
        e.to_string()
    };
    // Claims changed under the old signature.
    let forged_claims = b64.encode(
        serde_json::to_vec(&serde_json::json!({
            "org": "other", "sub": "alice", "kind": "user", "iat": 0, "exp": 9_999_999_999i64
        }))
        .unwrap(),
    );
    refused(
        node.verify_token(&format!("{}.{forged_claims}.{}", parts[0], parts[2]))
            .await,
    );
    // alg none, and a key id the store does not have.
    let none = b64.encode(br#"{"alg":"none","kid":"token-1"}"#);
    refused(node.verify_token(&format!("{none}.{}.", parts[1])).await);
    let unknown = b64.encode(br#"{"alg":"HS256","typ":"JWT","kid":"token-99"}"#);
    let e = refused(node.verify_token(&format!("{unknown}.{}.{}", parts[1], parts[2])).await);
    assert!(e.contains("unknown key"), "{e}");
    // Expired.
    let expired = node
        .issue_token(grant("alice"), std::time::Duration::ZERO)
        .await
        .unwrap()
        .token;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let e = refused(node.verify_token(&expired).await);
    assert!(e.contains("expired"), "{e}");
    // Oversized and garbage.
    refused(node.verify_token(&"a".repeat(thingstead_core::MAX_TOKEN_LEN + 1)).await);
    refused(node.verify_token("not a token").await);
    refused(node.verify_token("").await);
    assert_eq!(node.verify_token(&good).await.unwrap().sub, "alice");
}

// --- identity: logins, sessions, authenticate

/// A login JWT exactly as the EXP SDK signs one (WIRE.md B.2): header
/// `{"alg":"HS256","typ":"JWT"}`, JSON without spaces, base64url without
/// padding, HMAC-SHA256 over `header_b64.payload_b64`, no `iat`.
fn sdk_jwt(claims: serde_json::Value, secret: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signed = format!(
        "{}.{}",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(serde_json::to_vec(&claims).unwrap())
    );
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()))
}

/// `exp` as the SDK sends it: epoch milliseconds, 30 s ahead.
fn exp_ms_in(ms: i64) -> i64 {
    thingstead_core::now_ms() + ms
}

fn device_jwt(uuid: &str, secret: &str, exp_ms: i64) -> thingstead_core::Login {
    thingstead_core::Login::Token(sdk_jwt(
        serde_json::json!({"uuid": uuid, "type": "device", "allowPairing": false, "exp": exp_ms}),
        secret,
    ))
}

fn app_jwt(uuid: &str, key: &str, exp_ms: i64) -> thingstead_core::Login {
    thingstead_core::Login::Token(sdk_jwt(
        serde_json::json!({"type": "consumerApp", "uuid": uuid, "exp": exp_ms}),
        key,
    ))
}

fn user_login(username: &str, password: &str, organization: &str) -> thingstead_core::Login {
    thingstead_core::Login::User {
        username: username.into(),
        password: password.into(),
        organization: organization.into(),
    }
}

/// Refused with `Unauthorized`, and a message that does not say why.
fn unauthorized<T: std::fmt::Debug>(r: Result<T, thingstead_core::CoreError>) -> String {
    let e = r.expect_err("refused");
    assert_eq!(e.kind(), thingstead_core::ErrorKind::Unauthorized, "{e}");
    e.to_string()
}

async fn user_login_checks_password_and_organization(b: Backend) {
    use thingstead_core::Actor;
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    p.create_org("other").await.unwrap();
    p.create_user(&acme, "alice", "correct horse").await.unwrap();

    let session = p.login(user_login("alice", "correct horse", "acme")).await.unwrap();
    assert_eq!(session.principal.tenant().unwrap(), &acme);
    assert_eq!(
        session.principal.actor(),
        &Actor::User {
            username: "alice".into()
        }
    );
    let expected = thingstead_core::now_ms() + thingstead_core::SESSION_TTL.as_millis() as i64;
    assert!(
        (session.expires_at_ms - expected).abs() < 2_000,
        "absolute expiry in ms"
    );
    assert_ne!(session.token, session.restricted_token);

    // Wrong password, unknown user, wrong or unknown organization: one message.
    let messages = [
        unauthorized(p.login(user_login("alice", "wrong horse!", "acme")).await),
        unauthorized(p.login(user_login("bob", "correct horse", "acme")).await),
        unauthorized(p.login(user_login("alice", "correct horse", "other")).await),
        unauthorized(p.login(user_login("alice", "correct horse", "nowhere")).await),
        unauthorized(p.login(user_login("alice", "correct horse", "Not An Org")).await),
    ];
    assert!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");
    for m in &messages {
        assert!(
            !m.contains("alice") && !m.contains("password") && !m.contains("organization"),
            "{m}"
        );
    }
}

async fn device_jwt_login_is_signed_with_the_device_secret(b: Backend) {
    use thingstead_core::Actor;
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    let d = p.create_device(&acme, None).await.unwrap();
    let other = p.create_device(&acme, None).await.unwrap();

    let session = p
        .login(device_jwt(&d.uuid, &d.secret, exp_ms_in(30_000)))
        .await
        .unwrap();
    assert_eq!(session.principal.tenant().unwrap(), &acme);
    assert_eq!(session.principal.actor(), &Actor::Device { uuid: d.uuid.clone() });
    // `allowPairing: null`, as the SDK sends without pairing, is fine too.
    let null_pairing = sdk_jwt(
        serde_json::json!({"uuid": d.uuid, "type": "device", "allowPairing": null, "exp": exp_ms_in(30_000)}),
        &d.secret,
    );
    p.login(thingstead_core::Login::Token(null_pairing)).await.unwrap();

    let messages = [
        // Another device's secret.
        unauthorized(p.login(device_jwt(&d.uuid, &other.secret, exp_ms_in(30_000))).await),
        // Expired (ms), and `exp` in seconds (long past in ms).
        unauthorized(p.login(device_jwt(&d.uuid, &d.secret, exp_ms_in(-1_000))).await),
        unauthorized(p.login(device_jwt(&d.uuid, &d.secret, exp_ms_in(30_000) / 1000)).await),
        // Too far in the future.
        unauthorized(
            p.login(device_jwt(
                &d.uuid,
                &d.secret,
                exp_ms_in(thingstead_core::MAX_LOGIN_JWT_AHEAD_MS + 60_000),
            ))
            .await,
        ),
        // Unknown uuid.
        unauthorized(
            p.login(device_jwt("no-such-device", &d.secret, exp_ms_in(30_000)))
                .await,
        ),
        // A device token presented as an app's.
        unauthorized(p.login(app_jwt(&d.uuid, &d.secret, exp_ms_in(30_000))).await),
    ];
    assert!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");
    // Claims changed under the old signature.
    let good = sdk_jwt(
        serde_json::json!({"uuid": d.uuid, "type": "device", "allowPairing": false, "exp": exp_ms_in(30_000)}),
        &d.secret,
    );
    let parts: Vec<&str> = good.split('.').collect();
    let forged = sdk_jwt(
        serde_json::json!({"uuid": other.uuid, "type": "device", "allowPairing": false, "exp": exp_ms_in(30_000)}),
        "x",
    );
    let forged_body = forged.split('.').nth(1).unwrap();
    unauthorized(
        p.login(thingstead_core::Login::Token(format!(
            "{}.{forged_body}.{}",
            parts[0], parts[2]
        )))
        .await,
    );
}

async fn pairing_login_belongs_to_no_organization(b: Backend) {
    use thingstead_core::Actor;
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let pairing = |allow: serde_json::Value, secret: &str| {
        thingstead_core::Login::Token(sdk_jwt(
            serde_json::json!({"uuid": "_", "type": "device", "allowPairing": allow, "exp": exp_ms_in(30_000)}),
            secret,
        ))
    };
    let session = p.login(pairing(true.into(), "_")).await.unwrap();
    let Actor::Pairing { id } = session.principal.actor().clone() else {
        panic!("{:?}", session.principal)
    };
    assert!(!id.is_empty() && id != "_");
    let e = session.principal.tenant().expect_err("no organization");
    assert_eq!(e.kind(), thingstead_core::ErrorKind::Forbidden);
    // Each pairing login is a different identity.
    let again = p.login(pairing(true.into(), "_")).await.unwrap();
    assert_ne!(again.principal.actor(), session.principal.actor());
    // Its token authenticates to the same pairing identity, still without organization.
    let back = p.authenticate(&session.token).await.unwrap();
    assert_eq!(back.actor(), &Actor::Pairing { id });
    assert!(back.tenant().is_err());

    unauthorized(p.login(pairing(false.into(), "_")).await);
    unauthorized(p.login(pairing(serde_json::Value::Null, "_")).await);
    unauthorized(p.login(pairing(true.into(), "not-underscore")).await);
}

async fn a_device_allowing_pairing_without_valid_credentials_waits_to_be_paired(b: Backend) {
    use thingstead_core::Actor;
    let (_env, store, _acme) = store_with_device(b, "acme").await;
    let p = platform(store);
    let login = |uuid: &str, allow: serde_json::Value, secret: &str| {
        thingstead_core::Login::Token(sdk_jwt(
            serde_json::json!({"uuid": uuid, "type": "device", "allowPairing": allow, "exp": exp_ms_in(30_000)}),
            secret,
        ))
    };
    for (uuid, secret) in [("d1", "wrong secret"), ("no-such-device", "x")] {
        let s = p.login(login(uuid, true.into(), secret)).await.unwrap();
        assert!(
            matches!(s.principal.actor(), Actor::Pairing { .. }),
            "{uuid}: {:?}",
            s.principal
        );
        assert!(s.principal.tenant().is_err());
        unauthorized(p.login(login(uuid, false.into(), secret)).await);
        unauthorized(p.login(login(uuid, serde_json::Value::Null, secret)).await);
    }
}

async fn consumer_app_jwt_login_is_signed_with_the_api_key(b: Backend) {
    use thingstead_core::Actor;
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    let app = p.create_app(&acme, Some("dashboard")).await.unwrap();
    let other = p.create_app(&acme, None).await.unwrap();

    let session = p
        .login(app_jwt(&app.uuid, &app.api_key, exp_ms_in(30_000)))
        .await
        .unwrap();
    assert_eq!(session.principal.tenant().unwrap(), &acme);
    assert_eq!(
        session.principal.actor(),
        &Actor::ConsumerApp { uuid: app.uuid.clone() }
    );
    let back = p.authenticate(&session.token).await.unwrap();
    assert_eq!(back, session.principal);

    unauthorized(p.login(app_jwt(&app.uuid, &other.api_key, exp_ms_in(30_000))).await);
    unauthorized(p.login(app_jwt(&app.uuid, &app.api_key, exp_ms_in(-1))).await);
    unauthorized(p.login(app_jwt("no-such-app", &app.api_key, exp_ms_in(30_000))).await);
    // An app token presented as a device's.
    unauthorized(p.login(device_jwt(&app.uuid, &app.api_key, exp_ms_in(30_000))).await);
}

async fn authenticate_gives_the_principal_and_refresh_keeps_it(b: Backend) {
    let env = Env::new(b).await;
    let (p, other_node) = (platform(env.open().await), platform(env.open().await));
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    p.create_user(&acme, "alice", "correct horse").await.unwrap();
    let session = p.login(user_login("alice", "correct horse", "acme")).await.unwrap();

    // Any node accepts it.
    let principal = other_node.authenticate(&session.token).await.unwrap();
    assert_eq!(principal, session.principal);
    assert!(principal.scopes().is_empty() && !principal.is_restricted());
    let restricted = p.authenticate(&session.restricted_token).await.unwrap();
    assert_eq!(restricted.actor(), principal.actor());
    assert!(restricted.is_restricted());

    let refreshed = other_node.refresh(&session.token).await.unwrap();
    assert_eq!(refreshed.principal, session.principal);
    assert_eq!(p.authenticate(&refreshed.token).await.unwrap(), principal);
    // A restricted token cannot become a full one; garbage is refused.
    unauthorized(p.refresh(&session.restricted_token).await);
    unauthorized(p.authenticate("not a token").await);
    unauthorized(p.refresh("").await);
}

async fn authenticate_stops_at_once_when_the_device_app_or_user_is_deleted(b: Backend) {
    let env = Env::new(b).await;
    let (p, other_node) = (platform(env.open().await), platform(env.open().await));
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    p.create_user(&acme, "alice", "correct horse").await.unwrap();
    let d = p.create_device(&acme, None).await.unwrap();
    let app = p.create_app(&acme, None).await.unwrap();
    let user = p.login(user_login("alice", "correct horse", "acme")).await.unwrap();
    let device = p
        .login(device_jwt(&d.uuid, &d.secret, exp_ms_in(30_000)))
        .await
        .unwrap();
    let consumer = p
        .login(app_jwt(&app.uuid, &app.api_key, exp_ms_in(30_000)))
        .await
        .unwrap();
    for s in [&user, &device, &consumer] {
        // Warm the other node, so a cache there would have to be wrong to pass.
        other_node.authenticate(&s.token).await.unwrap();
        other_node.authenticate(&s.restricted_token).await.unwrap();
    }
    p.delete_device(&acme, &d.uuid).await.unwrap();
    p.delete_app(&acme, &app.uuid).await.unwrap();
    p.delete_user(&acme, "alice").await.unwrap();
    for s in [&user, &device, &consumer] {
        unauthorized(other_node.authenticate(&s.token).await);
        unauthorized(other_node.authenticate(&s.restricted_token).await);
        unauthorized(other_node.refresh(&s.token).await);
    }
}

async fn authenticate_never_yields_another_organization(b: Backend) {
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let a = p.tenant(&p.create_org("org-a").await.unwrap().name).await.unwrap();
    let b_org = p.tenant(&p.create_org("org-b").await.unwrap().name).await.unwrap();
    p.create_user(&a, "alice", "password-a").await.unwrap();
    p.create_user(&b_org, "alice", "password-b").await.unwrap();
    let d = p.create_device(&a, None).await.unwrap();
    let app = p.create_app(&a, None).await.unwrap();

    let alice_a = p.login(user_login("alice", "password-a", "org-a")).await.unwrap();
    assert_eq!(p.authenticate(&alice_a.token).await.unwrap().tenant().unwrap(), &a);
    // Org a's password does not open org b's alice.
    unauthorized(p.login(user_login("alice", "password-a", "org-b")).await);
    let device = p
        .login(device_jwt(&d.uuid, &d.secret, exp_ms_in(30_000)))
        .await
        .unwrap();
    assert_eq!(p.authenticate(&device.token).await.unwrap().tenant().unwrap(), &a);

    // Validly signed tokens naming org b for org a's device and app are refused.
    for (kind, sub) in [("device", d.uuid.as_str()), ("consumerApp", app.uuid.as_str())] {
        let grant = thingstead_core::TokenGrant {
            org: "org-b".into(),
            tenant_id: Some(b_org.id()),
            sub: sub.into(),
            kind: kind.into(),
            scopes: Vec::new(),
        };
        let token = p.issue_token(grant, HOUR).await.unwrap().token;
        unauthorized(p.authenticate(&token).await);
    }
    // A pairing token cannot be pointed at an organization, nor an unknown kind used.
    for (kind, org) in [("pairing", "org-a"), ("admin", "org-a")] {
        let grant = thingstead_core::TokenGrant {
            org: org.into(),
            tenant_id: Some(a.id()),
            sub: "x".into(),
            kind: kind.into(),
            scopes: Vec::new(),
        };
        let token = p.issue_token(grant, HOUR).await.unwrap().token;
        unauthorized(p.authenticate(&token).await);
    }
    // Org a deleted and re-created with the same name and user: the old
    // token names the old organization and opens nothing.
    p.delete_org(&a).await.unwrap();
    let again = p.tenant(&p.create_org("org-a").await.unwrap().name).await.unwrap();
    p.create_user(&again, "alice", "password-a").await.unwrap();
    unauthorized(p.authenticate(&alice_a.token).await);
    let fresh = p.login(user_login("alice", "password-a", "org-a")).await.unwrap();
    assert_eq!(p.authenticate(&fresh.token).await.unwrap().tenant().unwrap(), &again);
}

async fn login_refuses_oversized_input_before_any_work(b: Backend) {
    let env = Env::new(b).await;
    let p = platform(env.open().await);
    let acme = p.tenant(&p.create_org("acme").await.unwrap().name).await.unwrap();
    let d = p.create_device(&acme, None).await.unwrap();
    let huge = "a".repeat(1 << 20);
    let started = std::time::Instant::now();
    unauthorized(p.login(thingstead_core::Login::Token(huge.clone())).await);
    unauthorized(p.login(user_login(&huge, "correct horse", "acme")).await);
    unauthorized(p.login(user_login("alice", &huge, "acme")).await);
    unauthorized(p.login(user_login("alice", "correct horse", &huge)).await);
    unauthorized(p.authenticate(&huge).await);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // A device token padded past the limit with a long claim.
    let padded = sdk_jwt(
        serde_json::json!({"uuid": d.uuid, "type": "device", "exp": exp_ms_in(30_000), "pad": "p".repeat(5000)}),
        &d.secret,
    );
    unauthorized(p.login(thingstead_core::Login::Token(padded)).await);
}

async fn a_paired_session_refreshes_into_the_device_of_its_organization_only(b: Backend) {
    use thingstead_core::{Actor, ErrorKind};
    let (_env, store, acme) = store_with_device(b, "acme").await;
    let p = platform(store.clone());
    let other = p.create_org("other").await.unwrap();
    let other = p.tenant(&other.name).await.unwrap();
    let pairing = || {
        thingstead_core::Login::Token(sdk_jwt(
            serde_json::json!({"uuid": "_", "type": "device", "allowPairing": true, "exp": exp_ms_in(30_000)}),
            "_",
        ))
    };
    let waiting = p.login(pairing()).await.unwrap();
    let Actor::Pairing { id } = waiting.principal.actor().clone() else {
        panic!("{:?}", waiting.principal)
    };
    // Unpaired: a refresh stays a pairing session.
    let same = p.refresh(&waiting.token).await.unwrap();
    assert_eq!(same.principal.actor(), &Actor::Pairing { id: id.clone() });

    // Pairing to a device of another organization is NotFound; bad ids Invalid.
    let e = p.pair_device(&other, &id, "d1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    for bad in ["", "a b", &"x".repeat(65)] {
        let e = p.pair_device(&acme, bad, "d1").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{bad:?}");
    }
    p.pair_device(&acme, &id, "d1").await.unwrap();
    let e = p.pair_device(&acme, &id, "d1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        store.paired_device(&id, 0).await.unwrap(),
        Some((acme.id(), "d1".to_owned()))
    );
    assert_eq!(
        store.paired_device(&id, i64::MAX).await.unwrap(),
        None,
        "an old offer is not used"
    );

    let device = p.refresh(&waiting.token).await.unwrap();
    assert_eq!(device.principal.actor(), &Actor::Device { uuid: "d1".into() });
    assert_eq!(device.principal.org(), "acme");
    // Another waiting device is not paired by someone else's pairing.
    let stranger = p.login(pairing()).await.unwrap();
    assert!(matches!(
        p.refresh(&stranger.token).await.unwrap().principal.actor(),
        Actor::Pairing { .. }
    ));
    // A deleted device is not handed out.
    store.delete_device(&acme, "d1").await.unwrap();
    let after = p.refresh(&waiting.token).await.unwrap();
    assert_eq!(after.principal.actor(), &Actor::Pairing { id });
}

/// Blobs, content items and layouts (`tests/store/content.rs`).
#[path = "store/content.rs"]
mod content;

/// Actions and events of things, paging, space retention (`tests/store/thing_actions_events.rs`).
#[path = "store/thing_actions_events.rs"]
mod thing_actions_events;

/// `previous_cursor` of every list, on every backend (`tests/store/paging.rs`).
#[path = "store/paging.rs"]
mod paging;
