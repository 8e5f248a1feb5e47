//! `GET /api/1/csr/rdm` (list, filter, page) and `GET /api/1/csr/rdm/{id}`.
//!
//! Records are shaped like Hologram's: the outer object carries `id`,
//! `record_id`, `deviceid`, `logged` (UTC, `YYYY-MM-DD HH:MM:SS.ffffff`),
//! `received_at` (ms) and `tags` (the topics); its `data` is a JSON
//! document *encoded as a string* holding `data` (the payload, base64, so
//! binary payloads survive), `tags`, `received`, `source` (peer address),
//! `device_id`, `sdk` and `modem`.
//!
//! Paging is by id, newest first: `limit` (1..=1000, default 100) and
//! `cursor` (or Hologram's `startafter`): the `lastid` of the previous
//! page. Ids only grow, so pages stay stable while messages arrive.

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use thingstead_core::records::{MessageQuery, MessageRecord};

use super::auth::ApiKeyTenant;
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// Query parameters of the list.
#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    deviceid: Option<String>,
    topicname: Option<String>,
    timestart: Option<String>,
    timeend: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    startafter: Option<String>,
}

fn bad(msg: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidInput, msg)
}

fn int(v: &Option<String>, name: &str) -> Result<Option<i64>, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|_| bad(&format!("{name} must be an integer"))))
        .transpose()
}

/// Hologram's times are epoch seconds; values above 10^11 are taken as ms.
fn epoch_ms(v: Option<i64>) -> Option<i64> {
    v.map(|t| if t.abs() < 100_000_000_000 { t * 1000 } else { t })
}

fn logged(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

/// A stored message as a Hologram-style record.
pub(crate) fn record(m: &MessageRecord) -> Value {
    let inner = json!({
        "data": base64::engine::general_purpose::STANDARD.encode(&m.payload),
        "tags": m.topics,
        "received": logged(m.received_at),
        "source": m.peer,
        "device_id": m.device_uuid,
        "sdk": m.sdk,
        "modem": m.modem,
        "idempotency_key": m.idempotency_key,
    });
    json!({
        "id": m.id,
        "record_id": m.id.to_string(),
        "deviceid": m.device_uuid,
        "logged": logged(m.received_at),
        "received_at": m.received_at,
        "tags": m.topics,
        "data": inner.to_string(),
    })
}

/// Lists messages, newest first.
pub(crate) async fn list(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = int(&p.limit, "limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(bad("limit must be between 1 and 1000"));
    }
    let cursor = int(&p.cursor, "cursor")?.or(int(&p.startafter, "startafter")?);
    let query = MessageQuery {
        device_uuid: p.deviceid.filter(|s| !s.is_empty()),
        topic: p.topicname.filter(|s| !s.is_empty()),
        time_start: epoch_ms(int(&p.timestart, "timestart")?),
        time_end: epoch_ms(int(&p.timeend, "timeend")?),
        before_id: cursor,
        limit: limit as u32,
    };
    // The core answers "is there more", at every limit up to the maximum.
    let page = s.platform.page_messages(&t, &query).await?;
    let (rows, continues) = (page.items, page.has_more);
    let lastid = rows.last().map(|m| m.id);
    Ok(Json(json!({
        "success": true,
        "limit": limit,
        "size": rows.len(),
        "continues": continues,
        "lastid": lastid,
        "data": rows.iter().map(record).collect::<Vec<_>>(),
    })))
}

/// One message by id.
pub(crate) async fn get(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound, format!("message {id} not found")))?;
    let m = s.platform.message(&t, id).await?;
    Ok(super::ok(record(&m)))
}
