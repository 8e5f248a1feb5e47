//! Uploads: a request body streamed to the blob store chunk by chunk.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;
use thingstead_core::content::Subtype;
use thingstead_core::store::StoreError;
use thingstead_core::{ContentDraft, Upload};

use super::document::document;
use crate::app::AppState;
use crate::faces::app::principal::Authenticated;
use crate::http::error::{ApiError, ErrorCode};

/// The media type of bytes whose client named none.
const DEFAULT_MIME: &str = "application/octet-stream";

/// The body of a request as an upload, within `content.max_file_bytes`:
/// refused at once when its `Content-Length` says it is larger.
pub(crate) fn upload_of(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Upload, ApiError> {
    let max_bytes = state.settings.content.max_file_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("an upload is at most {max_bytes} bytes (content.max_file_bytes)"),
        ));
    }
    let mime_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_MIME.to_owned());
    let chunks = body
        .into_data_stream()
        .map_err(|e| StoreError::Interrupted(e.to_string()))
        .boxed();
    Ok(Upload {
        mime_type,
        max_bytes,
        chunks,
    })
}

/// Where a new file goes.
#[derive(Deserialize)]
pub(super) struct NewFile {
    name: String,
    parent: Option<String>,
    subtype: Option<String>,
}

/// `POST /content/upload?name=&parent=&subtype=` with the bytes → the
/// created file's document.
pub(super) async fn create_file(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Query(at): Query<NewFile>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let subtype = match at.subtype.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Subtype::parse(s)?,
        None => Subtype::File,
    };
    let draft = ContentDraft {
        name: at.name,
        subtype,
        parent: at.parent.filter(|p| !p.is_empty()),
        url: None,
        fields: Default::default(),
    };
    let upload = upload_of(&state, &headers, body)?;
    Ok(Json(document(&state.platform.upload_content(&who, draft, upload).await?)))
}

/// `PUT /content/{uuid}/data` with the bytes → the document.
pub(super) async fn put_data(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let upload = upload_of(&state, &headers, body)?;
    let record = state.platform.put_content_data(&who, &uuid, None, upload).await?;
    Ok(Json(document(&record)))
}

/// `PUT /content/{uuid}/variants/{name}` with the bytes → the document.
pub(super) async fn put_variant(
    State(state): State<AppState>,
    Authenticated(who): Authenticated,
    Path((uuid, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let upload = upload_of(&state, &headers, body)?;
    let record = state.platform.put_content_data(&who, &uuid, Some(&name), upload).await?;
    Ok(Json(document(&record)))
}
