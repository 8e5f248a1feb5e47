//! Registry SQL: organizations, users, devices, apps, OAuth2 clients, API
//! keys. Credentials at rest exactly as in the SQLite store: device keys as
//! keyed hashes, secrets sealed with the same contexts.

use super::PgStore;
use crate::store::RegistryStore;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::errors::{backend, map};
use super::pool::{execute, query};
use crate::ids::{OrgName, Tenant};
use crate::master_key::MasterKey;
use crate::now_ms;
use crate::records::*;
use crate::store::sealed::{app_key_context, device_secret_context, totp_seed_context, unsealed};
use crate::store::{NewDevice, StoreError};

fn not_found_if_zero(changed: u64, what: &str) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound(what.to_owned()))
    } else {
        Ok(())
    }
}

pub(crate) fn tenant_from(id: i64, name: &str) -> Result<Tenant, StoreError> {
    let name = OrgName::parse(name).map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(Tenant::from_store(id, name))
}

pub(crate) async fn create_org<C: GenericClient + Sync>(c: &C, name: &OrgName) -> Result<Tenant, StoreError> {
    let rows = query(
        c,
        "INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id",
        &[&name.as_str(), &now_ms()],
    )
    .await
    .map_err(|e| map(e, &format!("organization {name}")))?;
    let id: i64 = rows
        .first()
        .map(|r| r.get(0))
        .ok_or_else(|| StoreError::Backend("INSERT returned no id".into()))?;
    Ok(Tenant::from_store(id, name.clone()))
}

pub(crate) async fn tenant<C: GenericClient + Sync>(c: &C, name: &OrgName) -> Result<Option<Tenant>, StoreError> {
    let rows = query(c, "SELECT id FROM orgs WHERE name = $1", &[&name.as_str()])
        .await
        .map_err(backend)?;
    Ok(rows.first().map(|r| Tenant::from_store(r.get(0), name.clone())))
}

fn org_row(r: &Row) -> OrgRecord {
    OrgRecord {
        name: r.get(0),
        message_retention_secs: r.get(1),
        created_at: r.get(2),
    }
}

pub(crate) async fn org<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<OrgRecord, StoreError> {
    query(
        c,
        "SELECT name, message_retention_secs, created_at FROM orgs WHERE id = $1",
        &[&t.id()],
    )
    .await
    .map_err(backend)?
    .first()
    .map(org_row)
    .ok_or_else(|| StoreError::NotFound(format!("organization {}", t.name())))
}

pub(crate) async fn list_orgs<C: GenericClient + Sync>(c: &C) -> Result<Vec<OrgRecord>, StoreError> {
    Ok(query(
        c,
        "SELECT name, message_retention_secs, created_at FROM orgs ORDER BY name",
        &[],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(org_row)
    .collect())
}

pub(crate) async fn delete_org<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<(), StoreError> {
    let n = execute(c, "DELETE FROM orgs WHERE id = $1", &[&t.id()])
        .await
        .map_err(backend)?;
    not_found_if_zero(n, &format!("organization {}", t.name()))
}

pub(crate) async fn set_message_retention<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    secs: Option<i64>,
) -> Result<(), StoreError> {
    let n = execute(
        c,
        "UPDATE orgs SET message_retention_secs = $2 WHERE id = $1",
        &[&t.id(), &secs],
    )
    .await
    .map_err(backend)?;
    not_found_if_zero(n, &format!("organization {}", t.name()))
}

pub(crate) async fn create_user<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    username: &str,
    hash: &str,
) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO users (org_id, username, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        &[&t.id(), &username, &hash, &now_ms()],
    )
    .await
    .map_err(|e| map(e, &format!("user {username}")))?;
    Ok(())
}

pub(crate) async fn list_users<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<Vec<UserRecord>, StoreError> {
    let org = t.name().to_string();
    Ok(query(
        c,
        "SELECT username, created_at FROM users WHERE org_id = $1 ORDER BY username",
        &[&t.id()],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| UserRecord {
        org: org.clone(),
        username: r.get(0),
        created_at: r.get(1),
    })
    .collect())
}

