//! `GET /content`, `POST /content`, `GET /content/{uuid}`, `DELETE /content/{uuid}`.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use thingstead_core::ContentDraft;
use thingstead_core::content::{ContentQuery, Subtype};

use super::document::{RESERVED, document};
use crate::app::AppState;
use crate::faces::app::principal::Authenticated;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::json::ApiJson;

/// The filters of a find; other query parameters are ignored.
#[derive(Deserialize)]
pub(super) struct FindParams {
    subtype: Option<String>,
    parent: Option<String>,
    name: Option<String>,
    path: Option<String>,
    limit: Option<String>,
    skip: Option<String>,
}

fn number(value: Option<&str>, what: &str) -> Result<u32, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidInput,
                format!("{what} must be a non-negative integer"),
            )
        }),
    }
}

/// `GET /content?{params}` → `{"results", "total"}`.
pub(super) async fn find(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Query(p): Query<FindParams>,
) -> Result<Json<Value>, ApiError> {
    let query = ContentQuery {
        subtype: p.subtype.as_deref().map(Subtype::parse).transpose()?,
        parent: p.parent.map(|v| (!v.is_empty()).then_some(v)),
        name: p.name,
        path: p.path,
        limit: number(p.limit.as_deref(), "limit")?,
        skip: number(p.skip.as_deref(), "skip")?,
    };
    let page = state.platform.find_content(&who, query).await?;
    let results: Vec<Value> = page.results.iter().map(document).collect();
    Ok(Json(json!({ "results": results, "total": page.total })))
}

/// `GET /content/{uuid}` → the document, or 404.
pub(super) async fn get(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(document(&state.platform.content(&who, &uuid).await?)))
}

/// `DELETE /content/{uuid}` → `{}`; a folder goes with everything in it.
pub(super) async fn remove(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.platform.delete_content(&who, &uuid).await?;
    Ok(Json(json!({})))
}

fn text(doc: &mut serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match doc.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("{key} must be a string"),
        )),
    }
}

/// `POST /content` with a document → the created document. `subtype`
/// defaults to a url item when there is a `url`, else a folder; unknown keys are kept as free-form fields (`null`
/// ones are dropped), the platform's own keys are ignored.
pub(super) async fn create(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let Value::Object(mut doc) = body else {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "a content document is a JSON object",
        ));
    };
    let name = text(&mut doc, "name")?.ok_or_else(|| ApiError::new(ErrorCode::InvalidInput, "name is required"))?;
    let given = text(&mut doc, "subtype")?;
    let parent = text(&mut doc, "parent")?.filter(|p| !p.is_empty());
    let url = text(&mut doc, "url")?;
    let subtype = match given {
        Some(s) => Subtype::parse(&s)?,
        // A document with a url is a url item.
        None if url.is_some() => Subtype::Url,
        None => Subtype::Folder,
    };
    doc.retain(|k, v| !v.is_null() && !RESERVED.contains(&k.as_str()));
    let draft = ContentDraft {
        name,
        subtype,
        parent,
        url,
        fields: doc,
    };
    Ok(Json(document(&state.platform.create_content(&who, draft).await?)))
}
