//! API-key authentication: `?apikey=KEY` or HTTP Basic `apikey:KEY`.
//!
//! A refused key is counted (the activity summary, and
//! `thingstead_auth_failures_total{face="api"}`) and logged at info at most
//! once per [`FAILURE_LOG_PERIOD`], with how many were held back; the key
//! itself is never logged.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use thingstead_core::{ErrorKind, Tenant};

use crate::activity::{ACTIVITY, LogLimiter};
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// The tenant an API key belongs to.
pub(crate) struct ApiKeyTenant(pub Tenant);

fn key_from_query(parts: &Parts) -> Option<String> {
    let Query(mut q) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri).ok()?;
    q.remove("apikey")
}

fn key_from_basic(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, key) = text.split_once(':')?;
    (user == "apikey").then(|| key.to_owned())
}

/// At most one log line per this period about refused credentials.
const FAILURE_LOG_PERIOD: Duration = Duration::from_secs(10);

static FAILURE_LOG: LogLimiter = LogLimiter::new(FAILURE_LOG_PERIOD);

/// Counts a refused request and logs it, rate-limited.
fn refused(parts: &Parts, reason: &'static str) {
    ACTIVITY.api_unauthorized();
    metrics::counter!("thingstead_auth_failures_total", "face" => "api").increment(1);
    if let Some(held_back) = FAILURE_LOG.allow() {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_default();
        tracing::info!(
            peer = %peer,
            path = %parts.uri.path(),
            held_back,
            "API request refused: {reason} ({held_back} more refusals since the last such line)"
        );
    }
}

impl FromRequestParts<AppState> for ApiKeyTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(key) = key_from_query(parts).or_else(|| key_from_basic(parts)) else {
            refused(parts, "no API key");
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "an API key is required (?apikey= or Basic apikey:KEY)",
            ));
        };
        match state.platform.authenticate_api_key(&key).await {
            Ok(tenant) => Ok(Self(tenant)),
            Err(e) => {
                if e.kind() == ErrorKind::Unauthorized {
                    refused(parts, "unknown API key");
                }
                Err(ApiError::from(e))
            }
        }
    }
}
