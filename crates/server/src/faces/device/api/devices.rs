//! `GET /api/1/devices` and `GET /api/1/devices/{id}`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use super::auth::ApiKeyTenant;
use super::ok;
use crate::app::AppState;
use crate::http::error::ApiError;

/// Lists the organization's devices (no secrets).
pub(crate) async fn list(State(s): State<AppState>, ApiKeyTenant(t): ApiKeyTenant) -> Result<Json<Value>, ApiError> {
    let devices = s.platform.list_devices(&t).await?;
    Ok(ok(super::to_json(devices)?))
}

/// One device (no secrets).
pub(crate) async fn get(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let device = s.platform.device(&t, &id).await?;
    let summary = thingstead_core::records::DeviceSummary::from(&device);
    Ok(ok(super::to_json(summary)?))
}
