//! Registry SQL: organizations, users, devices, apps, OAuth2 clients, API keys.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::errors::{backend, map};
use crate::ids::{OrgName, Tenant};
use crate::master_key::MasterKey;
use crate::now_ms;
use crate::records::*;
use crate::store::RegistryStore;
use crate::store::sealed::{app_key_context, device_secret_context, totp_seed_context, unsealed};
use crate::store::{NewDevice, StoreError};

fn not_found_if_zero(changed: usize, what: &str) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound(what.to_owned()))
    } else {
        Ok(())
    }
}

fn tenant_from(id: i64, name: String) -> Result<Tenant, StoreError> {
    let name = OrgName::parse(&name).map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(Tenant::from_store(id, name))
}

pub(crate) fn create_org(c: &Connection, name: &OrgName) -> Result<Tenant, StoreError> {
    c.prepare_cached("INSERT INTO orgs (name, created_at) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![name.as_str(), now_ms()]))
        .map_err(|e| map(e, &format!("organization {name}")))?;
    Ok(Tenant::from_store(c.last_insert_rowid(), name.clone()))
}

pub(crate) fn tenant(c: &Connection, name: &OrgName) -> Result<Option<Tenant>, StoreError> {
    c.prepare_cached("SELECT id FROM orgs WHERE name = ?1")
        .and_then(|mut s| s.query_row([name.as_str()], |r| r.get::<_, i64>(0)).optional())
        .map_err(backend)
        .map(|id| id.map(|id| Tenant::from_store(id, name.clone())))
}

fn org_row(r: &Row) -> rusqlite::Result<OrgRecord> {
    Ok(OrgRecord {
        name: r.get(0)?,
        message_retention_secs: r.get(1)?,
        created_at: r.get(2)?,
    })
}

pub(crate) fn org(c: &Connection, t: &Tenant) -> Result<OrgRecord, StoreError> {
    c.query_row(
        "SELECT name, message_retention_secs, created_at FROM orgs WHERE id = ?1",
        [t.id()],
        org_row,
    )
    .optional()
    .map_err(backend)?
    .ok_or_else(|| StoreError::NotFound(format!("organization {}", t.name())))
}

pub(crate) fn list_orgs(c: &Connection) -> Result<Vec<OrgRecord>, StoreError> {
    let mut s = c
        .prepare_cached("SELECT name, message_retention_secs, created_at FROM orgs ORDER BY name")
        .map_err(backend)?;
    s.query_map([], org_row).and_then(Iterator::collect).map_err(backend)
}

pub(crate) fn delete_org(c: &Connection, t: &Tenant) -> Result<(), StoreError> {
    let n = c.execute("DELETE FROM orgs WHERE id = ?1", [t.id()]).map_err(backend)?;
    not_found_if_zero(n, &format!("organization {}", t.name()))
}

pub(crate) fn set_message_retention(c: &Connection, t: &Tenant, secs: Option<i64>) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE orgs SET message_retention_secs = ?2 WHERE id = ?1",
            params![t.id(), secs],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("organization {}", t.name()))
}

pub(crate) fn create_user(c: &Connection, t: &Tenant, username: &str, hash: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO users (org_id, username, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![t.id(), username, hash, now_ms()],
    )
    .map_err(|e| map(e, &format!("user {username}")))?;
    Ok(())
}

