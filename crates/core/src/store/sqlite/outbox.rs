//! SMS outbox and cloud-to-device delivery SQL.

use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use super::errors::backend;
use crate::ids::{OrgName, Tenant};
use crate::now_ms;
use crate::records::{DeliveryRecord, DeliveryResult, SmsEvent, SmsRecord, SmsState, SmsUpdate};
use crate::store::OutboxStore;
use crate::store::StoreError;
use crate::store::outbox_claims::not_claimed;

const COLS: &str = "s.id, s.device_uuid, s.destination, s.text, s.state, s.attempts, s.provider_id, s.reason, \
     s.created_at, s.updated_at, s.next_attempt_at, o.id, o.name";

fn row(r: &Row) -> rusqlite::Result<(i64, SmsRecord)> {
    let state: String = r.get(4)?;
    Ok((
        r.get(11)?,
        SmsRecord {
            id: r.get(0)?,
            org: r.get(12)?,
            device_uuid: r.get(1)?,
            destination: r.get(2)?,
            text: r.get(3)?,
            state: SmsState::parse(&state),
            attempts: r.get(5)?,
            provider_id: r.get(6)?,
            reason: r.get(7)?,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
            next_attempt_at: r.get(10)?,
        },
    ))
}

pub(crate) fn enqueue(
    c: &Connection,
    t: &Tenant,
    device_uuid: Option<&str>,
    destination: &str,
    text: &str,
) -> Result<SmsRecord, StoreError> {
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO sms (org_id, device_uuid, destination, text, state, attempts, created_at, updated_at, \
         next_attempt_at) VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?5, ?5)",
    )
    .and_then(|mut s| s.execute(params![t.id(), device_uuid, destination, text, now]))
    .map_err(backend)?;
    let id = c.last_insert_rowid();
    record_event(c, t, id, SmsState::Queued, 0, None, None, now)?;
    Ok(SmsRecord::queued(id, t, device_uuid, destination, text, now))
}

pub(crate) fn list(
    c: &Connection,
    t: &Tenant,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<SmsRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM sms s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = ?1 AND s.id < ?2 \
         ORDER BY s.id DESC LIMIT ?3"
    );
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    s.query_map(params![t.id(), before_id.unwrap_or(i64::MAX), limit], row)
        .and_then(|rows| rows.map(|r| r.map(|(_, s)| s)).collect())
        .map_err(backend)
}

/// Claims due SMS for `node`. The single writer runs this as one job in
/// its transaction, so no other claim interleaves.
pub(crate) fn claim_due(
    c: &Connection,
    node: &str,
    now: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<(Tenant, SmsRecord)>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM sms s JOIN orgs o ON o.id = s.org_id WHERE s.state = 'queued' \
         AND s.next_attempt_at <= ?1 AND (s.claim_until <= ?1 OR s.claimed_by = ?2) \
         ORDER BY s.next_attempt_at, s.id LIMIT ?3"
    );
    let rows: Vec<(i64, SmsRecord)> = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_map(params![now, node, limit], row).and_then(Iterator::collect))
        .map_err(backend)?;
    let until = now.saturating_add(lease_ms);
    {
        let mut claim = c
            .prepare_cached("UPDATE sms SET claimed_by = ?2, claim_until = ?3 WHERE id = ?1")
            .map_err(backend)?;
        for (_, sms) in &rows {
            claim.execute(params![sms.id, node, until]).map_err(backend)?;
        }
    }
    rows.into_iter()
        .map(|(id, sms)| {
            let name = OrgName::parse(&sms.org).map_err(|e| StoreError::Backend(e.to_string()))?;
            Ok((Tenant::from_store(id, name), sms))
        })
        .collect()
}

/// Takes or renews the lease `name` for `node`; `true` when it holds it.
pub(crate) fn try_lease(c: &Connection, name: &str, node: &str, now: i64, ttl_ms: i64) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE leases.until <= ?4 OR leases.holder = excluded.holder",
            params![name, node, now.saturating_add(ttl_ms), now],
        )
        .map_err(backend)?;
    Ok(n > 0)
}

pub(crate) fn update(c: &Connection, t: &Tenant, id: i64, node: &str, u: SmsUpdate) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE sms SET state = ?3, attempts = ?4, provider_id = ?5, reason = ?6, next_attempt_at = ?7, \
             updated_at = ?8, claimed_by = NULL, claim_until = 0 WHERE org_id = ?1 AND id = ?2 AND claimed_by = ?9",
            params![
                t.id(),
                id,
                u.state.as_str(),
                u.attempts,
                u.provider_id,
                u.reason,
                u.next_attempt_at,
                now_ms(),
                node
            ],
        )
        .map_err(backend)?;
    if n == 0 {
        let exists = c
            .prepare_cached("SELECT 1 FROM sms WHERE org_id = ?1 AND id = ?2")
            .and_then(|mut s| s.exists(params![t.id(), id]))
            .map_err(backend)?;
        return Err(not_claimed(id, node, exists));
    }
    record_event(
        c,
        t,
        id,
        u.state,
        u.attempts,
        u.provider_id.as_deref(),
        u.reason.as_deref(),
        now_ms(),
    )
}

