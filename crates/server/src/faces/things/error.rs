//! The IoT Studio error shape (WIRE.md A.1) for everything under
//! `/spaces`: `{"error": {"status": N, "message": "...", "details":
//! {"code": "<stable code>"}}}` with `Content-Type: application/json`,
//! rendered from the one table of error codes ([`ErrorCode`]).
//!
//! The SDK evaluates `paging.next_cursor` on every response of a paginated
//! GET, errors included, so the errors of those routes also carry
//! `"paging": {"next_cursor": null, "previous_cursor": null}`. A list route
//! asks for that by wrapping its GET in [`paginated`]:
//!
//! ```ignore
//! .route("/{space}/things", paginated(get(things::list)).post(things::create))
//! ```
//!
//! Only the GET is marked (a `route_layer` covers the methods added before
//! it); the mark is set before the handler's extractors run, so every
//! error of that request, the face's timeout included, gets `paging`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde_json::{Value, json};

use crate::http::error::{ErrorCode, ErrorRenderer, error_of};

/// This face's error shape, without `paging`.
pub const ERRORS: ErrorRenderer = ErrorRenderer(render_error);

fn render_error(code: ErrorCode, message: &str, status: StatusCode) -> Response {
    error_response(code, message, status, false)
}

/// The body of an error: `{"error": {...}}`, and `paging` when `paged`.
pub fn error_body(code: ErrorCode, message: &str, status: StatusCode, paged: bool) -> Value {
    let (code, _) = code.entry();
    let mut body = json!({
        "error": { "status": status.as_u16(), "message": message, "details": { "code": code } }
    });
    if paged && let Some(obj) = body.as_object_mut() {
        obj.insert("paging".into(), json!({ "next_cursor": null, "previous_cursor": null }));
    }
    body
}

fn error_response(code: ErrorCode, message: &str, status: StatusCode, paged: bool) -> Response {
    (status, Json(error_body(code, message, status, paged))).into_response()
}

/// Set on a request by [`paginated`] routes: their errors carry `paging`.
#[derive(Clone, Default)]
struct ErrorPaging(Arc<AtomicBool>);

/// `route` (a list's GET) with `paging` in every error it answers.
pub fn paginated<S>(route: MethodRouter<S>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route.route_layer(middleware::map_request(|req: Request| async move {
        mark_paged(&req);
        req
    }))
}

/// Marks `req` as a list's GET: its errors carry `paging`. For the
/// layers that may refuse a request before its route's [`paginated`]
/// layer runs (authentication).
pub(super) fn mark_paged(req: &Request) {
    if let Some(paging) = req.extensions().get::<ErrorPaging>() {
        paging.0.store(true, Ordering::Relaxed);
    }
}

/// The face's outermost step (of its middleware): every error response
/// `inner` makes of `req` gets this face's shape (an [`crate::http::error::ApiError`] is rendered again
/// from its code and message; an error the framework or a layer made, from
/// its status; a JSON error a handler made itself is left as it is), with
/// `paging` for [`paginated`] routes.
pub(super) async fn in_face_shape<Fut>(mut req: Request, inner: impl FnOnce(Request) -> Fut) -> Response
where
    Fut: std::future::Future<Output = Response>,
{
    let paging = ErrorPaging::default();
    req.extensions_mut().insert(paging.clone());
    let response = inner(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let paged = paging.0.load(Ordering::Relaxed);
    let (code, message, headers) = match error_of(response).await {
        Ok(error) => error,
        // A handler's own JSON error body is its business.
        Err(response) => return response,
    };
    let mut fixed = error_response(code, &message, status, paged);
    for name in [
        header::RETRY_AFTER,
        header::ALLOW,
        header::CONNECTION,
        header::WWW_AUTHENTICATE,
    ] {
        if let Some(v) = headers.get(&name) {
            fixed.headers_mut().insert(name, v.clone());
        }
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_iot_studio_shape() {
        let body = error_body(ErrorCode::NotFound, "thing t1 not found", StatusCode::NOT_FOUND, false);
        assert_eq!(
            body,
            json!({"error": {"status": 404, "message": "thing t1 not found", "details": {"code": "not_found"}}})
        );
        let body = error_body(ErrorCode::Unauthorized, "no token", StatusCode::UNAUTHORIZED, true);
        assert_eq!(body["paging"], json!({"next_cursor": null, "previous_cursor": null}));
        assert_eq!(body["error"]["status"], 401);
    }

    #[tokio::test]
    async fn only_the_errors_of_paginated_gets_carry_paging() {
        use axum::Router;
        use axum::body::Body;
        use axum::routing::get;
        use tower::ServiceExt;

        use crate::http::error::ApiError;

        async fn missing() -> ApiError {
            ApiError::new(ErrorCode::NotFound, "space s not found")
        }
        async fn listed() -> Json<Value> {
            Json(json!({"data": [], "paging": {"next_cursor": null}}))
        }
        let app = Router::new()
            .route("/list", paginated(get(missing)).post(missing))
            .route("/ok", paginated(get(listed)))
            .route("/one", get(missing))
            .fallback(crate::http::observe::not_found)
            .layer(middleware::from_fn(|req: Request, next: middleware::Next| {
                in_face_shape(req, |req| next.run(req))
            }));
        let call = |method: &str, path: &str| {
            let req = Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .expect("request");
            let app = app.clone();
            async move {
                let response = app.oneshot(req).await.expect("infallible");
                let status = response.status();
                let ct = response.headers().get(header::CONTENT_TYPE).cloned();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
                assert_eq!(ct.as_ref().and_then(|v| v.to_str().ok()), Some("application/json"));
                (status, serde_json::from_slice::<Value>(&bytes).expect("JSON"))
            }
        };
        let (status, body) = call("GET", "/list").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["message"], "space s not found");
        assert_eq!(body["paging"]["next_cursor"], Value::Null, "{body}");
        assert!(
            body["paging"]
                .as_object()
                .is_some_and(|p| p.contains_key("next_cursor"))
        );
        for (method, path) in [("POST", "/list"), ("GET", "/one"), ("GET", "/nowhere")] {
            let (status, body) = call(method, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
            assert!(body.get("paging").is_none(), "{method} {path}: {body}");
            assert_eq!(body["error"]["status"], 404);
        }
        let (status, body) = call("DELETE", "/list").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["details"]["code"], "method_not_allowed");
        let (status, body) = call("GET", "/ok").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"], json!([]), "successes pass untouched");
    }
}
