//! The Hologram-style REST API of the device face, under `/api/1`.
//! Authenticated by `?apikey=KEY` or HTTP Basic `apikey:KEY`; bodies are
//! `{"success": true, "data": ...}`; errors add `"success": false`.

mod auth;
mod devices;
mod messages;
mod push;
mod sms;
pub mod stream;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::error::{ErrorCode, ErrorRenderer};
use crate::settings::Settings;

/// Where the routes are nested.
pub const PREFIX: &str = "/api/1";

/// Body limit of routes that take no body.
const NO_BODY: usize = 1024;
/// Body limit of `POST /sms`: a destination, a text of a few hundred bytes,
/// a device id.
const SMS_BODY: usize = 8 * 1024;

/// The `/api/1` routes, each with a body limit that fits what it takes (a
/// larger body gets 413; a larger `Content-Length` is refused unread);
/// every error made under them has this API's shape ([`ERRORS`]).
pub fn routes(settings: &Settings) -> Router<AppState> {
    let push_body = push_body_limit(settings);
    let routes = Router::new()
        .route("/devices", limited(get(devices::list), NO_BODY))
        .route("/devices/{id}", limited(get(devices::get), NO_BODY))
        .route("/devices/messages", limited(post(push::push), push_body))
        .route("/devices/{id}/deliveries", limited(get(push::deliveries), NO_BODY))
        .route("/csr/rdm", limited(get(messages::list), NO_BODY))
        .route("/csr/rdm/{id}", limited(get(messages::get), NO_BODY))
        .route("/csr/rdm/stream", limited(get(stream::stream), NO_BODY))
        .route(
            "/sms",
            limited(get(sms::list), NO_BODY).merge(limited(post(sms::send), SMS_BODY)),
        )
        .route("/sms/{id}", limited(get(sms::get), NO_BODY));
    crate::http::face(routes, &settings.http_limits, ERRORS)
}

/// This API's error shape: `{"success": false, "code", "message", "error"}`.
pub const ERRORS: ErrorRenderer = ErrorRenderer(render_error);

fn render_error(code: ErrorCode, message: &str, status: StatusCode) -> Response {
    let (code, _) = code.entry();
    let body = serde_json::json!({ "success": false, "code": code, "message": message, "error": message });
    (status, axum::Json(body)).into_response()
}

/// A push carries at most one device frame's worth of data, base64-encoded,
/// plus the ids of the devices it goes to and a few small fields.
fn push_body_limit(settings: &Settings) -> usize {
    let data = settings.device.max_frame.div_ceil(3) * 4;
    let ids = settings.push.max_devices.saturating_mul(64);
    data.saturating_add(ids).saturating_add(4096)
}

/// `route` with a body limit of `bytes` (never above `http_limits.max_body_bytes`,
/// which the router applies to everything).
fn limited(route: MethodRouter<AppState>, bytes: usize) -> MethodRouter<AppState> {
    route.layer(crate::http::body_limits(bytes))
}

/// `value` as JSON; a value that does not serialize is the server's fault
/// (500, logged), never a `null` sent as if it were the answer.
pub(crate) fn to_json<T: serde::Serialize>(value: T) -> Result<serde_json::Value, crate::http::error::ApiError> {
    serde_json::to_value(value).map_err(|e| {
        crate::http::error::ApiError::from(thingstead_core::CoreError::Internal(format!(
            "serializing a response: {e}"
        )))
    })
}

/// `{"success": true, "data": data}`.
pub(crate) fn ok(data: serde_json::Value) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "success": true, "data": data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_body_fits_a_whole_frame_in_base64() {
        let s = Settings::default();
        let limit = push_body_limit(&s);
        assert!(limit >= s.device.max_frame * 4 / 3 + s.push.max_devices * 40);
        assert!(limit < s.http_limits.max_body_bytes);
    }
}
