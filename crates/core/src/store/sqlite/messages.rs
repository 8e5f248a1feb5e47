//! Message SQL.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::errors::backend;
use super::registry::keyed_device;
use crate::ids::Tenant;
use crate::records::{MessageQuery, MessageRecord, NewMessage, StoredMessage};
use crate::store::MessageStore;
use crate::store::StoreError;

const COLS: &str = "id, device_uuid, topics, payload, received_at, peer, sdk, modem, idempotency_key";

fn row(org: &str, r: &Row) -> rusqlite::Result<MessageRecord> {
    let topics: String = r.get(2)?;
    Ok(MessageRecord {
        id: r.get(0)?,
        org: org.to_owned(),
        device_uuid: r.get(1)?,
        topics: serde_json::from_str(&topics).unwrap_or_default(),
        payload: r.get(3)?,
        received_at: r.get(4)?,
        peer: r.get(5)?,
        sdk: r.get(6)?,
        modem: r.get(7)?,
        idempotency_key: r.get(8)?,
    })
}

/// What the store knows of a device's last contact, to skip needless updates.
pub(crate) struct LastSeen<'a> {
    pub(crate) addr: Option<&'a str>,
    pub(crate) at: Option<i64>,
}

/// How stale `last_seen_at` may get before a message from the same address refreshes it.
const LAST_SEEN_RESOLUTION_MS: i64 = 1000;

/// The address part of a peer (`ip:port` -> `ip`), which is what cloud-to-device pushes need.
fn peer_ip(peer: &str) -> &str {
    peer.parse::<std::net::SocketAddr>()
        .map_or(peer, |_| peer.rsplit_once(':').map_or(peer, |(ip, _)| ip))
}

pub(crate) fn insert(
    c: &Connection,
    t: &Tenant,
    device_uuid: &str,
    m: NewMessage,
) -> Result<StoredMessage, StoreError> {
    let seen = c
        .prepare_cached("SELECT last_seen_addr, last_seen_at FROM devices WHERE org_id = ?1 AND uuid = ?2")
        .and_then(|mut s| {
            s.query_row(params![t.id(), device_uuid], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?))
            })
            .optional()
        })
        .map_err(backend)?
        .unwrap_or((None, None));
    insert_known(
        c,
        t,
        device_uuid,
        LastSeen {
            addr: seen.0.as_deref(),
            at: seen.1,
        },
        m,
    )
}

/// Inserts a message of a device whose last contact is `seen`; refreshes
/// the device's last-seen address and time when they changed.
pub(crate) fn insert_known(
    c: &Connection,
    t: &Tenant,
    device_uuid: &str,
    seen: LastSeen<'_>,
    m: NewMessage,
) -> Result<StoredMessage, StoreError> {
    if let Some(key) = &m.idempotency_key {
        let org = t.name().to_string();
        let earlier = c
            .prepare_cached(&format!(
                "SELECT {COLS} FROM messages WHERE org_id = ?1 AND device_uuid = ?2 AND idempotency_key = ?3"
            ))
            .and_then(|mut s| {
                s.query_row(params![t.id(), device_uuid, key], |r| row(&org, r))
                    .optional()
            })
            .map_err(backend)?;
        if let Some(record) = earlier {
            return Ok(StoredMessage {
                record,
                duplicate: true,
            });
        }
    }
    let topics = serde_json::to_string(&m.topics).map_err(|e| StoreError::Backend(e.to_string()))?;
    c.prepare_cached(
        "INSERT INTO messages (org_id, device_uuid, topics, payload, received_at, peer, sdk, modem, idempotency_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.id(),
            device_uuid,
            topics,
            m.payload,
            m.received_at,
            m.peer,
            m.sdk,
            m.modem,
            m.idempotency_key
        ])
    })
    .map_err(backend)?;
    let id = c.last_insert_rowid();
    let ip = peer_ip(&m.peer);
    let stale = seen.at.is_none_or(|at| m.received_at - at >= LAST_SEEN_RESOLUTION_MS);
    if seen.addr != Some(ip) || stale {
        c.prepare_cached("UPDATE devices SET last_seen_addr = ?3, last_seen_at = ?4 WHERE org_id = ?1 AND uuid = ?2")
            .and_then(|mut s| s.execute(params![t.id(), device_uuid, ip, m.received_at]))
            .map_err(backend)?;
    }
    let record = MessageRecord {
        id,
        org: t.name().to_string(),
        device_uuid: device_uuid.to_owned(),
        topics: m.topics,
        payload: m.payload,
        received_at: m.received_at,
        peer: m.peer,
        sdk: m.sdk,
        modem: m.modem,
        idempotency_key: m.idempotency_key,
    };
    Ok(StoredMessage {
        record,
        duplicate: false,
    })
}

