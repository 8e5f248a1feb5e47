//! Message SQL: reads and the retention sweep. Inserts go through the
//! group-committing writer in `ingest.rs`.

use super::PgStore;
use super::ingest::Target;
use crate::records::{NewMessage, StoredMessage};
use crate::store::MessageStore;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::errors::backend;
use super::pool::{execute, query};
use crate::ids::Tenant;
use crate::records::{MessageQuery, MessageRecord};
use crate::store::StoreError;

pub(crate) const COLS: &str = "id, device_uuid, topics, payload, received_at, peer, sdk, modem, idempotency_key";

/// A message row selected with [`COLS`].
pub(crate) fn row(org: &str, r: &Row) -> MessageRecord {
    MessageRecord {
        id: r.get(0),
        org: org.to_owned(),
        device_uuid: r.get(1),
        topics: r.get(2),
        payload: r.get(3),
        received_at: r.get(4),
        peer: r.get(5),
        sdk: r.get(6),
        modem: r.get(7),
        idempotency_key: r.get(8),
    }
}

pub(crate) async fn list<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    q: &MessageQuery,
) -> Result<Vec<MessageRecord>, StoreError> {
    let limit = i64::from(q.limit);
    let id = t.id();
    let mut sql = format!("SELECT {COLS} FROM messages WHERE org_id = $1");
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&id];
    if let Some(d) = &q.device_uuid {
        args.push(d);
        sql.push_str(&format!(" AND device_uuid = ${}", args.len()));
    }
    if let Some(topic) = &q.topic {
        args.push(topic);
        sql.push_str(&format!(" AND ${} = ANY(topics)", args.len()));
    }
    if let Some(s) = &q.time_start {
        args.push(s);
        sql.push_str(&format!(" AND received_at >= ${}", args.len()));
    }
    if let Some(e) = &q.time_end {
        args.push(e);
        sql.push_str(&format!(" AND received_at <= ${}", args.len()));
    }
    if let Some(b) = &q.before_id {
        args.push(b);
        sql.push_str(&format!(" AND id < ${}", args.len()));
    }
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
    let org = t.name().to_string();
    Ok(query(c, &sql, &args)
        .await
        .map_err(backend)?
        .iter()
        .map(|r| row(&org, r))
        .collect())
}

pub(crate) async fn get<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    id: i64,
) -> Result<Option<MessageRecord>, StoreError> {
    let org = t.name().to_string();
    Ok(query(
        c,
        &format!("SELECT {COLS} FROM messages WHERE org_id = $1 AND id = $2"),
        &[&t.id(), &id],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| row(&org, r)))
}

pub(crate) async fn delete_before<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    cutoff: i64,
    limit: u32,
) -> Result<u64, StoreError> {
    execute(
        c,
        "DELETE FROM messages WHERE id IN \
         (SELECT id FROM messages WHERE org_id = $1 AND received_at < $2 ORDER BY received_at, id LIMIT $3)",
        &[&t.id(), &cutoff, &i64::from(limit)],
    )
    .await
    .map_err(backend)
}

#[async_trait::async_trait]
impl MessageStore for PgStore {
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
        read!(self, |c| super::messages::list(c, t, query))
    }
    async fn message(&self, t: &Tenant, id: i64) -> Result<Option<MessageRecord>, StoreError> {
        read!(self, |c| super::messages::get(c, t, id))
    }
    async fn delete_messages_before(&self, t: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        write!(self, |c| super::messages::delete_before(c, t, cutoff_ms, limit))
    }
}
