//! Content and layouts (WIRE.md B.3): content items with their bytes,
//! delivery by path with a restricted token, and location layout images.
//!
//! Read side, as exp-sdk uses it:
//! - `GET /api/content?subtype=&parent=&name=&path=&limit=&skip=` →
//!   `{"results": [documents], "total": N}` (`parent=` empty: items at the root);
//! - `GET /api/content/{uuid}` → the document, 404 when unknown;
//! - `GET /api/delivery/{path}?_rt={restrictedToken}[&variant=NAME]` → the
//!   bytes (`Content-Type`, `Content-Length`), for any token of the item's
//!   organization, restricted ones included, given as `_rt` (or as a bearer
//!   token); `variant=` with an empty name serves the item's own bytes.
//!
//! Write side (users only):
//! - `POST /api/content` with JSON `{"name", "subtype", "parent", "url", ...}`
//!   creates a folder (the default subtype), a url item, or a file or app
//!   item whose bytes follow; other keys are kept as free-form fields;
//! - `POST /api/content/upload?name=NAME[&parent=UUID][&subtype=scala:content:app]`
//!   with the raw bytes as the body (its `Content-Type` is the file's)
//!   creates a file (or app) item with its bytes in one request;
//! - `PUT /api/content/{uuid}/data` with the raw bytes replaces a file's bytes;
//! - `PUT /api/content/{uuid}/variants/{name}` with the raw bytes adds or
//!   replaces a named variant;
//! - `DELETE /api/content/{uuid}` deletes an item, a folder with everything in it.
//!
//! Layouts: `PUT /api/locations/{uuid}/layout` (users; the raw image) and
//! `GET /api/locations/{uuid}/layout?_rt=...` (404 when there is none).
//!
//! Documents: `uuid`, `name`, `subtype`, `parent` (uuid or null), `path`,
//! `url` (null but for url items), `variants` (`[{name, size, mimeType}]`),
//! `size` and `mimeType` (once a file has bytes), `createdAt`, `updatedAt`,
//! and the free-form fields.
//!
//! Uploads stream their bodies to the store chunk by chunk, with the limits
//! of `[content]` (`max_file_bytes`, 413 beyond it; `upload_timeout_secs`,
//! 408 beyond it) instead of `http_limits`; a failed upload keeps nothing.

mod delivery;
mod document;
mod items;
mod layout;
mod upload;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{MethodRouter, delete, get, post, put};
use tower_http::timeout::TimeoutLayer;

use super::{ERRORS, NO_BODY, limited};
use crate::app::AppState;
use crate::settings::Settings;

/// Body limit of `POST /content` (a document).
const DOCUMENT_BODY: usize = 128 * 1024;

/// The routes of this module, with their own limits: merged into the face
/// after its common layers, so uploads escape `http_limits`.
pub(crate) fn routes(settings: &Settings) -> Router<AppState> {
    let api = Duration::from_secs(settings.http_limits.request_timeout_secs);
    let uploads = Duration::from_secs(settings.content.upload_timeout_secs);
    // Every route but the uploads keeps the API's limits.
    let small = |route: MethodRouter<AppState>, bytes: usize| {
        limited(route, bytes.min(settings.http_limits.max_body_bytes)).layer(timeout(api))
    };
    let upload = |route: MethodRouter<AppState>| route.layer(timeout(uploads));
    Router::new()
        .route(
            "/content",
            small(get(items::find), NO_BODY).merge(small(post(items::create), DOCUMENT_BODY)),
        )
        .route("/content/upload", upload(post(upload::create_file)))
        .route(
            "/content/{uuid}",
            small(get(items::get), NO_BODY).merge(small(delete(items::remove), NO_BODY)),
        )
        .route("/content/{uuid}/data", upload(put(upload::put_data)))
        .route("/content/{uuid}/variants/{name}", upload(put(upload::put_variant)))
        .route("/delivery/{*path}", small(get(delivery::deliver), NO_BODY))
        .route(
            "/locations/{uuid}/layout",
            small(get(layout::download), NO_BODY).merge(upload(put(layout::upload))),
        )
        .route_layer(middleware::from_fn_with_state(
            ERRORS,
            crate::http::observe::render_errors,
        ))
}

fn timeout(after: Duration) -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, after)
}
