//! Data items: `PUT|GET|DELETE /data/{group}/{key}` → `{"group", "key",
//! "value"}`, and `GET /data?group=..&key=..&limit=..&skip=..` →
//! `{"results", "total"}`. Group and key arrive percent-encoded (any
//! character, `/` as `%2F`) and are decoded; each is 1 to 256 bytes. The
//! value must be a JSON object of at most 16 MiB serialized.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::Json;
use serde_json::{Value, json};
use thingstead_core::documents::{DataQuery, MAX_DATA_VALUE_BYTES};

use super::documents::{Params, json_body, page, params};
use crate::app::AppState;
use crate::faces::app::principal::Authenticated;
use crate::http::error::{ApiError, ErrorCode};

/// Body limit of `PUT /data/{group}/{key}`: a 16 MiB value and room for
/// the JSON's whitespace (the EXP SDK sends `json.dumps` with spaces).
pub const DATA_BODY: usize = MAX_DATA_VALUE_BYTES + 1024 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/data", get(find))
        .route("/data/{group}/{key}", get(read).put(put).delete(delete))
}

async fn find(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let query = DataQuery::from_params(&params(q)?)?;
    let found = state.platform.find_data(&p, &query).await?;
    Ok(page(found.results, found.total))
}

async fn put(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path((group, key)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let value = json_body(&body)?.ok_or_else(|| ApiError::new(ErrorCode::InvalidInput, "a value is required"))?;
    Ok(Json(state.platform.put_data(&p, &group, &key, &value).await?))
}

async fn read(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path((group, key)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.platform.data_item(&p, &group, &key).await?))
}

async fn delete(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path((group, key)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    state.platform.delete_data(&p, &group, &key).await?;
    Ok(Json(json!({})))
}
