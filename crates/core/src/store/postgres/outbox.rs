//! SMS outbox and cloud-to-device delivery SQL. A state change and its
//! history row are one transaction.

use super::PgStore;
use crate::store::OutboxStore;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::errors::backend;
use super::pool::{execute, query};
use super::registry::tenant_from;
use crate::ids::Tenant;
use crate::now_ms;
use crate::records::{DeliveryRecord, DeliveryResult, SmsEvent, SmsRecord, SmsState, SmsUpdate};
use crate::store::StoreError;
use crate::store::outbox_claims::not_claimed;

const COLS: &str = "s.id, s.device_uuid, s.destination, s.text, s.state, s.attempts, s.provider_id, s.reason, \
     s.created_at, s.updated_at, s.next_attempt_at, o.id, o.name";

fn row(r: &Row) -> (i64, SmsRecord) {
    let state: &str = r.get(4);
    (
        r.get(11),
        SmsRecord {
            id: r.get(0),
            org: r.get(12),
            device_uuid: r.get(1),
            destination: r.get(2),
            text: r.get(3),
            state: SmsState::parse(state),
            attempts: r.get(5),
            provider_id: r.get(6),
            reason: r.get(7),
            created_at: r.get(8),
            updated_at: r.get(9),
            next_attempt_at: r.get(10),
        },
    )
}

/// Queues an SMS and its first history row (call inside a transaction).
pub(crate) async fn enqueue<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    device_uuid: Option<&str>,
    destination: &str,
    text: &str,
) -> Result<SmsRecord, StoreError> {
    let now = now_ms();
    let id: i64 = query(
        c,
        "INSERT INTO sms (org_id, device_uuid, destination, text, state, attempts, created_at, updated_at, \
         next_attempt_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5, $5) RETURNING id",
        &[&t.id(), &device_uuid, &destination, &text, &now],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| r.get(0))
    .ok_or_else(|| StoreError::Backend("INSERT returned no id".into()))?;
    record_event(c, t, id, SmsState::Queued, 0, None, None, now).await?;
    Ok(SmsRecord::queued(id, t, device_uuid, destination, text, now))
}

pub(crate) async fn list<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<SmsRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLS} FROM sms s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = $1 AND s.id < $2 \
         ORDER BY s.id DESC LIMIT $3"
    );
    Ok(
        query(c, &sql, &[&t.id(), &before_id.unwrap_or(i64::MAX), &i64::from(limit)])
            .await
            .map_err(backend)?
            .iter()
            .map(|r| row(r).1)
            .collect(),
    )
}

/// Claims due SMS for `node`: one statement, rows another node holds
/// (locked now, or claimed with a running lease) skipped.
pub(crate) async fn claim_due<C: GenericClient + Sync>(
    c: &C,
    node: &str,
    now: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<(Tenant, SmsRecord)>, StoreError> {
    let sql = format!(
        "WITH c AS (SELECT id FROM sms WHERE state = 'queued' AND next_attempt_at <= $1 \
         AND (claim_until <= $1 OR claimed_by = $2) ORDER BY next_attempt_at, id LIMIT $3 \
         FOR UPDATE SKIP LOCKED) \
         UPDATE sms s SET claimed_by = $2, claim_until = $4 FROM c, orgs o \
         WHERE s.id = c.id AND o.id = s.org_id RETURNING {COLS}"
    );
    let until = now.saturating_add(lease_ms);
    let mut claimed = query(c, &sql, &[&now, &node, &i64::from(limit), &until])
        .await
        .map_err(backend)?
        .iter()
        .map(|r| {
            let (id, sms) = row(r);
            Ok((tenant_from(id, &sms.org)?, sms))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    claimed.sort_by_key(|(_, s)| (s.next_attempt_at, s.id));
    Ok(claimed)
}

/// Takes or renews the lease `name` for `node`; `true` when it holds it.
pub(crate) async fn try_lease<C: GenericClient + Sync>(
    c: &C,
    name: &str,
    node: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    let until = now.saturating_add(ttl_ms);
    let rows = query(
        c,
        "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until \
         WHERE leases.until <= $4 OR leases.holder = EXCLUDED.holder RETURNING name",
        &[&name, &node, &until, &now],
    )
    .await
    .map_err(backend)?;
    Ok(!rows.is_empty())
}

/// Records a state change and its history row (call inside a transaction).
pub(crate) async fn update<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    id: i64,
    node: &str,
    u: SmsUpdate,
) -> Result<(), StoreError> {
    let now = now_ms();
    let n = execute(
        c,
        "UPDATE sms SET state = $3, attempts = $4, provider_id = $5, reason = $6, next_attempt_at = $7, \
         updated_at = $8, claimed_by = NULL, claim_until = 0 WHERE org_id = $1 AND id = $2 AND claimed_by = $9",
        &[
            &t.id(),
            &id,
            &u.state.as_str(),
            &u.attempts,
            &u.provider_id,
            &u.reason,
            &u.next_attempt_at,
            &now,
            &node,
        ],
    )
    .await
    .map_err(backend)?;
    if n == 0 {
        let exists = !query(c, "SELECT 1 FROM sms WHERE org_id = $1 AND id = $2", &[&t.id(), &id])
            .await
            .map_err(backend)?
            .is_empty();
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
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)] // one column each
async fn record_event<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    sms_id: i64,
    state: SmsState,
    attempt: i64,
    provider_id: Option<&str>,
    detail: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    execute(
        c,
        "INSERT INTO sms_events (org_id, sms_id, state, attempt, provider_id, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&t.id(), &sms_id, &state.as_str(), &attempt, &provider_id, &detail, &at],
    )
    .await
    .map(|_| ())
    .map_err(backend)
}

pub(crate) async fn get_with_history<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    id: i64,
) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError> {
    let sql = format!("SELECT {COLS} FROM sms s JOIN orgs o ON o.id = s.org_id WHERE s.org_id = $1 AND s.id = $2");
    let Some(sms) = query(c, &sql, &[&t.id(), &id])
        .await
        .map_err(backend)?
        .first()
        .map(|r| row(r).1)
    else {
        return Ok(None);
    };
    let history = query(
        c,
        "SELECT state, attempt, provider_id, detail, at FROM sms_events WHERE org_id = $1 AND sms_id = $2 ORDER BY id",
        &[&t.id(), &id],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| SmsEvent {
        state: SmsState::parse(r.get(0)),
        attempt: r.get(1),
        provider_id: r.get(2),
        detail: r.get(3),
        at: r.get(4),
    })
    .collect();
    Ok(Some((sms, history)))
}

