//! `POST /api/1/devices/messages`: cloud-to-device pushes (WIRE.md C.5).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ApiKeyTenant;
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::json::ApiJson;
use crate::push::{PushError, PushPolicy, PushTarget, plan, push_all};

/// Body of the push.
#[derive(Debug, Deserialize)]
pub(crate) struct PushBody {
    deviceids: Vec<String>,
    #[serde(default)]
    protocol: Option<String>,
    port: u16,
    host: Option<String>,
    data: Option<String>,
    base64data: Option<String>,
}

/// Checks the whole request (every device in the caller's organization,
/// every target allowed by `push.*`) before connecting anywhere; then
/// connects to each device's listener, writes the data, closes; answers the
/// per-device result (delivered, refused, timeout), each also recorded.
pub(crate) async fn push(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    ApiJson(b): ApiJson<PushBody>,
) -> Result<Json<Value>, ApiError> {
    let bad = |m: &str| ApiError::new(ErrorCode::InvalidInput, m);
    if b.protocol.as_deref().is_some_and(|p| !p.eq_ignore_ascii_case("tcp")) {
        return Err(bad("only protocol \"TCP\" is supported"));
    }
    let max = s.settings.push.max_devices;
    if b.deviceids.is_empty() || b.deviceids.len() > max {
        return Err(bad(&format!("deviceids must list 1 to {max} devices")));
    }
    if b.port == 0 {
        return Err(bad("port must be 1 to 65535"));
    }
    let data = match (b.data, b.base64data) {
        (Some(d), None) => d.into_bytes(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| bad("base64data is not valid base64"))?,
        _ => return Err(bad("give exactly one of data or base64data")),
    };
    let policy = PushPolicy::new(&s.settings.push, vec![s.addrs.http, s.addrs.device_tcp])
        .map_err(|e| ApiError::new(ErrorCode::Internal, e))?;
    let target = PushTarget {
        host: b.host,
        port: b.port,
    };
    let planned = plan(&s.platform, &t, &b.deviceids, &target, &policy)
        .await
        .map_err(|e| match e {
            PushError::Core(e) => ApiError::from(e),
            PushError::Refused(e) => bad(&e.to_string()),
        })?;
    let records = push_all(
        &s.platform,
        &t,
        planned,
        &data,
        Duration::from_millis(s.settings.device.push_timeout_ms),
        Duration::from_millis(s.settings.push.deadline_ms),
    )
    .await?;
    let results = b
        .deviceids
        .iter()
        .zip(records)
        .map(|(id, rec)| json!({ "deviceid": id, "target": rec.target, "result": rec.result, "detail": rec.detail }))
        .collect();
    Ok(super::ok(Value::Array(results)))
}

/// `GET /api/1/devices/{id}/deliveries`: the device's recorded pushes, newest first (at most 100;
/// `continues` says whether older ones exist).
pub(crate) async fn deliveries(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.platform.device(&t, &id).await?;
    let page = s.platform.page_deliveries(&t, &id, 100).await?;
    Ok(Json(json!({
        "success": true,
        "continues": page.has_more,
        "data": super::to_json(page.items)?,
    })))
}
