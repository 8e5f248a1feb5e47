//! The things API of the IoT Studio client (iots 0.5.0, WIRE.md A):
//! OAuth2 at `/oauth2` ([`oauth2`]) and the spaces at `/spaces/{space}`.
//!
//! Every request under `/spaces/{space}/` is authenticated first
//! ([`auth`]: 401 without a valid token, 403 for another space); a route
//! takes the [`SpaceCaller`] and checks the scope of its operation with
//! [`SpaceCaller::require`]. Errors have the IoT Studio shape
//! ([`error`]: `{"error": {"status", "message"}}`), also for unknown
//! routes (404), methods (405), oversized bodies (413) and the timeout
//! (408: every response starts within `things.request_timeout_ms`, below
//! the client's 3 s). List routes wrap their GET in [`paginated`] so that
//! their errors carry `paging` too.
//!
//! Resource routes are added in [`space_routes`], one module per resource
//! (`things.rs`, `categories.rs`, ...), each route declared as
//! `/spaces/{space}/<resource>...`.

pub mod actions;
mod activity;
pub mod auth;
pub mod categories;
pub mod email;
pub mod error;
pub mod events;
pub mod history;
pub mod json;
pub mod oauth2;
pub mod properties;
pub mod query;
// One module per resource; this one is the things themselves.
#[allow(clippy::module_inception)]
pub mod things;

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;

pub use auth::SpaceCaller;
pub use error::paginated;

use crate::app::AppState;
use crate::http::body_limits;
use crate::settings::Settings;

/// Where the OAuth2 endpoints are nested.
pub const OAUTH2_PREFIX: &str = "/oauth2";
/// The path of the spaces.
pub const SPACES_PREFIX: &str = "/spaces";

/// `POST /oauth2/token` and `POST /oauth2/revoke`, with RFC 6749 errors.
pub fn oauth2_routes(settings: &Settings) -> Router<AppState> {
    let routes = Router::new()
        .route("/token", post(oauth2::token))
        .route("/revoke", post(oauth2::revoke))
        .fallback(crate::http::observe::not_found);
    routes.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(
                oauth2::ERRORS,
                crate::http::observe::render_errors,
            ))
            .layer(timeout(settings))
            .layer(body_limits(oauth2::OAUTH2_BODY)),
    )
}

/// The `/spaces` routes, with their full paths (merged into the root
/// router, not nested: a nest costs every request a second route match and
/// a rewritten URI): every request to a space authenticated, every error
/// in the IoT Studio shape. Paths under `/spaces` that name no route are
/// answered 404 by the face too, after authentication when they name a
/// space.
pub fn space_routes(state: &AppState) -> Router<AppState> {
    let space = format!("{SPACES_PREFIX}/{{space}}");
    let routes = Router::new()
        .route(
            &format!("{space}/categories"),
            paginated(get(categories::list)).post(categories::create),
        )
        .route(
            &format!("{space}/categories/{{category}}"),
            get(categories::get_one)
                .put(categories::replace)
                .delete(categories::delete),
        )
        .route(
            &format!("{space}/communications/email"),
            post(email::send).layer(axum::Extension(email::Mailer::new(&state.settings.smtp))),
        );
    let routes = thing_routes(routes, &format!("{space}/things"));
    let routes = thing_routes(routes, &format!("{space}/categories/{{category}}/things"));
    // Unknown paths of the face: the more specific routes above win.
    let unknown = ["", "/", "/{space}", "/{space}/", "/{space}/{*rest}"];
    let routes = unknown.iter().fold(routes, |routes, tail| {
        routes.route(&format!("{SPACES_PREFIX}{tail}"), any(crate::http::observe::not_found))
    });
    // One stack of layers on every route (one boxed service per route, not
    // one per layer), outermost first: [`space_request`], then the body
    // limits. It covers the unknown paths too, so an unknown route of a
    // space answers 404 only to that space's callers.
    routes.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(state.clone(), space_request))
            .layer(body_limits(state.settings.http_limits.max_body_bytes)),
    )
}

/// What every request to a space goes through before its route, in one
/// middleware (each layer costs every request a clone of what it wraps
/// and a boxed future): every error made below it gets the IoT Studio
/// shape; the response starts within the request timeout (408); the
/// caller is authenticated (which also marks a list's GETs, so that one
/// refused there, 401 or 403, carries `paging` too) before anything of the
/// body is read.
async fn space_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_millis(state.settings.things.request_timeout_ms);
    error::in_face_shape(req, |req| within(limit, auth::authenticate_space(state, req, next))).await
}

