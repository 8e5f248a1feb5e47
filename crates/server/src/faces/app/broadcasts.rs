//! Broadcasts over HTTP (WIRE.md B.4).
//!
//! `POST /networks/current/broadcasts?timeout=<ms>` with
//! `{"channel","name","payload"}` delivers the broadcast to every socket
//! subscribed to the channel, on every node, then waits `timeout` ms
//! (a float such as `100.0`; 100 when absent; clamped to
//! `realtime.max_broadcast_timeout_ms`; NaN or negative: 400) for
//! responses, and answers 200 with the array of their payloads (`[]` when
//! none), at most `realtime.max_responses` of them and
//! `realtime.max_response_bytes` in all (it answers as soon as either is
//! reached).
//!
//! `POST /networks/current/responses` with `{"id","channel","payload"}`
//! answers a broadcast: 200 `{}`.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use thingstead_proto::channel::ChannelId;

use super::principal::Authenticated;
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::json::ApiJson;

/// How long a broadcast waits for responses when the request names no timeout (the EXP SDK's default).
const DEFAULT_TIMEOUT_MS: f64 = 100.0;

/// `?timeout=`.
#[derive(Deserialize)]
pub(crate) struct TimeoutQuery {
    timeout: Option<String>,
}

/// A broadcast.
#[derive(Deserialize)]
pub(crate) struct BroadcastBody {
    channel: String,
    name: String,
    #[serde(default)]
    payload: Value,
}

/// A response to a broadcast.
#[derive(Deserialize)]
pub(crate) struct ResponseBody {
    id: String,
    channel: String,
    #[serde(default)]
    payload: Value,
}

fn channel(encoded: &str) -> Result<ChannelId, ApiError> {
    ChannelId::decode(encoded).map_err(|e| ApiError::new(ErrorCode::InvalidInput, format!("channel: {e}")))
}

/// The wait for responses: `timeout` ms, clamped to `max_ms`.
fn wait(timeout: Option<&str>, max_ms: u64) -> Result<Duration, ApiError> {
    let ms = match timeout {
        None => DEFAULT_TIMEOUT_MS,
        Some(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| ApiError::new(ErrorCode::InvalidInput, "timeout must be a number of milliseconds"))?,
    };
    if ms.is_nan() || ms < 0.0 {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "timeout must be a number of milliseconds, not negative",
        ));
    }
    Ok(Duration::from_millis(ms.min(max_ms as f64) as u64))
}

/// `POST /networks/current/broadcasts`.
pub(crate) async fn broadcast(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<TimeoutQuery>,
    ApiJson(body): ApiJson<BroadcastBody>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let limits = &state.settings.realtime;
    let wait = wait(query.timeout.as_deref(), limits.max_broadcast_timeout_ms)?;
    let channel = channel(&body.channel)?;
    if wait.is_zero() {
        // Nobody waits for responses: no subscription to make and drop
        // (on NATS, a SUB and an UNSUB per broadcast).
        state
            .platform
            .broadcast(&principal, &channel, &body.name, body.payload)
            .await?;
        return Ok(Json(Vec::new()));
    }
    let (_, mut responses) = state
        .platform
        .broadcast_collecting(&principal, &channel, &body.name, body.payload)
        .await?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut collected = Vec::new();
    let mut bytes = 0usize;
    while collected.len() < limits.max_responses {
        let Ok(Some(payload)) = tokio::time::timeout_at(deadline, responses.next()).await else {
            break;
        };
        bytes += serde_json::to_vec(&payload).map(|v| v.len()).unwrap_or(0);
        if bytes > limits.max_response_bytes {
            break;
        }
        collected.push(payload);
    }
    Ok(Json(collected))
}

/// `POST /networks/current/responses`.
pub(crate) async fn respond(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<ResponseBody>,
) -> Result<Json<Value>, ApiError> {
    let channel = channel(&body.channel)?;
    state
        .platform
        .respond(&principal, &body.id, &channel, body.payload)
        .await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_float_milliseconds_clamped_and_never_negative() {
        assert_eq!(wait(Some("100.0"), 10_000).unwrap(), Duration::from_millis(100));
        assert_eq!(wait(None, 10_000).unwrap(), Duration::from_millis(100));
        assert_eq!(wait(Some("1e9"), 10_000).unwrap(), Duration::from_secs(10));
        assert_eq!(wait(Some("inf"), 500).unwrap(), Duration::from_millis(500));
        for bad in ["NaN", "-1", "-0.5", "soon", ""] {
            assert!(wait(Some(bad), 10_000).is_err(), "{bad}");
        }
    }
}
