//! The device face: the Hologram-compatible TCP protocol and the
//! Hologram-style REST API under `/api/1`.

pub mod api;
mod connection;
mod ingest;
pub mod listener;

use thingstead_core::Platform;

use crate::settings::DeviceSettings;

/// What device connections need.
#[derive(Clone)]
pub struct DeviceFace {
    platform: Platform,
    settings: DeviceSettings,
}

impl DeviceFace {
    /// A face over the platform with these limits.
    pub fn new(platform: Platform, settings: DeviceSettings) -> Self {
        Self { platform, settings }
    }
}