pub(crate) async fn user_password_hash<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    username: &str,
) -> Result<Option<String>, StoreError> {
    Ok(query(
        c,
        "SELECT password_hash FROM users WHERE org_id = $1 AND username = $2",
        &[&t.id(), &username],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| r.get(0)))
}

pub(crate) async fn delete_user<C: GenericClient + Sync>(c: &C, t: &Tenant, username: &str) -> Result<(), StoreError> {
    let n = execute(
        c,
        "DELETE FROM users WHERE org_id = $1 AND username = $2",
        &[&t.id(), &username],
    )
    .await
    .map_err(backend)?;
    not_found_if_zero(n, &format!("user {username}"))
}

const DEVICE_COLS: &str = "d.uuid, d.name, d.secret_enc, d.totp_seed_enc, d.last_seen_addr, d.last_seen_at, \
     d.created_at, o.id, o.name";

/// A device row opened with the master key, with its tenant.
fn device_row(key: &MasterKey, r: &Row) -> Result<(Tenant, DeviceRecord), StoreError> {
    let uuid: String = r.get(0);
    let secret: Vec<u8> = r.get(2);
    let seed: Option<Vec<u8>> = r.get(3);
    let org: String = r.get(8);
    let tenant = tenant_from(r.get(7), &org)?;
    Ok((
        tenant,
        DeviceRecord {
            org,
            secret: unsealed(key, &device_secret_context(&uuid), &secret)?,
            totp_seed: seed.map(|s| unsealed(key, &totp_seed_context(&uuid), &s)).transpose()?,
            name: r.get(1),
            last_seen_addr: r.get(4),
            last_seen_at: r.get(5),
            created_at: r.get(6),
            uuid,
        },
    ))
}

async fn devices_where<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<(Tenant, DeviceRecord)>, StoreError> {
    let sql = format!("SELECT {DEVICE_COLS} FROM devices d JOIN orgs o ON o.id = d.org_id WHERE {filter}");
    query(c, &sql, params)
        .await
        .map_err(backend)?
        .iter()
        .map(|r| device_row(key, r))
        .collect()
}

/// `devicekey` is stored only as its keyed hash; the secret is sealed.
pub(crate) async fn insert_device<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    t: &Tenant,
    d: NewDevice,
) -> Result<DeviceRecord, StoreError> {
    let now = now_ms();
    execute(
        c,
        "INSERT INTO devices (uuid, org_id, name, secret_enc, devicekey_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &d.uuid,
            &t.id(),
            &d.name,
            &key.seal(&device_secret_context(&d.uuid), &d.secret),
            &key.devicekey_hash(&d.devicekey),
            &now,
        ],
    )
    .await
    .map_err(|e| map(e, &format!("device {}", d.uuid)))?;
    Ok(d.into_record(t, now))
}

pub(crate) async fn list_devices<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    t: &Tenant,
) -> Result<Vec<DeviceRecord>, StoreError> {
    Ok(
        devices_where(c, key, "d.org_id = $1 ORDER BY d.created_at, d.uuid", &[&t.id()])
            .await?
            .into_iter()
            .map(|d| d.1)
            .collect(),
    )
}

pub(crate) async fn device<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    t: &Tenant,
    uuid: &str,
) -> Result<Option<DeviceRecord>, StoreError> {
    Ok(
        devices_where(c, key, "d.org_id = $1 AND d.uuid = $2", &[&t.id(), &uuid])
            .await?
            .pop()
            .map(|d| d.1),
    )
}

pub(crate) async fn delete_device<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let n = execute(
        c,
        "DELETE FROM devices WHERE org_id = $1 AND uuid = $2",
        &[&t.id(), &uuid],
    )
    .await
    .map_err(backend)?;
    not_found_if_zero(n, &format!("device {uuid}"))
}

