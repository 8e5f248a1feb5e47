//! `GET /delivery/{path}?_rt=...`: the bytes of a content item by path.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;
use thingstead_core::{Download, ErrorKind, Principal};

use crate::app::AppState;
use crate::faces::app::principal::{Bearer, refused};
use crate::http::error::{ApiError, ErrorCode};

/// The query of a delivery or layout URL.
#[derive(Deserialize)]
pub(super) struct DeliveryParams {
    /// The (restricted) token.
    #[serde(rename = "_rt")]
    pub(super) rt: Option<String>,
    /// A variant's name (empty: the item's own bytes).
    variant: Option<String>,
}

/// The caller of a delivery URL: the token in `_rt`, else a bearer token;
/// restricted tokens are fine here.
pub(super) async fn caller(state: &AppState, parts: &mut Parts, rt: Option<&str>) -> Result<Principal, ApiError> {
    let token = match rt.filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None => Bearer::from_request_parts(parts, state).await?.0,
    };
    state.platform.authenticate(&token).await.map_err(|e| {
        if e.kind() == ErrorKind::Unauthorized {
            refused(parts.uri.path(), "invalid delivery token");
        }
        ApiError::from(e)
    })
}

/// Streams a download with its type and length.
pub(super) fn stream(download: Download) -> Response {
    let Download { mime_type, reader } = download;
    let body = Body::from_stream(reader.chunks.map_err(std::io::Error::other));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from(reader.size));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&mime_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    response
}

/// `GET /delivery/{path}?_rt=TOKEN[&variant=NAME]` → the bytes; 401
/// without a valid token, 404 for a path the token's organization lacks.
pub(super) async fn deliver(
    State(state): State<AppState>,
    Path(path): Path<String>,
    Query(p): Query<DeliveryParams>,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    let who = caller(&state, &mut parts, p.rt.as_deref()).await?;
    let path = format!("/{}", path.trim_start_matches('/'));
    let download = state
        .platform
        .deliver_content(&who, &path, p.variant.as_deref())
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => ApiError::new(
                ErrorCode::NotFound,
                match p.variant.as_deref() {
                    Some(v) => format!("no content at {path} with a variant named {v:?}"),
                    None => format!("no content at {path}"),
                },
            ),
            _ => ApiError::from(e),
        })?;
    Ok(stream(download))
}
