//! The device face: the Hologram-compatible TCP protocol and the
//! Hologram-style REST API under `/api/1`.

pub mod api;
mod connection;
mod ingest;
pub mod listener;

use thingstead_core::Platform;

use thingstead_proto::device::ResultCode;

use crate::settings::DeviceSettings;
use crate::telemetry::ListenerMetrics;

/// What device connections need.
#[derive(Clone)]
pub struct DeviceFace {
    platform: Platform,
    settings: DeviceSettings,
    connections: ListenerMetrics,
    frames: FrameMetrics,
}

impl DeviceFace {
    /// A face over the platform with these limits.
    pub fn new(platform: Platform, settings: DeviceSettings) -> Self {
        Self {
            platform,
            settings,
            connections: ListenerMetrics::new("device_tcp"),
            frames: FrameMetrics::new(),
        }
    }
}

/// `thingstead_device_frames_total` by result, one handle per label.
#[derive(Clone)]
struct FrameMetrics {
    by_code: [metrics::Counter; 10],
    idle_timeout: metrics::Counter,
}

impl FrameMetrics {
    const LABELS: [&'static str; 10] = ["-1", "0", "1", "2", "3", "4", "5", "6", "7", "8"];

    fn new() -> Self {
        Self {
            by_code: Self::LABELS.map(|l| metrics::counter!("thingstead_device_frames_total", "result" => l)),
            idle_timeout: metrics::counter!("thingstead_device_frames_total", "result" => "idle_timeout"),
        }
    }

    fn record(&self, code: ResultCode) {
        if let Some(c) = self.by_code.get((code.code() + 1) as usize) {
            c.increment(1);
        }
    }
}