pub(crate) async fn set_device_totp<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    t: &Tenant,
    uuid: &str,
    seed: &str,
) -> Result<(), StoreError> {
    let n = execute(
        c,
        "UPDATE devices SET totp_seed_enc = $3, totp_last_step = NULL WHERE org_id = $1 AND uuid = $2",
        &[&t.id(), &uuid, &key.seal(&totp_seed_context(uuid), seed)],
    )
    .await
    .map_err(backend)?;
    not_found_if_zero(n, &format!("device {uuid}"))
}

/// Single use lives in the database: the conditional UPDATE succeeds for
/// one caller only, whichever node it runs on.
pub(crate) async fn consume_totp_step<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    uuid: &str,
    step: i64,
) -> Result<bool, StoreError> {
    let n = execute(
        c,
        "UPDATE devices SET totp_last_step = $3 WHERE org_id = $1 AND uuid = $2 \
         AND (totp_last_step IS NULL OR totp_last_step < $3)",
        &[&t.id(), &uuid, &step],
    )
    .await
    .map_err(backend)?;
    Ok(n == 1)
}

/// Credential look-up by the keyed hash of a device key.
pub(crate) async fn device_by_key_hash<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    hash: &str,
) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
    Ok(devices_where(c, key, "d.devicekey_hash = $1", &[&hash]).await?.pop())
}

pub(crate) async fn device_by_uuid<C: GenericClient + Sync>(
    c: &C,
    key: &MasterKey,
    uuid: &str,
) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
    Ok(devices_where(c, key, "d.uuid = $1", &[&uuid]).await?.pop())
}

pub(crate) async fn create_app<C: GenericClient + Sync>(
    c: &C,
    master: &MasterKey,
    t: &Tenant,
    uuid: &str,
    name: &str,
    key: &str,
) -> Result<AppRecord, StoreError> {
    let now = now_ms();
    execute(
        c,
        "INSERT INTO apps (uuid, org_id, name, api_key_enc, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&uuid, &t.id(), &name, &master.seal(&app_key_context(uuid), key), &now],
    )
    .await
    .map_err(|e| map(e, &format!("app {uuid}")))?;
    Ok(AppRecord {
        org: t.name().to_string(),
        uuid: uuid.into(),
        name: name.into(),
        created_at: now,
    })
}

pub(crate) async fn list_apps<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<Vec<AppRecord>, StoreError> {
    let org = t.name().to_string();
    Ok(query(
        c,
        "SELECT uuid, name, created_at FROM apps WHERE org_id = $1 ORDER BY created_at, uuid",
        &[&t.id()],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| AppRecord {
        org: org.clone(),
        uuid: r.get(0),
        name: r.get(1),
        created_at: r.get(2),
    })
    .collect())
}

pub(crate) async fn app_api_key<C: GenericClient + Sync>(
    c: &C,
    master: &MasterKey,
    uuid: &str,
) -> Result<Option<(Tenant, String)>, StoreError> {
    let rows = query(
        c,
        "SELECT o.id, o.name, a.api_key_enc FROM apps a JOIN orgs o ON o.id = a.org_id WHERE a.uuid = $1",
        &[&uuid],
    )
    .await
    .map_err(backend)?;
    rows.first()
        .map(|r| {
            let org: String = r.get(1);
            let sealed: Vec<u8> = r.get(2);
            Ok((
                tenant_from(r.get(0), &org)?,
                unsealed(master, &app_key_context(uuid), &sealed)?,
            ))
        })
        .transpose()
}

pub(crate) async fn delete_app<C: GenericClient + Sync>(c: &C, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
    let n = execute(c, "DELETE FROM apps WHERE org_id = $1 AND uuid = $2", &[&t.id(), &uuid])
        .await
        .map_err(backend)?;
    not_found_if_zero(n, &format!("app {uuid}"))
}

pub(crate) async fn create_client<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    client_id: &str,
    secret_hash: &str,
    scopes: &[String],
) -> Result<ClientRecord, StoreError> {
    let now = now_ms();
    let scope_list = scopes.to_vec();
    execute(
        c,
        "INSERT INTO oauth_clients (client_id, org_id, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&client_id, &t.id(), &secret_hash, &scope_list, &now],
    )
    .await
    .map_err(|e| map(e, &format!("client {client_id}")))?;
    Ok(ClientRecord {
        org: t.name().to_string(),
        client_id: client_id.into(),
        scopes: scope_list,
        created_at: now,
    })
}

