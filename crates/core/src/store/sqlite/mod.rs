//! The embedded SQLite backend: WAL, `synchronous=FULL`, migrations at
//! open, one group-committing writer and a small reader pool.

mod errors;
mod messages;
mod outbox;
mod pool;
mod registry;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use self::pool::Pool;
use crate::ids::{OrgName, Tenant};
use crate::master_key::MasterKey;
use crate::records::*;
use crate::store::{NewDevice, Store, StoreError, StoreStats};

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

/// The database file in a data dir.
pub const DB_FILE: &str = "thingstead.db";

/// Reader connections kept open.
const READERS: usize = 4;
/// How long a statement waits for another process's lock (the admin CLI).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store of one data directory (`<data-dir>/thingstead.db`).
pub struct SqliteStore {
    pool: Pool,
    path: PathBuf,
    key: Arc<MasterKey>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, creating the
    /// directory with mode 0700 and every file in it with mode 0600, and
    /// applies migrations. `key` seals credentials at rest; a store made
    /// with another key refuses to open.
    pub fn open(data_dir: &Path, key: MasterKey) -> Result<Self, StoreError> {
        create_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        create_private_file(&path)?;
        let mut writer = open_conn(&path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(errors::backend)?;
        schema::migrate(&mut writer, &key)?;
        // SQLite gives the -wal and -shm files the database file's mode;
        // ones left by an older version are made private here.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.clone().into_os_string();
            side.push(suffix);
            make_private(Path::new(&side))?;
        }
        let readers = (0..READERS)
            .map(|_| open_conn(&path, OpenFlags::SQLITE_OPEN_READ_WRITE))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            pool: Pool::new(writer, readers),
            path,
            key: Arc::new(key),
        })
    }

    /// Creates `data_dir` with mode 0700 (or makes an existing one 0700).
    pub fn prepare_dir(data_dir: &Path) -> Result<(), StoreError> {
        create_private_dir(data_dir)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let unavailable = |e: std::io::Error| StoreError::Unavailable(format!("data dir {}: {e}", dir.display()));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(unavailable)?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(unavailable)
}

/// Creates `path` with mode 0600 when missing; makes it 0600 when not.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => make_private(path),
        Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", path.display()))),
    }
}

/// Mode 0600 for an existing file (nothing when it does not exist).
fn make_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(StoreError::Unavailable(format!("{}: {e}", path.display())))
        }
        _ => Ok(()),
    }
}

