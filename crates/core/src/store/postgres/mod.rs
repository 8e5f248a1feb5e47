//! The PostgreSQL backend, for several stateless nodes on one database:
//! the same promises as the SQLite store. A caller hears "stored" only
//! after COMMIT; device messages are group-committed by one writer task per
//! node (`ingest.rs`); other writes are one transaction each. Uniqueness
//! lives in the database (unique indexes, conditional updates), so it holds
//! across nodes. Migrations run at open under an advisory lock.

mod errors;
mod ingest;
mod messages;
mod outbox;
mod pool;
mod registry;
mod schema;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::{Object, Pool};

pub use self::pool::PoolLimits;
use self::errors::backend;
use self::ingest::{Ingest, Target};
use crate::ids::{OrgName, Tenant};
use crate::master_key::MasterKey;
use crate::records::*;
use crate::store::{NewDevice, Store, StoreError, StoreStats};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) writes: AtomicU64,
    pub(crate) commits: AtomicU64,
}

/// The PostgreSQL store of one database.
pub struct PgStore {
    pool: Pool,
    key: Arc<MasterKey>,
    ingest: Ingest,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`) with the
    /// default limits and applies migrations. `key` seals credentials at
    /// rest; a database made with another key is refused. Must be called
    /// inside a tokio runtime (it starts the writer task).
    pub async fn open(url: &str, key: MasterKey) -> Result<Self, StoreError> {
        Self::open_with(url, key, PoolLimits::default()).await
    }

    /// [`PgStore::open`] with explicit pool limits.
    pub async fn open_with(url: &str, key: MasterKey, limits: PoolLimits) -> Result<Self, StoreError> {
        let pool = pool::build(url, &limits)?;
        let mut client = pool.get().await.map_err(errors::pool)?;
        schema::migrate(&mut client, &key).await?;
        drop(client);
        let counters = Arc::new(Counters::default());
        Ok(Self {
            ingest: Ingest::start(pool.clone(), counters.clone()),
            pool,
            key: Arc::new(key),
            counters,
        })
    }

    async fn conn(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(errors::pool)
    }

    /// Counts a write that committed on its own.
    fn committed<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_ok() {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
            self.counters.commits.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

/// Runs `$body` with `$c` bound to a pooled connection.
macro_rules! read {
    ($self:ident, |$c:ident| $body:expr) => {{
        let conn = $self.conn().await?;
        let $c = &conn;
        $body.await
    }};
}

/// Runs `$body` as one autocommitted statement and counts it.
macro_rules! write {
    ($self:ident, |$c:ident| $body:expr) => {{
        let conn = $self.conn().await?;
        let $c = &conn;
        let result = $body.await;
        $self.committed(result)
    }};
}

/// Runs `$body` in one transaction and counts it.
macro_rules! transaction {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let mut conn = $self.conn().await?;
        let $tx = conn.transaction().await.map_err(backend)?;
        let value = $body.await?;
        $tx.commit().await.map_err(backend)?;
        $self.committed(Ok(value))
    }};
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn create_org(&self, name: &OrgName) -> Result<Tenant, StoreError> {
        write!(self, |c| registry::create_org(c, name))
    }
    async fn tenant(&self, name: &OrgName) -> Result<Option<Tenant>, StoreError> {
        read!(self, |c| registry::tenant(c, name))
    }
    async fn org(&self, t: &Tenant) -> Result<OrgRecord, StoreError> {
        read!(self, |c| registry::org(c, t))
    }
    async fn list_orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        read!(self, |c| registry::list_orgs(c))
    }
    async fn delete_org(&self, t: &Tenant) -> Result<(), StoreError> {
        write!(self, |c| registry::delete_org(c, t))
    }
    async fn set_message_retention(&self, t: &Tenant, secs: Option<i64>) -> Result<(), StoreError> {
        write!(self, |c| registry::set_message_retention(c, t, secs))
    }

    async fn create_user(&self, t: &Tenant, username: &str, hash: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::create_user(c, t, username, hash))
    }
    async fn list_users(&self, t: &Tenant) -> Result<Vec<UserRecord>, StoreError> {
        read!(self, |c| registry::list_users(c, t))
    }
    async fn user_password_hash(&self, t: &Tenant, username: &str) -> Result<Option<String>, StoreError> {
        read!(self, |c| registry::user_password_hash(c, t, username))
    }
    async fn delete_user(&self, t: &Tenant, username: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::delete_user(c, t, username))
    }

    async fn create_device(&self, t: &Tenant, device: NewDevice) -> Result<DeviceRecord, StoreError> {
        write!(self, |c| registry::create_device(c, &self.key, t, device))
    }
    async fn list_devices(&self, t: &Tenant) -> Result<Vec<DeviceRecord>, StoreError> {
        read!(self, |c| registry::list_devices(c, &self.key, t))
    }
    async fn device(&self, t: &Tenant, uuid: &str) -> Result<Option<DeviceRecord>, StoreError> {
        read!(self, |c| registry::device(c, &self.key, t, uuid))
    }
    async fn delete_device(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::delete_device(c, t, uuid))
    }
    async fn set_device_totp(&self, t: &Tenant, uuid: &str, seed: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::set_device_totp(c, &self.key, t, uuid, seed))
    }
    async fn consume_totp_step(&self, t: &Tenant, uuid: &str, step: i64) -> Result<bool, StoreError> {
        write!(self, |c| registry::consume_totp_step(c, t, uuid, step))
    }
    async fn device_by_key(&self, devicekey: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        let hash = self.key.devicekey_hash(devicekey);
        read!(self, |c| registry::device_by_key_hash(c, &self.key, &hash))
    }
    async fn device_by_uuid(&self, uuid: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        read!(self, |c| registry::device_by_uuid(c, &self.key, uuid))
    }

    async fn create_app(&self, t: &Tenant, uuid: &str, name: &str, key: &str) -> Result<AppRecord, StoreError> {
        write!(self, |c| registry::create_app(c, &self.key, t, uuid, name, key))
    }
    async fn list_apps(&self, t: &Tenant) -> Result<Vec<AppRecord>, StoreError> {
        read!(self, |c| registry::list_apps(c, t))
    }
    async fn delete_app(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::delete_app(c, t, uuid))
    }

    async fn create_client(
        &self,
        t: &Tenant,
        client_id: &str,
        secret_hash: &str,
        scopes: &[String],
    ) -> Result<ClientRecord, StoreError> {
        write!(self, |c| registry::create_client(c, t, client_id, secret_hash, scopes))
    }
    async fn list_clients(&self, t: &Tenant) -> Result<Vec<ClientRecord>, StoreError> {
        read!(self, |c| registry::list_clients(c, t))
    }
    async fn delete_client(&self, t: &Tenant, client_id: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::delete_client(c, t, client_id))
    }

    async fn create_api_key(&self, t: &Tenant, id: &str, prefix: &str, hash: &str) -> Result<ApiKeyRecord, StoreError> {
        write!(self, |c| registry::create_api_key(c, t, id, prefix, hash))
    }
    async fn list_api_keys(&self, t: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError> {
        read!(self, |c| registry::list_api_keys(c, t))
    }
    async fn delete_api_key(&self, t: &Tenant, id: &str) -> Result<(), StoreError> {
        write!(self, |c| registry::delete_api_key(c, t, id))
    }
    async fn tenant_by_api_key_hash(&self, key_hash: &str) -> Result<Option<Tenant>, StoreError> {
        read!(self, |c| registry::tenant_by_api_key_hash(c, key_hash))
    }

    async fn insert_message(
        &self,
        t: &Tenant,
        device_uuid: &str,
        message: NewMessage,
    ) -> Result<StoredMessage, StoreError> {
        self.ingest
            .submit(Target::Device(t.clone(), device_uuid.to_owned()), message)
            .await?
            .map(|(_, stored)| stored)
            .ok_or_else(|| StoreError::Backend("a message of a known device came back unstored".into()))
    }
    async fn insert_message_by_key(
        &self,
        devicekey: &str,
        message: NewMessage,
    ) -> Result<Option<(Tenant, StoredMessage)>, StoreError> {
        // Hashed on the caller's task, not on the writer task.
        let hash = self.key.devicekey_hash(devicekey);
        self.ingest.submit(Target::KeyHash(hash), message).await
    }
    async fn list_messages(&self, t: &Tenant, query: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
        read!(self, |c| messages::list(c, t, query))
    }
    async fn message(&self, t: &Tenant, id: i64) -> Result<Option<MessageRecord>, StoreError> {
        read!(self, |c| messages::get(c, t, id))
    }
    async fn delete_messages_before(&self, t: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        write!(self, |c| messages::delete_before(c, t, cutoff_ms, limit))
    }

    async fn enqueue_sms(
        &self,
        t: &Tenant,
        device_uuid: Option<&str>,
        destination: &str,
        text: &str,
    ) -> Result<SmsRecord, StoreError> {
        transaction!(self, |tx| outbox::enqueue(&tx, t, device_uuid, destination, text))
    }
    async fn list_sms(&self, t: &Tenant, before_id: Option<i64>, limit: u32) -> Result<Vec<SmsRecord>, StoreError> {
        read!(self, |c| outbox::list(c, t, before_id, limit))
    }
    async fn system_due_sms(&self, now_ms: i64, limit: u32) -> Result<Vec<(Tenant, SmsRecord)>, StoreError> {
        read!(self, |c| outbox::due(c, now_ms, limit))
    }
    async fn update_sms(&self, t: &Tenant, id: i64, update: SmsUpdate) -> Result<(), StoreError> {
        transaction!(self, |tx| outbox::update(&tx, t, id, update))
    }
    async fn sms(&self, t: &Tenant, id: i64) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError> {
        read!(self, |c| outbox::get_with_history(c, t, id))
    }

    async fn record_delivery(
        &self,
        t: &Tenant,
        device_uuid: &str,
        target: &str,
        result: DeliveryResult,
        detail: Option<&str>,
    ) -> Result<DeliveryRecord, StoreError> {
        write!(self, |c| outbox::record_delivery(c, t, device_uuid, target, result, detail))
    }
    async fn list_deliveries(
        &self,
        t: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        read!(self, |c| outbox::list_deliveries(c, t, device_uuid, limit))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        conn.simple_query("SELECT 1").await.map(|_| ()).map_err(backend)
    }
    fn stats(&self) -> StoreStats {
        StoreStats {
            writes: self.counters.writes.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
        }
    }
    async fn close(&self) {
        self.ingest.close().await;
        self.pool.close();
    }
}
