//! API-key authentication: `?apikey=KEY` or HTTP Basic `apikey:KEY`.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use thingstead_core::Tenant;

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

impl FromRequestParts<AppState> for ApiKeyTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = key_from_query(parts).or_else(|| key_from_basic(parts)).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "an API key is required (?apikey= or Basic apikey:KEY)",
            )
            .hologram()
        })?;
        let tenant = state
            .platform
            .authenticate_api_key(&key)
            .await
            .map_err(|e| ApiError::from(e).hologram())?;
        Ok(Self(tenant))
    }
}
