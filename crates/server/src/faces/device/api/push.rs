//! `POST /api/1/devices/messages`: cloud-to-device pushes (WIRE.md C.5).

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ApiKeyTenant;
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::json::ApiJson;
use crate::push::{PushTarget, push_to_device};

/// Most devices one request may address.
const MAX_DEVICES: usize = 100;

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

/// Connects to each device's listener, writes the data, closes; answers the
/// per-device result (delivered, refused, timeout), each also recorded.
pub(crate) async fn push(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    ApiJson(b): ApiJson<PushBody>,
) -> Result<Json<Value>, ApiError> {
    let bad = |m: &str| ApiError::new(ErrorCode::InvalidInput, m).hologram();
    if b.protocol.as_deref().is_some_and(|p| !p.eq_ignore_ascii_case("tcp")) {
        return Err(bad("only protocol \"TCP\" is supported"));
    }
    if b.deviceids.is_empty() || b.deviceids.len() > MAX_DEVICES {
        return Err(bad("deviceids must list 1 to 100 devices"));
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
    let timeout = std::time::Duration::from_millis(s.settings.device.push_timeout_ms);
    let mut results = Vec::with_capacity(b.deviceids.len());
    for id in &b.deviceids {
        let device = s
            .platform
            .device(&t, id)
            .await
            .map_err(|e| ApiError::from(e).hologram())?;
        let target = PushTarget {
            host: b.host.clone(),
            port: b.port,
        };
        let rec = push_to_device(&s.platform, &t, &device, &target, &data, timeout)
            .await
            .map_err(|e| ApiError::from(e).hologram())?;
        results.push(json!({ "deviceid": id, "target": rec.target, "result": rec.result, "detail": rec.detail }));
    }
    Ok(super::ok(Value::Array(results)))
}

/// `GET /api/1/devices/{id}/deliveries`: the device's recorded pushes, newest first (at most 100).
pub(crate) async fn deliveries(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.platform
        .device(&t, &id)
        .await
        .map_err(|e| ApiError::from(e).hologram())?;
    let rows = s
        .platform
        .list_deliveries(&t, &id, 100)
        .await
        .map_err(|e| ApiError::from(e).hologram())?;
    Ok(super::ok(super::to_json(rows)?))
}