fn open_conn(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(errors::backend)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(errors::backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_org(&self, name: &OrgName) -> Result<Tenant, StoreError> {
        let name = name.clone();
        self.pool.write(move |c| registry::create_org(c, &name)).await
    }
    async fn tenant(&self, name: &OrgName) -> Result<Option<Tenant>, StoreError> {
        let name = name.clone();
        self.pool.read(move |c| registry::tenant(c, &name)).await
    }
    async fn org(&self, t: &Tenant) -> Result<OrgRecord, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| registry::org(c, &t)).await
    }
    async fn list_orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        self.pool.read(registry::list_orgs).await
    }
    async fn delete_org(&self, t: &Tenant) -> Result<(), StoreError> {
        let t = t.clone();
        self.pool.write(move |c| registry::delete_org(c, &t)).await
    }
    async fn set_message_retention(&self, t: &Tenant, secs: Option<i64>) -> Result<(), StoreError> {
        let t = t.clone();
        self.pool
            .write(move |c| registry::set_message_retention(c, &t, secs))
            .await
    }

    async fn create_user(&self, t: &Tenant, username: &str, hash: &str) -> Result<(), StoreError> {
        let (t, u, h) = (t.clone(), username.to_owned(), hash.to_owned());
        self.pool.write(move |c| registry::create_user(c, &t, &u, &h)).await
    }
    async fn list_users(&self, t: &Tenant) -> Result<Vec<UserRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| registry::list_users(c, &t)).await
    }
    async fn user_password_hash(&self, t: &Tenant, username: &str) -> Result<Option<String>, StoreError> {
        let (t, u) = (t.clone(), username.to_owned());
        self.pool.read(move |c| registry::user_password_hash(c, &t, &u)).await
    }
    async fn delete_user(&self, t: &Tenant, username: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), username.to_owned());
        self.pool.write(move |c| registry::delete_user(c, &t, &u)).await
    }

    async fn create_device(&self, t: &Tenant, device: NewDevice) -> Result<DeviceRecord, StoreError> {
        let (t, key) = (t.clone(), self.key.clone());
        self.pool
            .write(move |c| registry::create_device(c, &key, &t, device))
            .await
    }
    async fn list_devices(&self, t: &Tenant) -> Result<Vec<DeviceRecord>, StoreError> {
        let (t, key) = (t.clone(), self.key.clone());
        self.pool.read(move |c| registry::list_devices(c, &key, &t)).await
    }
    async fn device(&self, t: &Tenant, uuid: &str) -> Result<Option<DeviceRecord>, StoreError> {
        let (t, u, key) = (t.clone(), uuid.to_owned(), self.key.clone());
        self.pool.read(move |c| registry::device(c, &key, &t, &u)).await
    }
    async fn delete_device(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| registry::delete_device(c, &t, &u)).await
    }
    async fn set_device_totp(&self, t: &Tenant, uuid: &str, seed: &str) -> Result<(), StoreError> {
        let (t, u, s, key) = (t.clone(), uuid.to_owned(), seed.to_owned(), self.key.clone());
        self.pool
            .write(move |c| registry::set_device_totp(c, &key, &t, &u, &s))
            .await
    }
    async fn consume_totp_step(&self, t: &Tenant, uuid: &str, step: i64) -> Result<bool, StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool
            .write(move |c| registry::consume_totp_step(c, &t, &u, step))
            .await
    }
    async fn device_by_key(&self, key: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        let (hash, key) = (self.key.devicekey_hash(key), self.key.clone());
        self.pool
            .read(move |c| registry::device_by_key_hash(c, &key, &hash))
            .await
    }
    async fn device_by_uuid(&self, uuid: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        let (u, key) = (uuid.to_owned(), self.key.clone());
        self.pool.read(move |c| registry::device_by_uuid(c, &key, &u)).await
    }

    async fn create_app(&self, t: &Tenant, uuid: &str, name: &str, key: &str) -> Result<AppRecord, StoreError> {
        let (t, u, n, k, master) = (
            t.clone(),
            uuid.to_owned(),
            name.to_owned(),
            key.to_owned(),
            self.key.clone(),
        );
        self.pool
            .write(move |c| registry::create_app(c, &master, &t, &u, &n, &k))
            .await
    }
    async fn list_apps(&self, t: &Tenant) -> Result<Vec<AppRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| registry::list_apps(c, &t)).await
    }
    async fn delete_app(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| registry::delete_app(c, &t, &u)).await
    }

    async fn create_client(
        &self,
        t: &Tenant,
        client_id: &str,
        secret_hash: &str,
        scopes: &[String],
    ) -> Result<ClientRecord, StoreError> {
        let (t, id, h, s) = (t.clone(), client_id.to_owned(), secret_hash.to_owned(), scopes.to_vec());
        self.pool
            .write(move |c| registry::create_client(c, &t, &id, &h, &s))
            .await
    }
    async fn list_clients(&self, t: &Tenant) -> Result<Vec<ClientRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| registry::list_clients(c, &t)).await
    }
    async fn delete_client(&self, t: &Tenant, client_id: &str) -> Result<(), StoreError> {
        let (t, id) = (t.clone(), client_id.to_owned());
        self.pool.write(move |c| registry::delete_client(c, &t, &id)).await
    }

    async fn create_api_key(&self, t: &Tenant, id: &str, prefix: &str, hash: &str) -> Result<ApiKeyRecord, StoreError> {
        let (t, id, p, h) = (t.clone(), id.to_owned(), prefix.to_owned(), hash.to_owned());
        self.pool
            .write(move |c| registry::create_api_key(c, &t, &id, &p, &h))
            .await
    }
    async fn list_api_keys(&self, t: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| registry::list_api_keys(c, &t)).await
    }
    async fn delete_api_key(&self, t: &Tenant, id: &str) -> Result<(), StoreError> {
        let (t, id) = (t.clone(), id.to_owned());
        self.pool.write(move |c| registry::delete_api_key(c, &t, &id)).await
    }
    async fn tenant_by_api_key_hash(&self, key_hash: &str) -> Result<Option<Tenant>, StoreError> {
        let h = key_hash.to_owned();
        self.pool.read(move |c| registry::tenant_by_api_key_hash(c, &h)).await
    }

    async fn insert_message(
        &self,
        t: &Tenant,
        device_uuid: &str,
        message: NewMessage,
    ) -> Result<StoredMessage, StoreError> {
        let (t, d) = (t.clone(), device_uuid.to_owned());
        self.pool.write(move |c| messages::insert(c, &t, &d, message)).await
    }
    async fn insert_message_by_key(
        &self,
        devicekey: &str,
        message: NewMessage,
    ) -> Result<Option<(Tenant, StoredMessage)>, StoreError> {
        // Hashed on the caller's task, not on the writer thread.
        let hash = self.key.devicekey_hash(devicekey);
        self.pool
            .write(move |c| {
                let Some(device) = registry::keyed_device(c, &hash)? else {
                    return Ok(None);
                };
                let seen = messages::LastSeen {
                    addr: device.last_seen_addr.as_deref(),
                    at: device.last_seen_at,
                };
                let stored = messages::insert_known(c, &device.tenant, &device.uuid, seen, message)?;
                Ok(Some((device.tenant, stored)))
            })
            .await
    }
    async fn list_messages(&self, t: &Tenant, query: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
        let (t, q) = (t.clone(), query.clone());
        self.pool.read(move |c| messages::list(c, &t, &q)).await
    }
    async fn message(&self, t: &Tenant, id: i64) -> Result<Option<MessageRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| messages::get(c, &t, id)).await
    }
    async fn delete_messages_before(&self, t: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        let t = t.clone();
        self.pool
            .write(move |c| messages::delete_before(c, &t, cutoff_ms, limit))
            .await
    }

    async fn enqueue_sms(
        &self,
        t: &Tenant,
        device_uuid: Option<&str>,
        destination: &str,
        text: &str,
    ) -> Result<SmsRecord, StoreError> {
        let (t, d, dest, text) = (
            t.clone(),
            device_uuid.map(str::to_owned),
            destination.to_owned(),
            text.to_owned(),
        );
        self.pool
            .write(move |c| outbox::enqueue(c, &t, d.as_deref(), &dest, &text))
            .await
    }
    async fn list_sms(&self, t: &Tenant, before_id: Option<i64>, limit: u32) -> Result<Vec<SmsRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| outbox::list(c, &t, before_id, limit)).await
    }
    async fn system_due_sms(&self, now_ms: i64, limit: u32) -> Result<Vec<(Tenant, SmsRecord)>, StoreError> {
        self.pool.read(move |c| outbox::due(c, now_ms, limit)).await
    }
    async fn update_sms(&self, t: &Tenant, id: i64, update: SmsUpdate) -> Result<(), StoreError> {
        let t = t.clone();
        self.pool.write(move |c| outbox::update(c, &t, id, update)).await
    }
    async fn sms(&self, t: &Tenant, id: i64) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| outbox::get_with_history(c, &t, id)).await
    }

    async fn record_delivery(
        &self,
        t: &Tenant,
        device_uuid: &str,
        target: &str,
        result: DeliveryResult,
        detail: Option<&str>,
    ) -> Result<DeliveryRecord, StoreError> {
        let (t, d, tg, det) = (
            t.clone(),
            device_uuid.to_owned(),
            target.to_owned(),
            detail.map(str::to_owned),
        );
        self.pool
            .write(move |c| outbox::record_delivery(c, &t, &d, &tg, result, det.as_deref()))
            .await
    }

    async fn list_deliveries(
        &self,
        t: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (t, d) = (t.clone(), device_uuid.to_owned());
        self.pool.read(move |c| outbox::list_deliveries(c, &t, &d, limit)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(errors::backend))
            .await
    }
    fn stats(&self) -> StoreStats {
        self.pool.stats()
    }
    async fn close(&self) {
        self.pool.close().await;
    }
}
