//! Who calls `/spaces/{space}/...`, and whether they may.
//!
//! Every request under `/spaces/{space}/` is authenticated before its
//! route runs (a layer of the whole face): the
//! bearer token (an OAuth2 client token from `/oauth2/token`, or a token
//! of the application face's login) must be valid, unexpired and not
//! revoked (401 otherwise, with an RFC 6750 `WWW-Authenticate: Bearer`
//! challenge, `error="invalid_token"` when a token was sent), and its organization must be `{space}` (403
//! otherwise, the same whether the other space exists or not, so nothing
//! of another space is ever read). Routes then take a [`SpaceCaller`] and
//! check the scope of each operation with [`SpaceCaller::require`] (403
//! when the token lacks it); the table of scopes is in
//! [`thingstead_core::scopes`].
//!
//! Refusals are counted (the activity summary, and
//! `thingstead_auth_failures_total{face="things"}`) and logged at most once
//! per [`FAILURE_LOG_PERIOD`]; tokens are never logged.

use std::time::Duration;

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use thingstead_core::scopes::Need;
use thingstead_core::{Actor, ErrorKind, Principal, Tenant};

use super::SPACES_PREFIX;
use crate::activity::{ACTIVITY, LogLimiter};
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// At most one log line per this period about refused requests.
pub const FAILURE_LOG_PERIOD: Duration = Duration::from_secs(10);

static FAILURE_LOG: LogLimiter = LogLimiter::new(FAILURE_LOG_PERIOD);

/// The authenticated caller of a `/spaces/{space}/...` route, in its own
/// space. Take it as an extractor; it is there on every route of the face.
#[derive(Debug, Clone)]
pub struct SpaceCaller {
    principal: Principal,
    tenant: Tenant,
}

impl SpaceCaller {
    /// Who calls.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The space (the caller's own organization).
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// `Ok` when the caller's token grants `need`; 403 naming the scopes
    /// that would otherwise.
    pub fn require(&self, need: Need) -> Result<(), ApiError> {
        if self.principal.allows(need) {
            return Ok(());
        }
        refused("/spaces", "out of scope");
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "this token does not grant this operation (it needs one of the scopes: {})",
                need.granting_scopes().join(", ")
            ),
        ))
    }

    /// `Ok` when the caller may write the properties of a thing owned by
    /// device `owner`: with the `thing` scope, or as that device.
    pub fn require_property_write(&self, owner: Option<&str>) -> Result<(), ApiError> {
        if self.principal.may_write_properties_of(owner) {
            return Ok(());
        }
        if matches!(self.principal.actor(), Actor::Device { .. }) {
            refused("/spaces", "a device writing a thing it does not own");
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "a device may write only the properties of the things it owns",
            ));
        }
        self.require(Need::write(thingstead_core::scopes::Resource::Things))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SpaceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<SpaceCaller>().cloned().ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "a things route outside the authenticated face");
            ApiError::new(ErrorCode::Internal, "internal error")
        })
    }
}

/// Counts a refused request and logs it, rate-limited.
pub(super) fn refused(path: &str, reason: &'static str) {
    ACTIVITY.api_unauthorized();
    metrics::counter!("thingstead_auth_failures_total", "face" => "things").increment(1);
    if let Some(held_back) = FAILURE_LOG.allow() {
        tracing::info!(
            path = %path,
            held_back,
            "things API request refused: {reason} ({held_back} more refusals since the last such line)"
        );
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The `{space}` of a path `/spaces/{space}/...` (none for `/spaces`,
/// `/spaces/` and `/spaces/{space}` alone: no route there).
fn space_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(SPACES_PREFIX)?.strip_prefix('/')?;
    let (space, _) = rest.split_once('/')?;
    (!space.is_empty()).then_some(space)
}

/// Authenticates every request to a space (see the module docs) and
/// leaves its [`SpaceCaller`] in the request. A path naming no space goes
/// on to the routes (which answer 404).
pub(super) async fn authenticate_space(state: AppState, req: Request, next: Next) -> Response {
    super::mark_list_gets(&req);
    let (mut parts, body) = req.into_parts();
    let Some(space) = space_of(parts.uri.path()) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    match caller(&state, &parts, space).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) if e.code == ErrorCode::Unauthorized => {
            let mut response = e.into_response();
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, bearer_challenge(bearer(&parts).is_some()));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The RFC 6750 (3) challenge of a 401: `Bearer realm="thingstead"`, with
/// `error="invalid_token"` when a bearer token was sent (and refused).
fn bearer_challenge(token_sent: bool) -> HeaderValue {
    HeaderValue::from_static(if token_sent {
        "Bearer realm=\"thingstead\", error=\"invalid_token\", error_description=\"the token is invalid, expired or revoked\""
    } else {
        "Bearer realm=\"thingstead\""
    })
}

async fn caller(state: &AppState, parts: &Parts, space: &str) -> Result<SpaceCaller, ApiError> {
    let Some(token) = bearer(parts) else {
        refused(parts.uri.path(), "no bearer token");
        return Err(unauthorized("a bearer token is required (Authorization: Bearer TOKEN)"));
    };
    let principal = match state.platform.authenticate(token).await {
        Ok(p) => p,
        Err(e) if e.kind() == ErrorKind::Unauthorized => {
            refused(parts.uri.path(), "invalid token");
            return Err(unauthorized("the token is invalid, expired or revoked"));
        }
        Err(e) => return Err(e.into()),
    };
    match principal.tenant() {
        Ok(tenant) if tenant.name().as_str() == space => Ok(SpaceCaller {
            tenant: tenant.clone(),
            principal,
        }),
        _ => {
            refused(parts.uri.path(), "another space");
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "this token does not give access to this space",
            ))
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_space_is_the_first_segment_after_the_prefix() {
        assert_eq!(space_of("/spaces/acme/things"), Some("acme"));
        assert_eq!(space_of("/spaces/acme/"), Some("acme"));
        assert_eq!(space_of("/spaces/acme"), None);
        assert_eq!(space_of("/spaces/"), None);
        assert_eq!(space_of("/spaces"), None);
        assert_eq!(space_of("/spaces//things"), None);
        assert_eq!(space_of("/spacesx/acme/things"), None);
    }
}
