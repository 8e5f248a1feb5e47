//! Enforces per-organization message retention in the background.

use std::time::Duration;

use thingstead_core::Platform;
use tokio_util::sync::CancellationToken;

/// Sweeps every `interval_secs` until `token` is cancelled.
pub(crate) async fn run(platform: Platform, interval_secs: u64, token: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(interval_secs.max(1)));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = tick.tick() => {}
        }
        match platform.enforce_retention().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "retention removed old messages"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
    }
}