pub(crate) fn list(c: &Connection, t: &Tenant, q: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
    let mut sql = format!("SELECT {COLS} FROM messages WHERE org_id = ?");
    let mut args: Vec<Value> = vec![t.id().into()];
    if let Some(d) = &q.device_uuid {
        sql.push_str(" AND device_uuid = ?");
        args.push(d.clone().into());
    }
    if let Some(topic) = &q.topic {
        sql.push_str(" AND EXISTS (SELECT 1 FROM json_each(messages.topics) WHERE value = ?)");
        args.push(topic.clone().into());
    }
    if let Some(s) = q.time_start {
        sql.push_str(" AND received_at >= ?");
        args.push(s.into());
    }
    if let Some(e) = q.time_end {
        sql.push_str(" AND received_at <= ?");
        args.push(e.into());
    }
    if let Some(b) = q.before_id {
        sql.push_str(" AND id < ?");
        args.push(b.into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(i64::from(q.limit).into());
    let org = t.name().to_string();
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    s.query_map(rusqlite::params_from_iter(args), |r| row(&org, r))
        .and_then(Iterator::collect)
        .map_err(backend)
}

pub(crate) fn get(c: &Connection, t: &Tenant, id: i64) -> Result<Option<MessageRecord>, StoreError> {
    let org = t.name().to_string();
    c.prepare_cached(&format!("SELECT {COLS} FROM messages WHERE org_id = ?1 AND id = ?2"))
        .and_then(|mut s| s.query_row(params![t.id(), id], |r| row(&org, r)).optional())
        .map_err(backend)
}

pub(crate) fn delete_before(c: &Connection, t: &Tenant, cutoff: i64, limit: u32) -> Result<u64, StoreError> {
    c.prepare_cached(
        "DELETE FROM messages WHERE id IN \
         (SELECT id FROM messages WHERE org_id = ?1 AND received_at < ?2 ORDER BY received_at LIMIT ?3)",
    )
    .and_then(|mut s| s.execute(params![t.id(), cutoff, limit]))
    .map(|n| n as u64)
    .map_err(backend)
}

#[async_trait::async_trait]
impl MessageStore for SqliteStore {
    async fn insert_message(
        &self,
        t: &Tenant,
        device_uuid: &str,
        message: NewMessage,
    ) -> Result<StoredMessage, StoreError> {
        let (t, d) = (t.clone(), device_uuid.to_owned());
        self.pool.write(move |c| insert(c, &t, &d, message)).await
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
                let Some(device) = keyed_device(c, &hash)? else {
                    return Ok(None);
                };
                let seen = LastSeen {
                    addr: device.last_seen_addr.as_deref(),
                    at: device.last_seen_at,
                };
                let stored = insert_known(c, &device.tenant, &device.uuid, seen, message)?;
                Ok(Some((device.tenant, stored)))
            })
            .await
    }
    async fn list_messages(&self, t: &Tenant, query: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
        let (t, q) = (t.clone(), query.clone());
        self.pool.read(move |c| list(c, &t, &q)).await
    }
    async fn message(&self, t: &Tenant, id: i64) -> Result<Option<MessageRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| get(c, &t, id)).await
    }
    async fn delete_messages_before(&self, t: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        let t = t.clone();
        self.pool.write(move |c| delete_before(c, &t, cutoff_ms, limit)).await
    }
}