/// `response`, or a 408 when it takes longer than `limit`.
async fn within(limit: Duration, response: impl Future<Output = Response>) -> Response {
    tokio::time::timeout(limit, response)
        .await
        .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response())
}

/// The thing routes (things, properties, history, actions, events) under `base`.
fn thing_routes(routes: Router<AppState>, base: &str) -> Router<AppState> {
    routes
        .route(
            base,
            paginated(get(things::list))
                .post(things::create)
                .patch(things::patch_many)
                .delete(things::delete_many),
        )
        .route(
            &format!("{base}/{{thing}}"),
            get(things::get_one)
                .put(things::replace)
                .patch(things::patch_one)
                .delete(things::delete_one),
        )
        .route(
            &format!("{base}/{{thing}}/properties"),
            get(properties::get_all).put(properties::put_all),
        )
        .route(
            &format!("{base}/{{thing}}/properties/{{property}}"),
            get(properties::get_one).put(properties::put_one),
        )
        .route(
            &format!("{base}/{{thing}}/properties-history"),
            paginated(get(history::list))
                .post(history::create)
                .delete(history::delete),
        )
        .route(
            &format!("{base}/{{thing}}/properties-history/{{property}}"),
            paginated(get(history::list))
                .post(history::create)
                .delete(history::delete),
        )
        .route(&format!("{base}/{{thing}}/actions"), paginated(get(actions::list)))
        .route(
            &format!("{base}/{{thing}}/actions/{{name}}"),
            paginated(get(actions::list)).post(actions::create),
        )
        .route(
            &format!("{base}/{{thing}}/actions/{{name}}/{{id}}"),
            get(actions::get_one).put(actions::update).delete(actions::delete),
        )
        .route(&format!("{base}/{{thing}}/events"), paginated(get(events::list)))
        .route(
            &format!("{base}/{{thing}}/events/{{name}}"),
            paginated(get(events::list)).post(events::create),
        )
        .route(
            &format!("{base}/{{thing}}/events/{{name}}/{{id}}"),
            get(events::get_one).delete(events::delete),
        )
}

/// Marks the GETs of list routes (by their route pattern) so that their
/// errors carry `paging`, even when refused before the route runs.
pub(super) fn mark_list_gets(req: &axum::extract::Request) {
    let list = req.method() == axum::http::Method::GET
        && req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .is_some_and(|p| is_list_route(p.as_str()));
    if list {
        error::mark_paged(req);
    }
}

/// Whether `pattern` (a route of [`space_routes`]) is a list.
fn is_list_route(pattern: &str) -> bool {
    const LISTS: [&str; 8] = [
        "/things",
        "/categories",
        "/actions",
        "/actions/{name}",
        "/events",
        "/events/{name}",
        "/properties-history",
        "/properties-history/{property}",
    ];
    LISTS.iter().any(|l| pattern.ends_with(l))
}

/// The face's request timeout: every response starts within
/// `things.request_timeout_ms` (408 otherwise).
fn timeout(settings: &Settings) -> TimeoutLayer {
    TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_millis(settings.things.request_timeout_ms),
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::routing::get;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_slow_request_is_answered_408_in_time_with_paging_on_lists() {
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }
        let mut settings = Settings::default();
        settings.things.request_timeout_ms = 100;
        let routes = Router::new()
            .route("/list", paginated(get(slow)))
            .route("/one", get(slow))
            .fallback(crate::http::observe::not_found);
        // The shape and the timeout of `space_request`, without authentication.
        let limit = Duration::from_millis(settings.things.request_timeout_ms);
        let app = routes.layer(middleware::from_fn(move |req: Request, next: Next| {
            error::in_face_shape(req, move |req| within(limit, next.run(req)))
        }));
        for (path, paged) in [("/list", true), ("/one", false)] {
            let started = std::time::Instant::now();
            let req = Request::get(path).body(Body::empty()).expect("request");
            let response = app.clone().oneshot(req).await.expect("infallible");
            assert!(started.elapsed() < Duration::from_secs(3), "{path}");
            assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT, "{path}");
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
            let body: Value = serde_json::from_slice(&bytes).expect("JSON");
            assert_eq!(body["error"]["status"], 408, "{body}");
            assert_eq!(body.get("paging").is_some(), paged, "{path}: {body}");
        }
    }
}
