//! The HTTP listener: one router for every face, with limits and metrics.

pub mod conn;
pub mod error;
mod health;
pub mod json;
mod observe;
mod per_ip;
pub mod serve;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;

/// The router of every face, with limits, metrics and JSON errors.
pub fn router(state: AppState) -> Router {
    let limits = &state.settings.http_limits;
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .nest(
            crate::faces::device::api::PREFIX,
            crate::faces::device::api::routes(&state.settings),
        )
        .fallback(observe::not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        // The ceiling for every route; routes that take less set their own.
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        // Outermost, so errors made by the layers above get our JSON shape too.
        .layer(middleware::from_fn(observe::json_errors))
        .route_layer(middleware::from_fn(observe::record))
        .with_state(state)
}
