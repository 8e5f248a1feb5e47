//! The socket.io endpoint at `/socket.io/` (WIRE.md B.6, B.7): exp-sdk's
//! Engine.IO 3 long-polling client (served by socketioxide) and current
//! Engine.IO 4 websocket clients (served by `eio4`), with `subscribe` →
//! `subscribed` and `broadcast` events; rooms are shared by both kinds.
//!
//! | file | concern |
//! |---|---|
//! | `eio4/` | Engine.IO 4 websocket connections, served without socketioxide (memory per connection) |
//! | `eio3_polling.rs` | EIO3 handshakes: token checked (401 when bad), polling payloads re-framed in XHR2 binary framing |
//! | `connect.rs` | admission (token, connection limits), shared; socketioxide's connect middleware, handlers registered before `40` is sent |
//! | `subscribe.rs` | `subscribe` → the rooms the caller may use (shared) → `subscribed` |
//! | `fanout.rs` | one bus subscription per node: each delivery encoded once, written to every subscribed socket |
//! | `limits.rs` | connection slots (global, per organization), the metrics |
//!
//! Rooms are named by the canonical encoded channel id, which is also the
//! `channel` of every `broadcast` event and what `subscribed` answers.
//!
//! # Memory per connection
//!
//! Engine.IO 4 websocket clients (the SDK, the CLI, current socket.io
//! clients) are served by `eio4`: one task per connection, a websocket
//! read buffer of `ws_read_buffer_bytes`, a queue of `queue_packets`
//! frames, each broadcast encoded once (BENCHMARKS.md §5 has the bytes
//! per idle connection). The Engine.IO 3 polling clients (exp-sdk) and
//! Engine.IO 4 polling clients go to socketioxide, which keeps its own
//! tasks per connection; for those this module sets the same read buffer
//! and queue length ([`crate::settings::RealtimeSettings`]), Engine.IO's
//! `maxPayload` derived from the broadcast payload limit, and a connect
//! timeout that closes connections that never authenticate.

mod connect;
mod eio3_polling;
mod eio4;
mod fanout;
mod limits;
mod subscribe;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, TransportType};
use thingstead_core::Platform;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::settings::RealtimeSettings;

pub use limits::{CONNECTIONS_GAUGE, DROPPED_COUNTER};

/// Where socket.io is served (`/socket.io/`, trailing slash included).
pub const PATH: &str = "/socket.io";

/// What every socket.io handler shares.
#[derive(Clone)]
struct RealtimeState {
    platform: Platform,
    settings: Arc<RealtimeSettings>,
    limits: Arc<limits::ConnectionLimits>,
}

/// Engine.IO's `maxPayload`: room for the largest broadcast payload,
/// escaped, plus its envelope.
fn engine_max_payload(settings: &RealtimeSettings) -> u64 {
    (settings.max_payload_bytes as u64).saturating_mul(2) + 8192
}

/// The socket.io server of this node.
#[derive(Clone)]
pub struct Realtime {
    io: SocketIo,
    layer: SocketIoLayer,
    platform: Platform,
    eio4: eio4::Eio4,
}

impl Realtime {
    /// A socket.io server authenticating with `platform`, bounded by `settings`.
    pub fn new(platform: Platform, settings: &RealtimeSettings) -> Self {
        let state = RealtimeState {
            platform: platform.clone(),
            settings: Arc::new(settings.clone()),
            limits: Arc::new(limits::ConnectionLimits::new(settings)),
        };
        let engine_max_payload = engine_max_payload(settings);
        let (layer, io) = SocketIo::builder()
            .req_path(PATH)
            .ping_interval(Duration::from_millis(settings.ping_interval_ms))
            .ping_timeout(Duration::from_millis(settings.ping_timeout_ms))
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .max_buffer_size(settings.queue_packets)
            .max_payload(engine_max_payload)
            .ws_read_buffer_size(settings.ws_read_buffer_bytes)
            .transports([TransportType::Polling, TransportType::Websocket])
            .with_state(state.clone())
            .build_layer();
        io.ns("/", connected.with(connect::authenticate));
        let eio4 = eio4::Eio4 {
            state,
            hub: Arc::default(),
        };
        Self {
            io,
            layer,
            platform,
            eio4,
        }
    }

    /// The `/socket.io/` routes: Engine.IO 4 websocket opens served by
    /// `eio4`, everything else by socketioxide behind the EIO3 adapter.
    pub fn routes(&self) -> Router<AppState> {
        Router::new()
            .route(PATH, any(not_socket_io))
            .route(&format!("{PATH}/"), any(not_socket_io))
            .layer(self.layer.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.platform.clone(),
                eio3_polling::adapt,
            ))
            .layer(axum::middleware::from_fn_with_state(self.eio4.clone(), eio4::intercept))
    }

    /// Delivers the bus's broadcasts to this node's sockets until `token`
    /// is cancelled, then closes every connection.
    pub async fn run_fanout(self, token: CancellationToken) {
        let limits = self.eio4.state.limits.clone();
        fanout::run(self.io, self.eio4.hub, limits, self.platform.events(), token).await;
    }
}

/// The connect handler: everything happened in [`connect::authenticate`].
async fn connected() {}

/// Reached only by requests socketioxide does not take (it takes every
/// request under [`PATH`]).
async fn not_socket_io() -> axum::http::StatusCode {
    axum::http::StatusCode::NOT_FOUND
}