#[allow(clippy::too_many_arguments)] // one column each
fn record_event(
    c: &Connection,
    t: &Tenant,
    sms_id: i64,
    state: SmsState,
    attempt: i64,
    provider_id: Option<&str>,
    detail: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO sms_events (org_id, sms_id, state, attempt, provider_id, detail, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.id(),
            sms_id,
            state.as_str(),
            attempt,
            provider_id,
            detail,
            at
        ])
    })
    .map(|_| ())
    .map_err(backend)
}

pub(crate) fn get_with_history(
    c: &Connection,
    t: &Tenant,
    id: i64,
) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError> {
    let sql = format!("SELECT {COLS} FROM sms s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = ?1 AND s.id = ?2");
    let mut rows: Vec<(i64, SmsRecord)> = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_map(params![t.id(), id], row).and_then(Iterator::collect))
        .map_err(backend)?;
    let Some((_, sms)) = rows.pop() else { return Ok(None) };
    let mut s = c
        .prepare_cached(
            "SELECT state, attempt, provider_id, detail, at FROM sms_events WHERE org_id = ?1 AND sms_id = ?2 ORDER BY id",
        )
        .map_err(backend)?;
    let history = s
        .query_map(params![t.id(), id], |r| {
            let state: String = r.get(0)?;
            Ok(SmsEvent {
                state: SmsState::parse(&state),
                attempt: r.get(1)?,
                provider_id: r.get(2)?,
                detail: r.get(3)?,
                at: r.get(4)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(backend)?;
    Ok(Some((sms, history)))
}

pub(crate) fn record_delivery(
    c: &Connection,
    t: &Tenant,
    device_uuid: &str,
    target: &str,
    result: DeliveryResult,
    detail: Option<&str>,
) -> Result<DeliveryRecord, StoreError> {
    let at = now_ms();
    c.execute(
        "INSERT INTO deliveries (org_id, device_uuid, target, result, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![t.id(), device_uuid, target, result.as_str(), detail, at],
    )
    .map_err(backend)?;
    Ok(DeliveryRecord {
        id: c.last_insert_rowid(),
        device_uuid: device_uuid.into(),
        target: target.into(),
        result,
        detail: detail.map(str::to_owned),
        at,
    })
}

pub(crate) fn list_deliveries(
    c: &Connection,
    t: &Tenant,
    device_uuid: &str,
    limit: u32,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT id, device_uuid, target, result, detail, at FROM deliveries \
             WHERE org_id = ?1 AND device_uuid = ?2 ORDER BY id DESC LIMIT ?3",
        )
        .map_err(backend)?;
    s.query_map(params![t.id(), device_uuid, limit], |r| {
        let result: String = r.get(3)?;
        Ok(DeliveryRecord {
            id: r.get(0)?,
            device_uuid: r.get(1)?,
            target: r.get(2)?,
            result: DeliveryResult::parse(&result),
            detail: r.get(4)?,
            at: r.get(5)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(backend)
}

#[async_trait::async_trait]
impl OutboxStore for SqliteStore {
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
            .write(move |c| enqueue(c, &t, d.as_deref(), &dest, &text))
            .await
    }
    async fn list_sms(&self, t: &Tenant, before_id: Option<i64>, limit: u32) -> Result<Vec<SmsRecord>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| list(c, &t, before_id, limit)).await
    }
    async fn claim_due_sms(
        &self,
        node: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Tenant, SmsRecord)>, StoreError> {
        let node = node.to_owned();
        self.pool
            .write(move |c| claim_due(c, &node, now_ms, lease_ms, limit))
            .await
    }
    async fn try_lease(&self, name: &str, node: &str, now_ms: i64, ttl_ms: i64) -> Result<bool, StoreError> {
        let (name, node) = (name.to_owned(), node.to_owned());
        self.pool
            .write(move |c| try_lease(c, &name, &node, now_ms, ttl_ms))
            .await
    }
    async fn update_sms(&self, t: &Tenant, id: i64, node: &str, change: SmsUpdate) -> Result<(), StoreError> {
        let t = t.clone();
        let node = node.to_owned();
        self.pool.write(move |c| update(c, &t, id, &node, change)).await
    }
    async fn sms(&self, t: &Tenant, id: i64) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError> {
        let t = t.clone();
        self.pool.read(move |c| get_with_history(c, &t, id)).await
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
            .write(move |c| record_delivery(c, &t, &d, &tg, result, det.as_deref()))
            .await
    }
    async fn list_deliveries(
        &self,
        t: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (t, d) = (t.clone(), device_uuid.to_owned());
        self.pool.read(move |c| list_deliveries(c, &t, &d, limit)).await
    }
}