pub(crate) fn list_users(c: &Connection, t: &Tenant) -> Result<Vec<UserRecord>, StoreError> {
    let org = t.name().to_string();
    let mut s = c
        .prepare_cached("SELECT username, created_at FROM users WHERE org_id = ?1 ORDER BY username")
        .map_err(backend)?;
    s.query_map([t.id()], |r| {
        Ok(UserRecord {
            org: org.clone(),
            username: r.get(0)?,
            created_at: r.get(1)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(backend)
}

pub(crate) fn user_password_hash(c: &Connection, t: &Tenant, username: &str) -> Result<Option<String>, StoreError> {
    c.query_row(
        "SELECT password_hash FROM users WHERE org_id = ?1 AND username = ?2",
        params![t.id(), username],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)
}

pub(crate) fn delete_user(c: &Connection, t: &Tenant, username: &str) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM users WHERE org_id = ?1 AND username = ?2",
            params![t.id(), username],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("user {username}"))
}

const DEVICE_COLS: &str = "d.uuid, d.name, d.secret_enc, d.totp_seed_enc, d.last_seen_addr, d.last_seen_at, \
     d.created_at, o.id, o.name";

/// A device row as read, its credentials still sealed.
struct SealedDevice {
    tenant_id: i64,
    org: String,
    uuid: String,
    name: String,
    secret: Vec<u8>,
    totp_seed: Option<Vec<u8>>,
    last_seen_addr: Option<String>,
    last_seen_at: Option<i64>,
    created_at: i64,
}

fn device_row(r: &Row) -> rusqlite::Result<SealedDevice> {
    Ok(SealedDevice {
        uuid: r.get(0)?,
        name: r.get(1)?,
        secret: r.get(2)?,
        totp_seed: r.get(3)?,
        last_seen_addr: r.get(4)?,
        last_seen_at: r.get(5)?,
        created_at: r.get(6)?,
        tenant_id: r.get(7)?,
        org: r.get(8)?,
    })
}

impl SealedDevice {
    fn open(self, key: &MasterKey) -> Result<(i64, String, DeviceRecord), StoreError> {
        let secret = unsealed(key, &device_secret_context(&self.uuid), &self.secret)?;
        let totp_seed = self
            .totp_seed
            .map(|s| unsealed(key, &totp_seed_context(&self.uuid), &s))
            .transpose()?;
        Ok((
            self.tenant_id,
            self.org.clone(),
            DeviceRecord {
                org: self.org,
                uuid: self.uuid,
                name: self.name,
                secret,
                totp_seed,
                last_seen_addr: self.last_seen_addr,
                last_seen_at: self.last_seen_at,
                created_at: self.created_at,
            },
        ))
    }
}

fn devices_where(
    c: &Connection,
    key: &MasterKey,
    filter: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<(i64, String, DeviceRecord)>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLS} FROM devices d JOIN orgs o ON o.id = d.org_id WHERE {filter}");
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let rows: Vec<SealedDevice> = s
        .query_map(p, device_row)
        .and_then(Iterator::collect)
        .map_err(backend)?;
    rows.into_iter().map(|d| d.open(key)).collect()
}

/// Creates a device with its default document (`{uuid, name}`), so every
/// registry device is also in `/api/devices`.
pub(crate) fn create_device(
    c: &Connection,
    key: &MasterKey,
    t: &Tenant,
    d: NewDevice,
) -> Result<DeviceRecord, StoreError> {
    let doc = crate::store::default_device_document(&d)?;
    super::documents::create_device_document(c, key, t, d, &doc)
}

/// `devicekey` is stored only as its keyed hash; the secret is sealed.
pub(crate) fn insert_device(
    c: &Connection,
    key: &MasterKey,
    t: &Tenant,
    d: NewDevice,
) -> Result<DeviceRecord, StoreError> {
    let now = now_ms();
    c.execute(
        "INSERT INTO devices (uuid, org_id, name, secret_enc, devicekey_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            d.uuid,
            t.id(),
            d.name,
            key.seal(&device_secret_context(&d.uuid), &d.secret),
            key.devicekey_hash(&d.devicekey),
            now
        ],
    )
    .map_err(|e| map(e, &format!("device {}", d.uuid)))?;
    Ok(d.into_record(t, now))
}

pub(crate) fn list_devices(c: &Connection, key: &MasterKey, t: &Tenant) -> Result<Vec<DeviceRecord>, StoreError> {
    Ok(
        devices_where(c, key, "d.org_id = ?1 ORDER BY d.created_at, d.uuid", [t.id()])?
            .into_iter()
            .map(|d| d.2)
            .collect(),
    )
}

pub(crate) fn device(
    c: &Connection,
    key: &MasterKey,
    t: &Tenant,
    uuid: &str,
) -> Result<Option<DeviceRecord>, StoreError> {
    Ok(
        devices_where(c, key, "d.org_id = ?1 AND d.uuid = ?2", params![t.id(), uuid])?
            .pop()
            .map(|d| d.2),
    )
}

pub(crate) fn delete_device(c: &Connection, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM devices WHERE org_id = ?1 AND uuid = ?2",
            params![t.id(), uuid],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("device {uuid}"))
}

pub(crate) fn set_device_totp(
    c: &Connection,
    key: &MasterKey,
    t: &Tenant,
    uuid: &str,
    seed: &str,
) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE devices SET totp_seed_enc = ?3, totp_last_step = NULL WHERE org_id = ?1 AND uuid = ?2",
            params![t.id(), uuid, key.seal(&totp_seed_context(uuid), seed)],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("device {uuid}"))
}

pub(crate) fn consume_totp_step(c: &Connection, t: &Tenant, uuid: &str, step: i64) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE devices SET totp_last_step = ?3 WHERE org_id = ?1 AND uuid = ?2 \
             AND (totp_last_step IS NULL OR totp_last_step < ?3)",
            params![t.id(), uuid, step],
        )
        .map_err(backend)?;
    Ok(n == 1)
}

