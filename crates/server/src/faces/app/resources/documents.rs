//! The handlers every document collection shares: create `POST {base}`
//! (no body: an empty document), find `GET {base}?{filters}`, get
//! `GET {base}/{uuid}`, save `PATCH {base}/{uuid}` with the whole document,
//! delete `DELETE {base}/{uuid}`. Who may do what is the core's rule.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use thingstead_core::documents::{Collection, DocumentQuery};

use crate::app::AppState;
use crate::faces::app::principal::Authenticated;
use crate::http::error::{ApiError, ErrorCode};

/// The five routes of a collection at `base`.
pub(super) fn collection(base: &str, c: Collection) -> Router<AppState> {
    Router::new()
        .route(
            base,
            get(move |s, a, q| find(s, a, q, c)).post(move |s, a, b| create(s, a, b, c)),
        )
        .route(
            &format!("{base}/{{uuid}}"),
            get(move |s, a, u| read(s, a, u, c))
                .patch(move |s, a, u, b| save(s, a, u, b, c))
                .delete(move |s, a, u| delete(s, a, u, c)),
        )
}

/// Query parameters in order, as `(name, value)`; a malformed query string is a 400.
pub(super) type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(super) fn params(q: Params) -> Result<Vec<(String, String)>, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::new(ErrorCode::InvalidInput, e.body_text()))
}

/// A JSON body; `None` when there is none at all.
pub(super) fn json_body(body: &Bytes) -> Result<Option<Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("the body is not JSON: {e}")))
}

/// `{"results": [...], "total": N}`.
pub(super) fn page(results: Vec<Value>, total: u64) -> Json<Value> {
    Json(json!({ "results": results, "total": total }))
}

async fn find(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    q: Params,
    c: Collection,
) -> Result<Json<Value>, ApiError> {
    let query = DocumentQuery::from_params(&params(q)?)?;
    let found = state.platform.find_documents(&p, c, &query).await?;
    Ok(page(found.results, found.total))
}

async fn create(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    body: Bytes,
    c: Collection,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let doc = json_body(&body)?;
    let created = state.platform.create_document(&p, c, doc).await?;
    Ok((StatusCode::OK, Json(created)))
}

async fn read(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(uuid): Path<String>,
    c: Collection,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.platform.document(&p, c, &uuid).await?))
}

async fn save(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(uuid): Path<String>,
    body: Bytes,
    c: Collection,
) -> Result<Json<Value>, ApiError> {
    let doc = json_body(&body)?.ok_or_else(|| ApiError::new(ErrorCode::InvalidInput, "a document is required"))?;
    Ok(Json(state.platform.save_document(&p, c, &uuid, doc).await?))
}

async fn delete(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(uuid): Path<String>,
    c: Collection,
) -> Result<Json<Value>, ApiError> {
    state.platform.delete_document(&p, c, &uuid).await?;
    Ok(Json(json!({})))
}
