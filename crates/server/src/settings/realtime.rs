//! `[realtime]`: the socket.io endpoint (`/socket.io/`) and broadcasts
//! (`/api/networks/current/...`).

use serde::{Deserialize, Serialize};

/// Realtime channels: socket.io connections, subscriptions, broadcasts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeSettings {
    /// Socket.io connections this node serves at once; more are refused
    /// with a CONNECT error (each is also an HTTP connection, bounded by
    /// `http_limits.max_connections` and `max_connections_per_ip`).
    pub max_connections: usize,
    /// Socket.io connections one organization may hold on this node.
    pub max_connections_per_org: usize,
    /// Channels one connection may subscribe to; ids beyond it are left
    /// out of `subscribed`.
    pub max_subscriptions_per_socket: usize,
    /// A connection must complete the socket.io CONNECT (token checked)
    /// within this many ms, or it is closed.
    pub connect_timeout_ms: u64,
    /// Engine.IO `pingInterval`, ms (protocol 4: the server pings; protocol
    /// 3: the client does).
    pub ping_interval_ms: u64,
    /// Engine.IO `pingTimeout`, ms: a connection silent for
    /// `ping_interval_ms + ping_timeout_ms` is closed.
    pub ping_timeout_ms: u64,
    /// The largest broadcast or response payload (compact JSON), bytes;
    /// larger ones are refused with 400. Engine.IO's `maxPayload` is
    /// derived from it (twice this plus 8 KiB).
    pub max_payload_bytes: usize,
    /// Packets queued for one connection; when a connection does not read
    /// and its queue is full, further broadcasts to it are dropped and
    /// counted in `thingstead_realtime_dropped_total` (the others never wait).
    pub queue_packets: usize,
    /// Read buffer of a websocket connection, bytes (allocated per
    /// connection: small keeps idle connections cheap; larger frames still
    /// arrive, in several reads).
    pub ws_read_buffer_bytes: usize,
    /// The longest a broadcast request may wait for responses, ms (its
    /// `timeout` is clamped to this; keep it below `http_limits.request_timeout_secs`).
    pub max_broadcast_timeout_ms: u64,
    /// Responses one broadcast request collects at most.
    pub max_responses: usize,
    /// Bytes of responses (compact JSON) one broadcast request collects at most.
    pub max_response_bytes: usize,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_org: 10_000,
            max_subscriptions_per_socket: 256,
            connect_timeout_ms: 10_000,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            max_payload_bytes: 64 * 1024,
            queue_packets: 64,
            ws_read_buffer_bytes: 1024,
            max_broadcast_timeout_ms: 10_000,
            max_responses: 1000,
            max_response_bytes: 1024 * 1024,
        }
    }
}

impl RealtimeSettings {
    /// Checks values the types cannot.
    pub fn validate(&self) -> Result<(), String> {
        let nonzero = [
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_org", self.max_connections_per_org as u64),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("ping_interval_ms", self.ping_interval_ms),
            ("ping_timeout_ms", self.ping_timeout_ms),
            ("max_payload_bytes", self.max_payload_bytes as u64),
            ("queue_packets", self.queue_packets as u64),
            ("ws_read_buffer_bytes", self.ws_read_buffer_bytes as u64),
        ];
        match nonzero.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(format!("realtime.{name} must be at least 1")),
            None => Ok(()),
        }
    }
}
