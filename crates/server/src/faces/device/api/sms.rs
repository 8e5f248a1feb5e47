//! `POST /api/1/sms` (queue) and `GET /api/1/sms` (the outbox).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use thingstead_proto::device::E164;

use super::auth::ApiKeyTenant;
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::json::ApiJson;

/// Body of `POST /api/1/sms`.
#[derive(Debug, Deserialize)]
pub(crate) struct SendBody {
    /// E.164 destination.
    destination: String,
    /// The text (`text` is accepted too).
    #[serde(alias = "text")]
    body: String,
    /// The device on whose behalf it is sent, if any.
    deviceid: Option<String>,
}

/// Queues an SMS; 201 with the outbox record once it is committed.
pub(crate) async fn send(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    ApiJson(b): ApiJson<SendBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let dest = E164::parse(&b.destination).map_err(|e| ApiError::new(ErrorCode::InvalidInput, e.to_string()))?;
    if let Some(d) = &b.deviceid {
        s.platform.device(&t, d).await?;
    }
    let sms = s.platform.queue_sms(&t, b.deviceid.as_deref(), &dest, &b.body).await?;
    Ok((StatusCode::CREATED, super::ok(super::to_json(sms)?)))
}

/// Query of `GET /api/1/sms`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    limit: Option<u32>,
    cursor: Option<i64>,
}

/// Lists the outbox, newest first, with each SMS's state; `continues`
/// says whether older SMS follow (page on with `cursor=lastid`).
pub(crate) async fn list(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let page = s.platform.page_sms(&t, p.cursor, limit).await?;
    let rows = page.items;
    let lastid = rows.last().map(|r| r.id);
    Ok(Json(json!({
        "success": true,
        "limit": limit,
        "size": rows.len(),
        "continues": page.has_more,
        "lastid": lastid,
        "data": rows,
    })))
}

/// One SMS with its history: every state change, oldest first.
pub(crate) async fn get(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, format!("sms {id} not found"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let (sms, history) = s.platform.sms(&t, id).await?;
    let mut body = super::to_json(sms)?;
    body["history"] = super::to_json(history)?;
    Ok(super::ok(body))
}
