//! Following the Wi-Fi device: its `StateChanged` signal, and a re-read of
//! its state (with a signal sample) every sample interval, so that a change
//! NetworkManager makes on its own becomes an event.

use std::sync::Weak;
use std::time::Duration;

use futures::StreamExt;
use zbus::OwnedObjectPath;

use super::Inner;
use super::error::{WifiError, bounded};
use super::nm::STATE_ACTIVATED;

pub(super) async fn run(inner: Weak<Inner>, device: OwnedObjectPath) {
    let Some((bus, interval, timeout)) = inner.upgrade().map(|i| {
        (
            i.bus.clone(),
            i.options.sample_interval.max(Duration::from_millis(50)),
            i.options.call_timeout,
        )
    }) else {
        return;
    };
    let nm = super::nm::Nm { bus: &bus, timeout };
    let mut changes = match nm.device(&device).await {
        Ok(proxy) => bounded(
            "subscribing to Device.StateChanged",
            timeout,
            proxy.receive_state_changed(),
        )
        .await
        .map_err(|e| tracing::warn!(error = %e, "no Wi-Fi state signals; polling only"))
        .ok(),
        Err(e) => {
            tracing::warn!(error = %e, "no Wi-Fi state signals; polling only");
            None
        }
    };
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let signalled = async {
            match changes.as_mut() {
                Some(stream) => stream.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = signalled => {
                let Some(signal) = signal else {
                    changes = None;
                    continue;
                };
                let Some(inner) = inner.upgrade() else { return };
                // The signal may be older than a change made since: read the state now.
                tracing::trace!(state = ?signal.args().map(|a| *a.new_state()).ok(), "Wi-Fi device state changed");
                if let Err(e) = refresh(&inner, &device).await {
                    tracing::debug!(error = %e, "reading the Wi-Fi state");
                }
            }
            _ = tick.tick() => {
                let Some(inner) = inner.upgrade() else { return };
                if let Err(e) = refresh(&inner, &device).await {
                    tracing::debug!(error = %e, "reading the Wi-Fi state");
                }
            }
        }
    }
}

/// Re-reads the device: connected while it is activated on our SSID
/// (sampling the signal), disconnected otherwise.
pub(super) async fn refresh(inner: &Inner, device: &OwnedObjectPath) -> Result<(), WifiError> {
    let seen = Some(inner.epoch());
    let nm = inner.nm();
    let state = match nm.state(device).await {
        Ok(state) => state,
        Err(e) => {
            // The device (or NetworkManager) is gone.
            inner.apply(seen, false);
            return Err(e);
        }
    };
    if state != STATE_ACTIVATED {
        inner.apply(seen, false);
        return Ok(());
    }
    match nm.active_access_point(device).await? {
        Some(ap) if ap.ssid == inner.options.ssid.as_bytes() => inner.joined(seen, &ap),
        _ => {
            inner.apply(seen, false);
        }
    }
    Ok(())
}