pub(crate) async fn list_clients<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<Vec<ClientRecord>, StoreError> {
    let org = t.name().to_string();
    Ok(query(
        c,
        "SELECT client_id, scopes, created_at FROM oauth_clients WHERE org_id = $1 ORDER BY created_at",
        &[&t.id()],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| ClientRecord {
        org: org.clone(),
        client_id: r.get(0),
        scopes: r.get(1),
        created_at: r.get(2),
    })
    .collect())
}

pub(crate) async fn delete_client<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    client_id: &str,
) -> Result<(), StoreError> {
    let n = execute(
        c,
        "DELETE FROM oauth_clients WHERE org_id = $1 AND client_id = $2",
        &[&t.id(), &client_id],
    )
    .await
    .map_err(backend)?;
    not_found_if_zero(n, &format!("client {client_id}"))
}

pub(crate) async fn create_api_key<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    id: &str,
    prefix: &str,
    key_hash: &str,
) -> Result<ApiKeyRecord, StoreError> {
    let now = now_ms();
    execute(
        c,
        "INSERT INTO api_keys (id, org_id, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&id, &t.id(), &prefix, &key_hash, &now],
    )
    .await
    .map_err(|e| map(e, &format!("api key {id}")))?;
    Ok(ApiKeyRecord {
        org: t.name().to_string(),
        id: id.into(),
        prefix: prefix.into(),
        created_at: now,
    })
}

pub(crate) async fn list_api_keys<C: GenericClient + Sync>(c: &C, t: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let org = t.name().to_string();
    Ok(query(
        c,
        "SELECT id, prefix, created_at FROM api_keys WHERE org_id = $1 ORDER BY created_at",
        &[&t.id()],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| ApiKeyRecord {
        org: org.clone(),
        id: r.get(0),
        prefix: r.get(1),
        created_at: r.get(2),
    })
    .collect())
}

pub(crate) async fn delete_api_key<C: GenericClient + Sync>(c: &C, t: &Tenant, id: &str) -> Result<(), StoreError> {
    let n = execute(c, "DELETE FROM api_keys WHERE org_id = $1 AND id = $2", &[&t.id(), &id])
        .await
        .map_err(backend)?;
    not_found_if_zero(n, &format!("api key {id}"))
}

pub(crate) async fn tenant_by_api_key_hash<C: GenericClient + Sync>(
    c: &C,
    key_hash: &str,
) -> Result<Option<Tenant>, StoreError> {
    query(
        c,
        "SELECT o.id, o.name FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.key_hash = $1",
        &[&key_hash],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| tenant_from(r.get(0), r.get::<_, &str>(1)))
    .transpose()
}

#[async_trait::async_trait]
impl RegistryStore for PgStore {
    async fn create_org(&self, name: &OrgName) -> Result<Tenant, StoreError> {
        write!(self, |c| super::registry::create_org(c, name))
    }
    async fn tenant(&self, name: &OrgName) -> Result<Option<Tenant>, StoreError> {
        read!(self, |c| super::registry::tenant(c, name))
    }
    async fn org(&self, t: &Tenant) -> Result<OrgRecord, StoreError> {
        read!(self, |c| super::registry::org(c, t))
    }
    async fn list_orgs(&self) -> Result<Vec<OrgRecord>, StoreError> {
        read!(self, |c| super::registry::list_orgs(c))
    }
    async fn delete_org(&self, t: &Tenant) -> Result<(), StoreError> {
        write!(self, |c| super::registry::delete_org(c, t))
    }
    async fn set_message_retention(&self, t: &Tenant, secs: Option<i64>) -> Result<(), StoreError> {
        write!(self, |c| super::registry::set_message_retention(c, t, secs))
    }