pub(crate) async fn record_delivery<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    device_uuid: &str,
    target: &str,
    result: DeliveryResult,
    detail: Option<&str>,
) -> Result<DeliveryRecord, StoreError> {
    let at = now_ms();
    let id: i64 = query(
        c,
        "INSERT INTO deliveries (org_id, device_uuid, target, result, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &[&t.id(), &device_uuid, &target, &result.as_str(), &detail, &at],
    )
    .await
    .map_err(backend)?
    .first()
    .map(|r| r.get(0))
    .ok_or_else(|| StoreError::Backend("INSERT returned no id".into()))?;
    Ok(DeliveryRecord {
        id,
        device_uuid: device_uuid.into(),
        target: target.into(),
        result,
        detail: detail.map(str::to_owned),
        at,
    })
}

pub(crate) async fn list_deliveries<C: GenericClient + Sync>(
    c: &C,
    t: &Tenant,
    device_uuid: &str,
    limit: u32,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    Ok(query(
        c,
        "SELECT id, device_uuid, target, result, detail, at FROM deliveries \
         WHERE org_id = $1 AND device_uuid = $2 ORDER BY id DESC LIMIT $3",
        &[&t.id(), &device_uuid, &i64::from(limit)],
    )
    .await
    .map_err(backend)?
    .iter()
    .map(|r| DeliveryRecord {
        id: r.get(0),
        device_uuid: r.get(1),
        target: r.get(2),
        result: DeliveryResult::parse(r.get(3)),
        detail: r.get(4),
        at: r.get(5),
    })
    .collect())
}

#[async_trait::async_trait]
impl OutboxStore for PgStore {
    async fn enqueue_sms(
        &self,
        t: &Tenant,
        device_uuid: Option<&str>,
        destination: &str,
        text: &str,
    ) -> Result<SmsRecord, StoreError> {
        transaction!(self, |tx| super::outbox::enqueue(
            &tx,
            t,
            device_uuid,
            destination,
            text
        ))
    }
    async fn list_sms(&self, t: &Tenant, before_id: Option<i64>, limit: u32) -> Result<Vec<SmsRecord>, StoreError> {
        read!(self, |c| super::outbox::list(c, t, before_id, limit))
    }
    async fn claim_due_sms(
        &self,
        node: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Tenant, SmsRecord)>, StoreError> {
        write!(self, |c| super::outbox::claim_due(c, node, now_ms, lease_ms, limit))
    }
    async fn try_lease(&self, name: &str, node: &str, now_ms: i64, ttl_ms: i64) -> Result<bool, StoreError> {
        write!(self, |c| super::outbox::try_lease(c, name, node, now_ms, ttl_ms))
    }
    async fn update_sms(&self, t: &Tenant, id: i64, node: &str, update: SmsUpdate) -> Result<(), StoreError> {
        transaction!(self, |tx| super::outbox::update(&tx, t, id, node, update))
    }
    async fn sms(&self, t: &Tenant, id: i64) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError> {
        read!(self, |c| super::outbox::get_with_history(c, t, id))
    }

    async fn record_delivery(
        &self,
        t: &Tenant,
        device_uuid: &str,
        target: &str,
        result: DeliveryResult,
        detail: Option<&str>,
    ) -> Result<DeliveryRecord, StoreError> {
        write!(self, |c| super::outbox::record_delivery(
            c,
            t,
            device_uuid,
            target,
            result,
            detail
        ))
    }
    async fn list_deliveries(
        &self,
        t: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        read!(self, |c| super::outbox::list_deliveries(c, t, device_uuid, limit))
    }
}
