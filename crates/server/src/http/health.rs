//! `GET /healthz` and `GET /metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::app::AppState;

/// How long the store has to answer a health check. A database that holds
/// a connection open but does not answer (a hung host) must still make
/// this 503 before a load balancer's own check times out.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// 200 `{"status":"ok"}` when the store answers within [`PING_TIMEOUT`],
/// else 503.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let unavailable = |message: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "message": message })),
        )
    };
    match tokio::time::timeout(PING_TIMEOUT, state.platform.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Ok(Err(e)) => unavailable(e.to_string()),
        Err(_) => unavailable(format!("the store did not answer within {} s", PING_TIMEOUT.as_secs())),
    }
}

/// Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let stats = state.platform.store_stats();
    metrics::gauge!("thingstead_store_group_commit_writes").set(stats.writes as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
