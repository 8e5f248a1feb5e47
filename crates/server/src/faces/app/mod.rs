//! The EXP-style application API (WIRE.md B), under `/api` beside the
//! device face's `/api/1`. Authenticated by `Authorization: Bearer TOKEN`
//! ([`principal::Authenticated`]); errors are JSON objects
//! `{"code", "message", "status"}` ([`ERRORS`]), which the EXP SDK reads
//! as `body["code"]` and `body["message"]`.

mod auth;
mod broadcasts;
mod content;
mod pairing;
pub mod principal;
pub mod resources;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};

use crate::app::AppState;
use crate::http::error::{ErrorCode, ErrorRenderer};
use crate::settings::Settings;

/// Where the routes are nested. The device face's `/api/1` is nested
/// beside it and wins for its own paths; every other `/api/...` path is
/// this face's.
pub const PREFIX: &str = "/api";

/// Body limit of routes that take no body.
const NO_BODY: usize = 1024;
/// Body limit of `POST /devices/{uuid}/pair`: one pairing id.
const PAIR_BODY: usize = 1024;
/// Body limit of `POST /auth/login`: a username, a password and an
/// organization name, or one login JWT.
const LOGIN_BODY: usize = 8 * 1024;

/// The `/api` routes; every error made under them has this API's shape.
pub fn routes(settings: &Settings) -> Router<AppState> {
    let routes = Router::new()
        .route("/auth/login", limited(post(auth::login), LOGIN_BODY))
        .route("/auth/token", limited(post(auth::refresh), NO_BODY))
        .route("/devices/{uuid}/pair", limited(post(pairing::pair), PAIR_BODY))
        .route(
            "/networks/current/broadcasts",
            limited(post(broadcasts::broadcast), broadcast_body(settings)),
        )
        .route(
            "/networks/current/responses",
            limited(post(broadcasts::respond), broadcast_body(settings)),
        )
        .merge(resources::routes());
    // Every route above keeps `http_limits.max_body_bytes`; data items
    // alone take up to a 16 MiB value.
    let routes = body_limit(routes, settings.http_limits.max_body_bytes)
        .merge(body_limit(resources::data_routes(), resources::DATA_BODY));
    let mut limits = settings.http_limits.clone();
    limits.max_body_bytes = limits.max_body_bytes.max(resources::DATA_BODY);
    crate::http::face(routes, &limits, ERRORS)
        // With limits of their own (streamed uploads), after the face's.
        .merge(content::routes(settings))
}

/// The routes of `router` with a body limit of `bytes`.
fn body_limit(router: Router<AppState>, bytes: usize) -> Router<AppState> {
    router.layer(crate::http::body_limits(bytes))
}

/// Body limit of a broadcast or a response: the payload limit, plus room
/// for the channel id, the name or id, and the JSON around them.
fn broadcast_body(settings: &Settings) -> usize {
    settings.realtime.max_payload_bytes + 4096
}

/// This API's error shape: `{"code", "message", "status"}`.
pub const ERRORS: ErrorRenderer = ErrorRenderer(render_error);

fn render_error(code: ErrorCode, message: &str, status: StatusCode) -> Response {
    let (code, _) = code.entry();
    let body = serde_json::json!({ "code": code, "message": message, "status": status.as_u16() });
    (status, axum::Json(body)).into_response()
}

/// `route` with a body limit of `bytes` (never above `http_limits.max_body_bytes`,
/// which the router applies to everything).
fn limited(route: MethodRouter<AppState>, bytes: usize) -> MethodRouter<AppState> {
    route.layer(crate::http::body_limits(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_are_json_objects_with_code_message_and_status() {
        let response = render_error(ErrorCode::Unauthorized, "invalid token", StatusCode::UNAUTHORIZED);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(
            body,
            serde_json::json!({ "code": "unauthorized", "message": "invalid token", "status": 401 })
        );
    }
}
