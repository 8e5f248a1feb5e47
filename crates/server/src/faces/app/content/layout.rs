//! `PUT` and `GET /locations/{uuid}/layout`: a location's layout image.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::{Value, json};

use super::delivery::{DeliveryParams, caller, stream};
use super::upload::upload_of;
use crate::app::AppState;
use crate::faces::app::principal::Authenticated;
use crate::http::error::ApiError;

/// `PUT /locations/{uuid}/layout` with the image → `{"size", "mimeType"}`.
pub(super) async fn upload(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Path(location): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let upload = upload_of(&state, &headers, body)?;
    let data = state.platform.put_layout(&who, &location, upload).await?;
    Ok(Json(json!({ "size": data.size, "mimeType": data.mime_type })))
}

/// `GET /locations/{uuid}/layout?_rt=TOKEN` → the image; 404 when none.
pub(super) async fn download(
    State(state): State<AppState>,
    Path(location): Path<String>,
    Query(p): Query<DeliveryParams>,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    let who = caller(&state, &mut parts, p.rt.as_deref()).await?;
    Ok(stream(state.platform.layout(&who, &location).await?))
}
