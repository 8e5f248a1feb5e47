//! Bearer-token authentication of the application face.
//!
//! A refused token is counted (the activity summary, and
//! `thingstead_auth_failures_total{face="app"}`) and logged at info at most
//! once per `FAILURE_LOG_PERIOD`; the token itself is never logged.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use thingstead_core::{ErrorKind, Principal};

use crate::activity::{ACTIVITY, LogLimiter};
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// The caller of a route, from `Authorization: Bearer TOKEN`; 401 in the
/// face's shape when the token is missing, invalid, expired or revoked.
pub struct Authenticated(pub Principal);

/// The raw bearer token of a request (not verified); 401 when there is none.
pub struct Bearer(pub String);

/// At most one log line per this period about refused tokens.
const FAILURE_LOG_PERIOD: Duration = Duration::from_secs(10);

static FAILURE_LOG: LogLimiter = LogLimiter::new(FAILURE_LOG_PERIOD);

/// Counts a refused request and logs it, rate-limited.
pub(crate) fn refused(path: &str, reason: &'static str) {
    ACTIVITY.api_unauthorized();
    metrics::counter!("thingstead_auth_failures_total", "face" => "app").increment(1);
    if let Some(held_back) = FAILURE_LOG.allow() {
        tracing::info!(
            path = %path,
            held_back,
            "application API request refused: {reason} ({held_back} more refusals since the last such line)"
        );
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            Some(token) => Ok(Self(token)),
            None => {
                refused(parts.uri.path(), "no bearer token");
                Err(ApiError::new(
                    ErrorCode::Unauthorized,
                    "a bearer token is required (Authorization: Bearer TOKEN)",
                ))
            }
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Bearer(token) = Bearer::from_request_parts(parts, state).await?;
        match state.platform.authenticate(&token).await {
            Ok(principal) => Ok(Self(principal)),
            Err(e) => {
                if e.kind() == ErrorKind::Unauthorized {
                    refused(parts.uri.path(), "invalid token");
                }
                Err(ApiError::from(e))
            }
        }
    }
}
