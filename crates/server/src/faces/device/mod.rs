//! The device face: the Hologram-compatible TCP protocol and the
//! Hologram-style REST API under `/api/1`.

pub mod api;
mod auth_guard;
mod bounded;
mod codes;
mod connection;
mod ingest;
pub mod listener;
mod lockout;
mod slots;
mod source;
mod throttle;
mod vouched;

use std::sync::Arc;

use thingstead_core::Platform;

use thingstead_proto::device::ResultCode;

use crate::proxy_header::TrustedProxies;
use crate::settings::DeviceSettings;
use crate::telemetry::ListenerMetrics;

/// What device connections need.
#[derive(Clone)]
pub struct DeviceFace {
    platform: Platform,
    settings: DeviceSettings,
    connections: ListenerMetrics,
    frames: FrameMetrics,
    guard: Arc<auth_guard::AuthGuard>,
    slots: Arc<slots::AddressSlots>,
    /// Balancers whose connections begin with a PROXY header.
    proxies: Arc<TrustedProxies>,
}

impl DeviceFace {
    /// A face over the platform with these limits.
    pub fn new(platform: Platform, settings: DeviceSettings) -> Self {
        Self {
            platform,
            connections: ListenerMetrics::new("device_tcp"),
            frames: FrameMetrics::new(),
            guard: Arc::new(auth_guard::AuthGuard::new(
                settings.auth_failures_per_sec,
                settings.auth_failure_burst,
            )),
            slots: slots::AddressSlots::new(settings.max_connections_per_ip),
            proxies: Arc::default(),
            settings,
        }
    }

    /// Connections from `proxies` begin with a PROXY header naming the
    /// device's address (`proxy_protocol.trusted`).
    pub fn behind(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }
}

/// `thingstead_device_frames_total` by result, one handle per label.
#[derive(Clone)]
struct FrameMetrics {
    by_code: [metrics::Counter; 10],
    idle_timeout: metrics::Counter,
    first_byte_timeout: metrics::Counter,
    /// Connections closed at once: their address was at its cap.
    over_address_cap: metrics::Counter,
}

impl FrameMetrics {
    const LABELS: [&'static str; 10] = ["-1", "0", "1", "2", "3", "4", "5", "6", "7", "8"];

    fn new() -> Self {
        Self {
            by_code: Self::LABELS.map(|l| metrics::counter!("thingstead_device_frames_total", "result" => l)),
            idle_timeout: metrics::counter!("thingstead_device_frames_total", "result" => "idle_timeout"),
            first_byte_timeout: metrics::counter!("thingstead_device_frames_total", "result" => "first_byte_timeout"),
            over_address_cap: metrics::counter!(
                "thingstead_connections_refused_total",
                "listener" => "device_tcp",
                "reason" => "per_address_cap"
            ),
        }
    }

    fn record(&self, code: ResultCode) {
        if let Some(c) = self.by_code.get((code.code() + 1) as usize) {
            c.increment(1);
        }
    }
}
