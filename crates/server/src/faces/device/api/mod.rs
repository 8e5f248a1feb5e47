//! The Hologram-style REST API of the device face, under `/api/1`.
//! Authenticated by `?apikey=KEY` or HTTP Basic `apikey:KEY`; bodies are
//! `{"success": true, "data": ...}`; errors add `"success": false`.

mod auth;
mod devices;
mod messages;
mod push;
mod sms;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

/// The `/api/1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/devices", get(devices::list))
        .route("/devices/{id}", get(devices::get))
        .route("/devices/messages", post(push::push))
        .route("/devices/{id}/deliveries", get(push::deliveries))
        .route("/csr/rdm", get(messages::list))
        .route("/csr/rdm/{id}", get(messages::get))
        .route("/sms", get(sms::list).post(sms::send))
        .route("/sms/{id}", get(sms::get))
}

/// `value` as JSON; a value that does not serialize is the server's fault
/// (500, logged), never a `null` sent as if it were the answer.
pub(crate) fn to_json<T: serde::Serialize>(value: T) -> Result<serde_json::Value, crate::http::error::ApiError> {
    serde_json::to_value(value).map_err(|e| {
        crate::http::error::ApiError::from(thingstead_core::CoreError::Internal(format!(
            "serializing a response: {e}"
        )))
        .hologram()
    })
}

/// `{"success": true, "data": data}`.
pub(crate) fn ok(data: serde_json::Value) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "success": true, "data": data }))
}
