//! The HTTP listener: one router for every face, with limits and metrics.

pub mod conn;
pub mod error;
mod health;
pub mod json;
pub(crate) mod observe;
mod per_ip;
pub mod serve;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;
use crate::settings::HttpLimits;
use error::ErrorRenderer;

/// The router of every face, with limits, metrics and each face's errors.
pub fn router(state: AppState) -> Router {
    let limits = &state.settings.http_limits;
    let root = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics));
    // Routes outside any face (and unknown routes) get the default shape;
    // each face's router is wrapped by [`face`] with its own renderer.
    face(root, limits, ErrorRenderer::JSON)
        .nest(
            crate::faces::device::api::PREFIX,
            crate::faces::device::api::routes(&state.settings),
        )
        // `/api/1` above is more specific and keeps its paths; every other
        // `/api/...` path is the application face's.
        .nest(crate::faces::app::PREFIX, crate::faces::app::routes(&state.settings))
        // The things API: OAuth2 and `/spaces/{space}/...`.
        .nest(
            crate::faces::things::OAUTH2_PREFIX,
            crate::faces::things::oauth2_routes(&state.settings),
        )
        .merge(crate::faces::things::space_routes(&state))
        // `/socket.io/`: long polls and websockets, outside any face's request timeout.
        .merge(state.realtime.routes())
        .route_layer(middleware::from_fn_with_state(
            observe::RequestMetrics::default(),
            observe::record,
        ))
        .with_state(state)
}

/// `routes` as one face: unknown routes under it get 404, and every error
/// made there (by a handler, an extractor, a body limit, the request
/// timeout, a method not allowed) is rendered by `renderer`. Each face's
/// router calls this once, before it is nested.
pub fn face<S>(routes: Router<S>, limits: &HttpLimits, renderer: ErrorRenderer) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    // One stack of layers on every route (one boxed service per route, not
    // one per layer), outermost first.
    routes.fallback(observe::not_found).layer(
        ServiceBuilder::new()
            // Outermost, so errors made by the layers below get the face's shape too.
            .layer(middleware::from_fn_with_state(renderer, observe::render_errors))
            // The ceiling for every route; routes that take less set their own.
            .layer(body_limits(limits.max_body_bytes))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(limits.request_timeout_secs),
            )),
    )
}

/// A body limit of `bytes`, for a body read in a stream and for the
/// extractors (413 either way), as one layer.
pub fn body_limits(bytes: usize) -> Stack<DefaultBodyLimit, Stack<RequestBodyLimitLayer, Identity>> {
    ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(bytes))
        .layer(DefaultBodyLimit::max(bytes))
        .into_inner()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::http::error::{ApiError, ErrorCode};
    use crate::http::json::ApiJson;

    /// A made-up wire: the error nested, with the status in the body.
    fn render_other(code: ErrorCode, message: &str, status: StatusCode) -> Response {
        let (code, _) = code.entry();
        let body = json!({ "error": { "kind": code, "text": message }, "status": status.as_u16() });
        (status, axum::Json(body)).into_response()
    }

    async fn echo(ApiJson(v): ApiJson<Value>) -> axum::Json<Value> {
        axum::Json(v)
    }

    async fn taken() -> Result<(), ApiError> {
        Err(ApiError::new(ErrorCode::Conflict, "name taken"))
    }

    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "late"
    }

    /// The root (default renderer) with one test-only face at `/other`.
    fn app() -> Router {
        let limits = HttpLimits {
            max_body_bytes: 64,
            request_timeout_secs: 1,
            ..crate::settings::Settings::default().http_limits
        };
        let other = Router::new()
            .route("/echo", post(echo))
            .route("/taken", get(taken))
            .route("/slow", get(slow));
        let root = Router::new().route("/healthz", get(|| async { "ok" }));
        face(root, &limits, ErrorRenderer::JSON).nest("/other", face(other, &limits, ErrorRenderer(render_other)))
    }

    async fn call(method: Method, path: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body.to_owned()))
            .expect("request");
        send(req).await
    }

    async fn send(req: Request<Body>) -> (StatusCode, Value) {
        let response = app().oneshot(req).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("a JSON body"))
    }

    fn other_shape(body: &Value, kind: &str, status: u16) {
        assert_eq!(body["error"]["kind"], kind, "{body}");
        assert!(body["error"]["text"].is_string(), "{body}");
        assert_eq!(body["status"], status, "{body}");
        assert!(body.get("code").is_none(), "no default shape: {body}");
    }

    #[tokio::test]
    async fn a_face_renders_handler_errors_in_its_own_shape() {
        let (status, body) = call(Method::GET, "/other/taken", "").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            body,
            json!({ "error": { "kind": "conflict", "text": "name taken" }, "status": 409 })
        );
    }

    #[tokio::test]
    async fn a_face_renders_framework_rejections_in_its_own_shape() {
        let (status, body) = call(Method::POST, "/other/echo", "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        other_shape(&body, "malformed_json", 400);

        let (status, body) = call(Method::POST, "/other/echo", &"x".repeat(100)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        other_shape(&body, "payload_too_large", 413);

        // Without a Content-Length: the JSON extractor hits the limit.
        let req = Request::post("/other/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(
                "x".repeat(100),
            )])))
            .expect("request");
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        other_shape(&body, "payload_too_large", 413);

        let (status, body) = call(Method::DELETE, "/other/echo", "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        other_shape(&body, "method_not_allowed", 405);

        let (status, body) = call(Method::GET, "/other/no/such/route", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        other_shape(&body, "route_not_found", 404);

        let (status, body) = call(Method::GET, "/other/slow", "").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        other_shape(&body, "timeout", 408);
    }

    #[tokio::test]
    async fn outside_a_face_errors_keep_the_default_shape() {
        let default_shape = |body: &Value, code: &str| {
            assert_eq!(body["code"], code, "{body}");
            assert!(body["message"].is_string(), "{body}");
            assert_eq!(
                body.as_object().map(|o| o.len()),
                Some(2),
                "only code and message: {body}"
            );
        };
        let (status, body) = call(Method::DELETE, "/healthz", "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        default_shape(&body, "method_not_allowed");

        let (status, body) = call(Method::GET, "/healthz", &"x".repeat(100)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        default_shape(&body, "payload_too_large");

        // Outside the face's prefix, even when a path starts like it.
        for path in ["/nowhere", "/others/taken"] {
            let (status, body) = call(Method::GET, path, "").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            default_shape(&body, "route_not_found");
        }
    }
}
