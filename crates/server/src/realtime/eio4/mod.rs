//! Engine.IO 4 over websocket (WIRE.md B.7), served by Thingstead itself
//! rather than socketioxide: the clients that open
//! `/socket.io/?EIO=4&transport=websocket` with no `sid` (the Rust SDK, the
//! CLI, current socket.io clients that go straight to websocket). Every
//! other `/socket.io/` request (Engine.IO 3 polling and its upgrade,
//! Engine.IO 4 polling and its upgrade) still goes to socketioxide.
//!
//! # Why our own
//!
//! Issue 8 asks for ≤ 16 KiB of RSS per idle subscribed connection;
//! socketioxide 0.18 holds about 25 KiB with its smallest settings (three
//! tasks per websocket connection, an internal channel and buffers per
//! socket). This path holds, per connection: ONE task (reader, writer and
//! heartbeat in one `select!`), the websocket's read buffer
//! (`realtime.ws_read_buffer_bytes`), a bounded queue of
//! `realtime.queue_packets` frames, and the session. A broadcast is encoded
//! once and the same bytes (reference-counted) are queued for every member
//! ([`hub`]). BENCHMARKS.md §5 has the figures.
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | which requests come here; the websocket upgrade handshake (RFC 6455 4.2) |
//! | `connection.rs` | one connection: OPEN, CONNECT (token), `subscribe`, queue, heartbeat |
//! | `hub.rs` | rooms → member queues; delivery without waiting |
//!
//! Behaviour matches the socketioxide path: the same admission
//! ([`super::connect::admit`]) and subscription rules
//! ([`super::subscribe::grant`]); a refused CONNECT gets `44{"message"}`
//! and the connection is closed at once (WIRE.md B.7.4).

mod connection;
pub(crate) mod hub;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use rand::RngCore;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::RealtimeState;

/// What the interception middleware needs.
#[derive(Clone)]
pub(super) struct Eio4 {
    pub(super) state: RealtimeState,
    pub(super) hub: Arc<hub::Hub>,
}

/// A fresh Engine.IO / socket.io session id: 16 random bytes, base64url.
pub(super) fn new_sid() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Takes the Engine.IO 4 websocket opens (see the module docs); passes
/// every other request on.
pub(super) async fn intercept(State(eio4): State<Eio4>, req: Request, next: Next) -> Response {
    if !is_eio4_websocket_open(req.uri().query().unwrap_or("")) {
        return next.run(req).await;
    }
    upgrade(eio4, req)
}

/// `EIO=4`, `transport=websocket` and no `sid` (a `sid` is an upgrade of a
/// polling session, which socketioxide holds).
fn is_eio4_websocket_open(query: &str) -> bool {
    let (mut eio4, mut websocket) = (false, false);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "EIO" => eio4 = value == "4",
            "transport" => websocket = value == "websocket",
            "sid" => return false,
            _ => {}
        }
    }
    eio4 && websocket
}

/// The RFC 6455 server handshake: 101 now, the connection served once
/// hyper hands the socket over.
fn upgrade(eio4: Eio4, mut req: Request) -> Response {
    let Some(key) = websocket_key(req.method(), req.headers()) else {
        return (StatusCode::BAD_REQUEST, "expected a websocket upgrade (RFC 6455)").into_response();
    };
    let accept = derive_accept_key(key.as_bytes());
    let query_token = super::connect::query_token(req.uri());
    let on_upgrade = hyper::upgrade::on(&mut req);
    let settings = &eio4.state.settings;
    let max_message = super::engine_max_payload(settings) as usize;
    let config = WebSocketConfig::default()
        .read_buffer_size(settings.ws_read_buffer_bytes.max(256))
        .write_buffer_size(0)
        .max_write_buffer_size(max_message.saturating_mul(2).max(64 * 1024))
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::debug!(error = %e, "websocket upgrade failed");
                return;
            }
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
        connection::run(ws, eio4.state, eio4.hub, query_token).await;
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// The `Sec-WebSocket-Key` of a valid upgrade request.
fn websocket_key(method: &Method, headers: &HeaderMap) -> Option<String> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    let version_13 = headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?.to_str().ok()?;
    (method == Method::GET
        && has_token(header::UPGRADE, "websocket")
        && has_token(header::CONNECTION, "upgrade")
        && version_13
        && key.len() <= 64)
        .then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fresh_engine_io_4_websocket_opens_are_taken() {
        assert!(is_eio4_websocket_open("EIO=4&transport=websocket"));
        assert!(is_eio4_websocket_open("token=x&transport=websocket&EIO=4"));
        assert!(!is_eio4_websocket_open("EIO=4&transport=websocket&sid=abc"));
        assert!(!is_eio4_websocket_open("EIO=3&transport=websocket"));
        assert!(!is_eio4_websocket_open("EIO=4&transport=polling"));
        assert!(!is_eio4_websocket_open(""));
    }

    #[test]
    fn the_handshake_needs_every_rfc_6455_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        headers.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        assert!(websocket_key(&Method::GET, &headers).is_some());
        assert!(websocket_key(&Method::POST, &headers).is_none());
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("8"));
        assert!(websocket_key(&Method::GET, &headers).is_none());
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "RFC 6455 1.3's example"
        );
    }
}