    async fn create_user(&self, t: &Tenant, username: &str, hash: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::create_user(c, t, username, hash))
    }
    async fn list_users(&self, t: &Tenant) -> Result<Vec<UserRecord>, StoreError> {
        read!(self, |c| super::registry::list_users(c, t))
    }
    async fn user_password_hash(&self, t: &Tenant, username: &str) -> Result<Option<String>, StoreError> {
        read!(self, |c| super::registry::user_password_hash(c, t, username))
    }
    async fn delete_user(&self, t: &Tenant, username: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::delete_user(c, t, username))
    }

    async fn create_device(&self, t: &Tenant, device: NewDevice) -> Result<DeviceRecord, StoreError> {
        // Every registry device has its document (`/api/devices`), made in the same transaction.
        let doc = crate::store::default_device_document(&device)?;
        transaction!(self, |tx| super::documents::create_device_document(
            &tx, &self.key, t, device, &doc
        ))
    }
    async fn list_devices(&self, t: &Tenant) -> Result<Vec<DeviceRecord>, StoreError> {
        read!(self, |c| super::registry::list_devices(c, &self.key, t))
    }
    async fn device(&self, t: &Tenant, uuid: &str) -> Result<Option<DeviceRecord>, StoreError> {
        read!(self, |c| super::registry::device(c, &self.key, t, uuid))
    }
    async fn delete_device(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::delete_device(c, t, uuid))
    }
    async fn set_device_totp(&self, t: &Tenant, uuid: &str, seed: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::set_device_totp(c, &self.key, t, uuid, seed))
    }
    async fn consume_totp_step(&self, t: &Tenant, uuid: &str, step: i64) -> Result<bool, StoreError> {
        write!(self, |c| super::registry::consume_totp_step(c, t, uuid, step))
    }
    async fn device_by_key(&self, devicekey: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        let hash = self.key.devicekey_hash(devicekey);
        read!(self, |c| super::registry::device_by_key_hash(c, &self.key, &hash))
    }
    async fn device_by_uuid(&self, uuid: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError> {
        read!(self, |c| super::registry::device_by_uuid(c, &self.key, uuid))
    }

    async fn create_app(&self, t: &Tenant, uuid: &str, name: &str, key: &str) -> Result<AppRecord, StoreError> {
        write!(self, |c| super::registry::create_app(c, &self.key, t, uuid, name, key))
    }
    async fn list_apps(&self, t: &Tenant) -> Result<Vec<AppRecord>, StoreError> {
        read!(self, |c| super::registry::list_apps(c, t))
    }
    async fn delete_app(&self, t: &Tenant, uuid: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::delete_app(c, t, uuid))
    }
    async fn app_api_key(&self, uuid: &str) -> Result<Option<(Tenant, String)>, StoreError> {
        read!(self, |c| super::registry::app_api_key(c, &self.key, uuid))
    }

    async fn create_client(
        &self,
        t: &Tenant,
        client_id: &str,
        secret_hash: &str,
        scopes: &[String],
    ) -> Result<ClientRecord, StoreError> {
        write!(self, |c| super::registry::create_client(
            c,
            t,
            client_id,
            secret_hash,
            scopes
        ))
    }
    async fn list_clients(&self, t: &Tenant) -> Result<Vec<ClientRecord>, StoreError> {
        read!(self, |c| super::registry::list_clients(c, t))
    }
    async fn delete_client(&self, t: &Tenant, client_id: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::delete_client(c, t, client_id))
    }

    async fn create_api_key(&self, t: &Tenant, id: &str, prefix: &str, hash: &str) -> Result<ApiKeyRecord, StoreError> {
        write!(self, |c| super::registry::create_api_key(c, t, id, prefix, hash))
    }
    async fn list_api_keys(&self, t: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError> {
        read!(self, |c| super::registry::list_api_keys(c, t))
    }
    async fn delete_api_key(&self, t: &Tenant, id: &str) -> Result<(), StoreError> {
        write!(self, |c| super::registry::delete_api_key(c, t, id))
    }
    async fn tenant_by_api_key_hash(&self, key_hash: &str) -> Result<Option<Tenant>, StoreError> {
        read!(self, |c| super::registry::tenant_by_api_key_hash(c, key_hash))
    }
}
