//! `POST /devices/{uuid}/pair` with `{"pairingId": "<id>"}`: a user pairs
//! the device waiting with that pairing session (the `identity.uuid` of its
//! auth payload) to device `{uuid}` of the user's organization. The waiting
//! device becomes that device at its next token refresh (within a minute).
//! 200 + `{"uuid", "pairingId"}`; 404 for an unknown device; 403 for
//! callers other than users; 409 when the id is already paired.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::principal::Authenticated;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;

/// The body of a pairing request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PairBody {
    /// The pairing session's id.
    pairing_id: String,
}

/// `POST /devices/{uuid}/pair`.
pub(crate) async fn pair(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(uuid): Path<String>,
    ApiJson(body): ApiJson<PairBody>,
) -> Result<Json<Value>, ApiError> {
    state
        .platform
        .pair_device_as(&principal, &body.pairing_id, &uuid)
        .await?;
    Ok(Json(json!({ "uuid": uuid, "pairingId": body.pairing_id })))
}
