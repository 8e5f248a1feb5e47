//! `POST /oauth2/token` (RFC 6749 4.4, client credentials) and
//! `POST /oauth2/revoke` (RFC 7009), as the IoT Studio client calls them
//! (WIRE.md A.2).
//!
//! Both take a form body (`application/x-www-form-urlencoded`, at most
//! [`OAUTH2_BODY`] bytes, no parameter twice) and authenticate the client
//! with `client_id` and `client_secret` in the body (client_secret_post) or
//! in `Authorization: Basic` (client_secret_basic, RFC 6749 2.3.1), never
//! both. Every answer is JSON with `Cache-Control: no-store`; errors are
//! RFC 6749 5.2 objects `{"error": "<code>", "error_description": "..."}`:
//!
//! | error | status | when |
//! |---|---|---|
//! | `invalid_request` | 400 | not a form, a parameter missing or repeated, two client authentications, a token of another client (revoke) |
//! | `invalid_client` | 401 | unknown client, wrong secret, no client authentication (`WWW-Authenticate: Basic` when Basic was used) |
//! | `unsupported_grant_type` | 400 | a `grant_type` other than `client_credentials` |
//! | `invalid_scope` | 400 | a requested scope the client may not be granted |
//! | `invalid_request` | 413 | a body over the limit |
//! | `server_error` / `temporarily_unavailable` | 500 / 503 | the server failed / the store is unavailable |
//!
//! A token request costs one store read by primary key, one SHA-256 and
//! one HMAC: cheap enough for clients that ask before every request.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use thingstead_core::{CoreError, ErrorKind, OAuthError};

use super::auth;
use crate::app::AppState;
use crate::http::error::{ErrorCode, ErrorRenderer};

/// Body limit of both endpoints: a token (at most 4 KiB), a client id and
/// secret, scopes.
pub const OAUTH2_BODY: usize = 8 * 1024;
/// Form parameters looked at, at most.
const MAX_PARAMS: usize = 16;

/// An RFC 6749 5.2 error answer.
struct OAuthFailure {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// The client authenticated with `Authorization: Basic`.
    basic: bool,
}

impl OAuthFailure {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            basic: false,
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            auth::refused("/oauth2", "client authentication failed");
        }
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = no_store((self.status, Json(body)).into_response());
        if self.basic && self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"thingstead\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn from_core(e: CoreError) -> OAuthFailure {
    match e.kind() {
        ErrorKind::Unavailable => OAuthFailure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the store is unavailable; try again",
        ),
        _ => {
            tracing::error!(error = %e, "OAuth2 request failed");
            OAuthFailure::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
        }
    }
}

fn from_oauth(e: OAuthError, basic: bool) -> OAuthFailure {
    let mut failure = match e {
        OAuthError::InvalidClient => OAuthFailure::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        OAuthError::InvalidScope(m) => OAuthFailure::new(StatusCode::BAD_REQUEST, "invalid_scope", m),
        OAuthError::InvalidRequest(m) => OAuthFailure::invalid_request(m),
        OAuthError::Core(e) => from_core(e),
    };
    failure.basic = basic;
    failure
}

/// The parameters of a form body, each at most once.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(form: Result<Form<Vec<(String, String)>>, FormRejection>) -> Result<Self, OAuthFailure> {
        let Form(pairs) = form.map_err(|r| match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => OAuthFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "request body is over the size limit",
            ),
            _ => OAuthFailure::invalid_request(
                "the body must be a form (Content-Type: application/x-www-form-urlencoded)",
            ),
        })?;
        if pairs.len() > MAX_PARAMS {
            return Err(OAuthFailure::invalid_request("too many parameters"));
        }
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(n, _)| n == name) {
                let shown: String = name.chars().take(32).collect();
                return Err(OAuthFailure::invalid_request(format!(
                    "parameter {shown:?} is given more than once"
                )));
            }
        }
        Ok(Self(pairs))
    }

    /// A parameter; an empty value counts as absent (RFC 6749 3.1).
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &str) -> Result<&str, OAuthFailure> {
        self.get(name)
            .ok_or_else(|| OAuthFailure::invalid_request(format!("parameter {name} is missing")))
    }
}

