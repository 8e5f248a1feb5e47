//! `POST /auth/login` and `POST /auth/token` (WIRE.md B.2): log in with a
//! user's password or a device's / consumer app's JWT, and trade a valid
//! token for a new one. Both answer the EXP auth payload.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde::Deserialize;
use serde_json::{Value, json};
use thingstead_core::{Actor, ErrorKind, Login, Session};

use super::principal::{Authenticated, Bearer, refused};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::json::ApiJson;

/// The login body: a user's credentials, or a login JWT.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a login body: {\"username\", \"password\", \"organization\"} for a user, or {\"token\": JWT} for a device or a consumer app"
)]
pub(crate) enum LoginBody {
    /// `{"token": <JWT>}` (device, consumer app, pairing).
    Token {
        /// The compact JWT.
        token: String,
    },
    /// `{"username", "password", "organization"}`.
    User {
        /// Username.
        username: String,
        /// Password.
        password: String,
        /// Organization name.
        organization: String,
    },
}

impl From<LoginBody> for Login {
    fn from(body: LoginBody) -> Self {
        match body {
            LoginBody::Token { token } => Login::Token(token),
            LoginBody::User {
                username,
                password,
                organization,
            } => Login::User {
                username,
                password,
                organization,
            },
        }
    }
}

/// `POST /auth/login`: 200 + the auth payload, 401 for bad credentials.
pub(crate) async fn login(
    State(state): State<AppState>,
    uri: Uri,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    match state.platform.login(body.into()).await {
        Ok(session) => Ok(Json(payload(&session))),
        Err(e) => {
            if e.kind() == ErrorKind::Unauthorized {
                refused(uri.path(), "bad login credentials");
            }
            Err(e.into())
        }
    }
}

/// `POST /auth/token` with a valid, unrestricted bearer token: 200 + a new
/// auth payload; 401 otherwise.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Bearer(token): Bearer,
) -> Result<Json<Value>, ApiError> {
    let session = state.platform.refresh(&token).await?;
    Ok(Json(payload(&session)))
}

/// The EXP auth payload: `token`, `expiration` (absolute, epoch ms),
/// `identity` and `restrictedToken`.
pub(crate) fn payload(session: &Session) -> Value {
    let principal = &session.principal;
    let actor = principal.actor();
    let mut identity = json!({
        "type": actor.kind(),
        "uuid": actor.id(),
        "organization": principal.org(),
    });
    if let (Actor::User { username }, Some(obj)) = (actor, identity.as_object_mut()) {
        obj.insert("username".into(), json!(username));
    }
    json!({
        "token": session.token,
        "expiration": session.expires_at_ms,
        "identity": identity,
        "restrictedToken": session.restricted_token,
    })
}
