//! The connect middleware: who is connecting, and whether there is room.
//!
//! socketioxide sends the socket.io CONNECT answer (`40`) after the
//! middleware returns and before its connect handler runs, so the event
//! handlers are registered HERE: a `subscribe` sent right after `40`
//! always finds them (WIRE.md B.7.7).
//!
//! The token comes, in this order, from the Engine.IO 3 handshake (checked
//! by [`super::eio3_polling`], which answered 401 if it was bad), from the
//! CONNECT payload `40{"token":".."}`, or from the `token` query
//! parameter. A missing or bad token, an identity that may use no channel
//! (restricted, pairing), or a full node or organization is refused with
//! `44{"message":".."}`; socketioxide then closes the connection when
//! `realtime.connect_timeout_ms` has passed without a successful CONNECT
//! (the client may try CONNECT again meanwhile).

use std::sync::Arc;

use axum::extract::Query;
use serde::Deserialize;
use serde_json::Value;
use socketioxide::extract::{SocketRef, State, TryData};
use thingstead_core::Principal;

use super::RealtimeState;
use super::limits::{ConnectionSlot, Full};

/// The principal of an Engine.IO 3 handshake, left in the request's
/// extensions by [`super::eio3_polling`].
#[derive(Clone)]
pub(super) struct HandshakePrincipal(pub(super) Principal);

/// An authenticated connection: its caller and its slot (released when
/// the socket disconnects).
pub(super) struct Session {
    pub(super) principal: Principal,
    _slot: ConnectionSlot,
}

/// Why a connection was refused; the text is the `44` message.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    #[error("a token is required (query parameter token, or CONNECT payload {{\"token\": ..}})")]
    NoToken,
    #[error("invalid token")]
    InvalidToken,
    #[error("this identity may not use channels")]
    NoChannels,
    #[error("too many connections on this server")]
    NodeFull,
    #[error("too many connections for this organization")]
    OrganizationFull,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// `token` from a query string, if any.
pub(super) fn query_token(uri: &axum::http::Uri) -> Option<String> {
    Query::<TokenQuery>::try_from_uri(uri)
        .ok()
        .and_then(|q| q.0.token)
        .filter(|t| !t.is_empty())
}

/// Admits a connection whose caller presented `token` (or the principal
/// of an Engine.IO 3 handshake): the token is valid, the identity may use
/// channels, and the node and the organization have a free slot. Shared by
/// socketioxide's connect middleware and [`super::eio4`].
pub(super) async fn admit(
    state: &RealtimeState,
    handshake: Option<Principal>,
    token: Option<String>,
) -> Result<Session, Refused> {
    let path = super::PATH;
    let principal = match handshake {
        Some(p) => p,
        None => {
            let Some(token) = token else {
                crate::faces::app::principal::refused(path, "socket.io connection without a token");
                return Err(Refused::NoToken);
            };
            state.platform.authenticate(&token).await.map_err(|_| {
                crate::faces::app::principal::refused(path, "socket.io connection with an invalid token");
                Refused::InvalidToken
            })?
        }
    };
    if principal.tenant().is_err() || principal.is_restricted() {
        return Err(Refused::NoChannels);
    }
    let slot = state.limits.acquire(principal.org()).map_err(|full| {
        metrics::counter!("thingstead_realtime_refused_total", "reason" => "full").increment(1);
        match full {
            Full::Node => Refused::NodeFull,
            Full::Organization => Refused::OrganizationFull,
        }
    })?;
    Ok(Session { principal, _slot: slot })
}

/// The token of a CONNECT payload `{"token": ".."}`, if any.
pub(super) fn auth_token(auth: Option<&Value>) -> Option<String> {
    auth.and_then(|v| v.get("token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The connect middleware (see the module docs).
pub(super) async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<Value>,
    State(state): State<RealtimeState>,
) -> Result<(), Refused> {
    let handshake = socket.req_parts().extensions.get::<HandshakePrincipal>().cloned();
    let token = auth_token(auth.ok().as_ref()).or_else(|| query_token(&socket.req_parts().uri));
    let session = admit(&state, handshake.map(|HandshakePrincipal(p)| p), token).await?;
    socket.extensions.insert(Arc::new(session));
    socket.on("subscribe", super::subscribe::subscribe);
    socket.on_disconnect(disconnected);
    Ok(())
}

/// Releases the connection's slot now, whoever still holds the socket.
async fn disconnected(socket: SocketRef) {
    socket.extensions.remove::<Arc<Session>>();
}