/// The client's id and secret, and whether they came by Basic.
struct ClientAuth {
    id: String,
    secret: String,
    basic: bool,
}

/// Client authentication: client_secret_basic or client_secret_post, not
/// both. An `Authorization` header of another scheme is not looked at.
fn client_auth(headers: &HeaderMap, params: &Params) -> Result<ClientAuth, OAuthFailure> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials);
    let in_body = (params.get("client_id"), params.get("client_secret"));
    let Some(credentials) = basic else {
        return match in_body {
            (Some(id), Some(secret)) => Ok(ClientAuth {
                id: id.to_owned(),
                secret: secret.to_owned(),
                basic: false,
            }),
            _ => Err(from_oauth(OAuthError::InvalidClient, false)),
        };
    };
    if in_body.1.is_some() {
        return Err(OAuthFailure::invalid_request(
            "use one client authentication: Authorization: Basic, or client_id and client_secret in the body",
        ));
    }
    let failure = || from_oauth(OAuthError::InvalidClient, true);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(failure)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(failure)?;
    match (form_decode(id), form_decode(secret)) {
        // A client_id in the body beside Basic must name the same client.
        (Some(id), Some(_)) if in_body.0.is_some_and(|body_id| body_id != id) => Err(OAuthFailure::invalid_request(
            "client_id in the body is not the client of Authorization: Basic",
        )),
        (Some(id), Some(secret)) => Ok(ClientAuth {
            id,
            secret,
            basic: true,
        }),
        _ => Err(failure()),
    }
}

/// Decodes `application/x-www-form-urlencoded` text (RFC 6749 2.3.1 has
/// Basic credentials encoded so); `None` when it does not decode to UTF-8.
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// `POST /oauth2/token`.
pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    match issue(&state, &headers, form).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    }
}

async fn issue(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, OAuthFailure> {
    let params = Params::parse(form)?;
    match params.require("grant_type")? {
        "client_credentials" => {}
        _ => {
            return Err(OAuthFailure::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            ));
        }
    }
    let client = client_auth(headers, &params)?;
    let requested: Vec<String> = params
        .get("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let ttl = std::time::Duration::from_secs(state.settings.things.token_ttl_secs);
    let token = state
        .platform
        .issue_client_token(&client.id, &client.secret, &requested, ttl)
        .await
        .map_err(|e| from_oauth(e, client.basic))?;
    let body = json!({
        "access_token": token.access_token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": token.scopes.join(" "),
    });
    Ok(no_store(Json(body).into_response()))
}

/// `POST /oauth2/revoke`: 200 `{}` when the token is revoked, and also
/// when it was invalid, expired or revoked already (RFC 7009 2.2).
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let result = async {
        let params = Params::parse(form)?;
        let token = params.require("token")?;
        let client = client_auth(&headers, &params)?;
        state
            .platform
            .revoke_client_token(&client.id, &client.secret, token)
            .await
            .map_err(|e| from_oauth(e, client.basic))
    }
    .await;
    match result {
        Ok(()) => no_store(Json(json!({})).into_response()),
        Err(failure) => failure.into_response(),
    }
}

/// The shape of errors the framework and the face's layers make under
/// `/oauth2` (unknown route, method, body limit, timeout): RFC 6749 5.2 too.
pub const ERRORS: ErrorRenderer = ErrorRenderer(render_error);

fn render_error(code: ErrorCode, message: &str, status: StatusCode) -> Response {
    let error = match code {
        ErrorCode::Unavailable => "temporarily_unavailable",
        ErrorCode::Internal => "server_error",
        ErrorCode::Unauthorized => "invalid_client",
        _ => "invalid_request",
    };
    let body = json!({ "error": error, "error_description": message });
    no_store((status, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
        assert_eq!(form_decode("bad%zz"), None);
        assert_eq!(form_decode("cut%4"), None);
        assert_eq!(form_decode("%ff"), None, "not UTF-8");
    }
}