fn with_tenant(found: Option<(i64, String, DeviceRecord)>) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
    found.map(|(id, name, d)| Ok((tenant_from(id, name)?, d))).transpose()
}

/// Credential look-up by the keyed hash of a device key.
pub(crate) fn device_by_key_hash(
    c: &Connection,
    key: &MasterKey,
    hash: &str,
) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
    with_tenant(devices_where(c, key, "d.devicekey_hash = ?1", [hash])?.pop())
}

/// What the ingest hot path needs of the device holding a device key: no
/// credential is unsealed on the writer thread.
pub(crate) struct KeyedDevice {
    pub(crate) tenant: Tenant,
    pub(crate) uuid: String,
    pub(crate) last_seen_addr: Option<String>,
    pub(crate) last_seen_at: Option<i64>,
}

pub(crate) fn keyed_device(c: &Connection, hash: &str) -> Result<Option<KeyedDevice>, StoreError> {
    let found = c
        .prepare_cached(
            "SELECT d.uuid, d.last_seen_addr, d.last_seen_at, o.id, o.name \
             FROM devices d JOIN orgs o ON o.id = d.org_id WHERE d.devicekey_hash = ?1",
        )
        .and_then(|mut s| {
            s.query_row([hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .optional()
        })
        .map_err(backend)?;
    found
        .map(|(uuid, last_seen_addr, last_seen_at, id, org)| {
            Ok(KeyedDevice {
                tenant: tenant_from(id, org)?,
                uuid,
                last_seen_addr,
                last_seen_at,
            })
        })
        .transpose()
}

pub(crate) fn device_by_uuid(
    c: &Connection,
    key: &MasterKey,
    uuid: &str,
) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
    with_tenant(devices_where(c, key, "d.uuid = ?1", [uuid])?.pop())
}

pub(crate) fn create_app(
    c: &Connection,
    master: &MasterKey,
    t: &Tenant,
    uuid: &str,
    name: &str,
    key: &str,
) -> Result<AppRecord, StoreError> {
    let now = now_ms();
    c.execute(
        "INSERT INTO apps (uuid, org_id, name, api_key_enc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![uuid, t.id(), name, master.seal(&app_key_context(uuid), key), now],
    )
    .map_err(|e| map(e, &format!("app {uuid}")))?;
    Ok(AppRecord {
        org: t.name().to_string(),
        uuid: uuid.into(),
        name: name.into(),
        created_at: now,
    })
}

pub(crate) fn list_apps(c: &Connection, t: &Tenant) -> Result<Vec<AppRecord>, StoreError> {
    let org = t.name().to_string();
    let mut s = c
        .prepare_cached("SELECT uuid, name, created_at FROM apps WHERE org_id = ?1 ORDER BY created_at, uuid")
        .map_err(backend)?;
    s.query_map([t.id()], |r| {
        Ok(AppRecord {
            org: org.clone(),
            uuid: r.get(0)?,
            name: r.get(1)?,
            created_at: r.get(2)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(backend)
}

pub(crate) fn app_api_key(
    c: &Connection,
    master: &MasterKey,
    uuid: &str,
) -> Result<Option<(Tenant, String)>, StoreError> {
    let row: Option<(i64, String, Vec<u8>)> = c
        .prepare_cached(
            "SELECT o.id, o.name, a.api_key_enc FROM apps a JOIN orgs o ON o.id = a.org_id WHERE a.uuid = ?1",
        )
        .and_then(|mut s| {
            s.query_row([uuid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(backend)?;
    row.map(|(id, org, sealed)| {
        Ok((
            tenant_from(id, org)?,
            unsealed(master, &app_key_context(uuid), &sealed)?,
        ))
    })
    .transpose()
}

pub(crate) fn delete_app(c: &Connection, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM apps WHERE org_id = ?1 AND uuid = ?2",
            params![t.id(), uuid],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("app {uuid}"))
}

pub(crate) fn create_client(
    c: &Connection,
    t: &Tenant,
    client_id: &str,
    secret_hash: &str,
    scopes: &[String],
) -> Result<ClientRecord, StoreError> {
    let now = now_ms();
    let scopes_json = serde_json::to_string(scopes).map_err(|e| StoreError::Backend(e.to_string()))?;
    c.execute(
        "INSERT INTO oauth_clients (client_id, org_id, secret_hash, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![client_id, t.id(), secret_hash, scopes_json, now],
    )
    .map_err(|e| map(e, &format!("client {client_id}")))?;
    Ok(ClientRecord {
        org: t.name().to_string(),
        client_id: client_id.into(),
        scopes: scopes.to_vec(),
        created_at: now,
    })
}

pub(crate) fn list_clients(c: &Connection, t: &Tenant) -> Result<Vec<ClientRecord>, StoreError> {
    let org = t.name().to_string();
    let mut s = c
        .prepare_cached("SELECT client_id, scopes, created_at FROM oauth_clients WHERE org_id = ?1 ORDER BY created_at")
        .map_err(backend)?;
    s.query_map([t.id()], |r| {
        let scopes: String = r.get(1)?;
        Ok(ClientRecord {
            org: org.clone(),
            client_id: r.get(0)?,
            scopes: serde_json::from_str(&scopes).unwrap_or_default(),
            created_at: r.get(2)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(backend)
}

pub(crate) fn delete_client(c: &Connection, t: &Tenant, client_id: &str) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM oauth_clients WHERE org_id = ?1 AND client_id = ?2",
            params![t.id(), client_id],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("client {client_id}"))
}

pub(crate) fn create_api_key(
    c: &Connection,
    t: &Tenant,
    id: &str,
    prefix: &str,
    key_hash: &str,
) -> Result<ApiKeyRecord, StoreError> {
    let now = now_ms();
    c.execute(
        "INSERT INTO api_keys (id, org_id, prefix, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, t.id(), prefix, key_hash, now],
    )
    .map_err(|e| map(e, &format!("api key {id}")))?;
    Ok(ApiKeyRecord {
        org: t.name().to_string(),
        id: id.into(),
        prefix: prefix.into(),
        created_at: now,
    })
}

pub(crate) fn list_api_keys(c: &Connection, t: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let org = t.name().to_string();
    let mut s = c
        .prepare_cached("SELECT id, prefix, created_at FROM api_keys WHERE org_id = ?1 ORDER BY created_at")
        .map_err(backend)?;
    s.query_map([t.id()], |r| {
        Ok(ApiKeyRecord {
            org: org.clone(),
            id: r.get(0)?,
            prefix: r.get(1)?,
            created_at: r.get(2)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(backend)
}

pub(crate) fn delete_api_key(c: &Connection, t: &Tenant, id: &str) -> Result<(), StoreError> {
    let n = c
        .execute(
            "DELETE FROM api_keys WHERE org_id = ?1 AND id = ?2",
            params![t.id(), id],
        )
        .map_err(backend)?;
    not_found_if_zero(n, &format!("api key {id}"))
}

pub(crate) fn tenant_by_api_key_hash(c: &Connection, key_hash: &str) -> Result<Option<Tenant>, StoreError> {
    c.prepare_cached("SELECT o.id, o.name FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.key_hash = ?1")
        .and_then(|mut s| {
            s.query_row([key_hash], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .optional()
        })
        .map_err(backend)?
        .map(|(id, name)| tenant_from(id, name))
        .transpose()
}

#[async_trait::async_trait]
impl RegistryStore for SqliteStore {
    async fn create_org(&self, name: &OrgName) -> Result<Tenant, StoreError> {
        let name = name.clone();
        self.pool.write(move |c| create_org(c, &name)).await
    }
    async fn tenant(&self, name: &OrgName) -> Result<Option<Tenant>, StoreError> {
        let name = name.clone();
        self.pool.read(move |c| tenant(c, &name)).await
    }
    async fn org(&self, t: &Tenant) -> Result<OrgRecord, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| org(c, &t)).await
    }
    async fn list_orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        self.pool.read(list_orgs).await
    }
    async fn delete_org(&self, t: &Tenant) -> Result<(), StoreError> {
        let t = t.clone();
        self.pool.write(move |c| delete_org(c, &t)).await
    }
    async fn set_message_retention(&self, t: &Tenant, secs: Option<i64>) -> Result<(), StoreError> {
        let t = t.clone();
        self.pool.write(move |c| set_message_retention(c, &t, secs)).await
    }
    async fn create_user(&self, t: &Tenant, username: &str, hash: &str) -> Result<(), StoreError> {
        let (t, u, h) = (t.clone(), username.to_owned(), hash.to_owned());
        self.pool.write(move |c| create_user(c, &t, &u, &h)).await
    }
    async fn list_users(&self, t: &Tenant) -> Result<Vec<UserRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| list_users(c, &t)).await
    }
    async fn user_password_hash(&self, t: &Tenant, username: &str) -> Result<Option<String>, StoreError> {
        let (t, u) = (t.clone(), username.to_owned());
        self.pool.read(move |c| user_password_hash(c, &t, &u)).await
    }
    async fn delete_user(&self, t: &Tenant, username: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), username.to_owned());
        self.pool.write(move |c| delete_user(c, &t, &u)).await
    }
    async fn create_device(&self, t: &Tenant, device: NewDevice) -> Result<DeviceRecord, StoreError> {
        let (t, key) = (t.clone(), self.key.clone());
        self.pool.write(move |c| create_device(c, &key, &t, device)).await
    }
    async fn list_devices(&self, t: &Tenant) -> Result<Vec<DeviceRecord>, StoreError> {
        let (t, key) = (t.clone(), self.key.clone());
        self.pool.read(move |c| list_devices(c, &key, &t)).await
    }
    async fn device(&self, t: &Tenant, uuid: &str) -> Result<Option<DeviceRecord>, StoreError> {
        let (t, u, key) = (t.clone(), uuid.to_owned(), self.key.clone());
        self.pool.read(move |c| device(c, &key, &t, &u)).await
    }
    async fn delete_device(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| delete_device(c, &t, &u)).await
    }
    async fn set_device_totp(&self, t: &Tenant, uuid: &str, seed: &str) -> Result<(), StoreError> {
        let (t, u, s, key) = (t.clone(), uuid.to_owned(), seed.to_owned(), self.key.clone());
        self.pool.write(move |c| set_device_totp(c, &key, &t, &u, &s)).await
    }
    async fn consume_totp_step(&self, t: &Tenant, uuid: &str, step: i64) -> Result<bool, StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| consume_totp_step(c, &t, &u, step)).await
    }
    async fn device_by_key(&self, key: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        let (hash, key) = (self.key.devicekey_hash(key), self.key.clone());
        self.pool.read(move |c| device_by_key_hash(c, &key, &hash)).await
    }
    async fn device_by_uuid(&self, uuid: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        let (u, key) = (uuid.to_owned(), self.key.clone());
        self.pool.read(move |c| device_by_uuid(c, &key, &u)).await
    }
    async fn create_app(&self, t: &Tenant, uuid: &str, name: &str, key: &str) -> Result<AppRecord, StoreError> {
        let (t, u, n, k, master) = (
            t.clone(),
            uuid.to_owned(),
            name.to_owned(),
            key.to_owned(),
            self.key.clone(),
        );
        self.pool.write(move |c| create_app(c, &master, &t, &u, &n, &k)).await
    }
    async fn list_apps(&self, t: &Tenant) -> Result<Vec<AppRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| list_apps(c, &t)).await
    }
    async fn delete_app(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        let (t, u) = (t.clone(), uuid.to_owned());
        self.pool.write(move |c| delete_app(c, &t, &u)).await
    }
    async fn app_api_key(&self, uuid: &str) -> Result<Option<(Tenant, String)>, StoreError> {
        let (u, master) = (uuid.to_owned(), self.key.clone());
        self.pool.read(move |c| app_api_key(c, &master, &u)).await
    }
    async fn create_client(
        &self,
        t: &Tenant,
        client_id: &str,
        secret_hash: &str,
        scopes: &[String],
    ) -> Result<ClientRecord, StoreError> {
        let (t, id, h, s) = (t.clone(), client_id.to_owned(), secret_hash.to_owned(), scopes.to_vec());
        self.pool.write(move |c| create_client(c, &t, &id, &h, &s)).await
    }
    async fn list_clients(&self, t: &Tenant) -> Result<Vec<ClientRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| list_clients(c, &t)).await
    }
    async fn delete_client(&self, t: &Tenant, client_id: &str) -> Result<(), StoreError> {
        let (t, id) = (t.clone(), client_id.to_owned());
        self.pool.write(move |c| delete_client(c, &t, &id)).await
    }
    async fn create_api_key(&self, t: &Tenant, id: &str, prefix: &str, hash: &str) -> Result<ApiKeyRecord, StoreError> {
        let (t, id, p, h) = (t.clone(), id.to_owned(), prefix.to_owned(), hash.to_owned());
        self.pool.write(move |c| create_api_key(c, &t, &id, &p, &h)).await
    }
    async fn list_api_keys(&self, t: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| list_api_keys(c, &t)).await
    }
    async fn delete_api_key(&self, t: &Tenant, id: &str) -> Result<(), StoreError> {
        let (t, id) = (t.clone(), id.to_owned());
        self.pool.write(move |c| delete_api_key(c, &t, &id)).await
    }
    async fn tenant_by_api_key_hash(&self, key_hash: &str) -> Result<Option<Tenant>, StoreError> {
        let h = key_hash.to_owned();
        self.pool.read(move |c| tenant_by_api_key_hash(c, &h)).await
    }
}
