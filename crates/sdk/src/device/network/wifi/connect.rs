//! Joining the configured SSID: find the access point (scanning if need
//! be), activate a saved connection or add one, wait for the device to
//! activate. Bounded by the connect timeout as a whole.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;
use zbus::{OwnedObjectPath, Variant};

use super::error::{WifiError, bounded};
use super::nm::{AccessPointInfo, STATE_ACTIVATED, STATE_FAILED};
use super::{Inner, WifiOptions};

/// How often the device's state is re-read while waiting (besides its signal).
const POLL: Duration = Duration::from_millis(250);

pub(super) async fn join(inner: &Inner, device: &OwnedObjectPath) -> Result<(), WifiError> {
    let options = &inner.options;
    let nm = inner.nm();
    let deadline = Instant::now() + options.connect_timeout;
    if let Some(ap) = on_our_ssid(inner, device).await? {
        inner.joined(None, &ap);
        return Ok(());
    }
    let ap = find_access_point(inner, device, deadline).await?;

    // Listen before asking, so that no change is missed.
    let proxy = nm.device(device).await?;
    let mut changes = bounded(
        "subscribing to Device.StateChanged",
        options.call_timeout,
        proxy.receive_state_changed(),
    )
    .await?;
    let manager = nm.manager().await?;
    match nm.saved_connection(&options.ssid).await? {
        Some(saved) => {
            tracing::debug!(ssid = %options.ssid, connection = %saved, "activating the saved connection");
            // A key given wins over the saved one (which may be an old or mistyped one).
            if let Some(psk) = &options.psk {
                nm.update_key(&saved, psk).await?;
            }
            bounded(
                "NetworkManager.ActivateConnection",
                options.call_timeout,
                manager.activate_connection(&saved, device, &ap.path),
            )
            .await?;
        }
        None => {
            let settings = new_connection(options);
            bounded(
                "NetworkManager.AddAndActivateConnection",
                options.call_timeout,
                manager.add_and_activate_connection(&settings, device, &ap.path),
            )
            .await?;
        }
    }

    let mut poll = tokio::time::interval(POLL);
    loop {
        let activated = tokio::select! {
            signal = changes.next() => match signal {
                Some(signal) => {
                    let args = signal.args().map_err(WifiError::from_call)?;
                    if *args.new_state() == STATE_FAILED {
                        return Err(WifiError::from_reason(&options.ssid, *args.reason()));
                    }
                    *args.new_state() == STATE_ACTIVATED
                }
                None => nm.state(device).await? == STATE_ACTIVATED,
            },
            _ = poll.tick() => {
                let (state, reason) = bounded("Device.StateReason", options.call_timeout, proxy.state_reason()).await?;
                if state == STATE_FAILED {
                    return Err(WifiError::from_reason(&options.ssid, reason));
                }
                state == STATE_ACTIVATED
            }
            () = tokio::time::sleep_until(deadline) => {
                // Do not let a late activation connect behind the caller's back.
                let _ = bounded("Device.Disconnect", options.call_timeout, proxy.disconnect()).await;
                return Err(WifiError::Timeout {
                    what: format!("joining {:?}", options.ssid),
                    after: options.connect_timeout,
                });
            }
        };
        // Activated, and on our SSID (not still on the one it is leaving).
        if activated && let Some(ap) = on_our_ssid(inner, device).await? {
            inner.joined(None, &ap);
            return Ok(());
        }
    }
}

/// The access point joined when the device is activated on our SSID.
async fn on_our_ssid(inner: &Inner, device: &OwnedObjectPath) -> Result<Option<AccessPointInfo>, WifiError> {
    let nm = inner.nm();
    if nm.state(device).await? != STATE_ACTIVATED {
        return Ok(None);
    }
    Ok(nm
        .active_access_point(device)
        .await?
        .filter(|ap| ap.ssid == inner.options.ssid.as_bytes()))
}

/// The access point for our SSID: from the last scan, else from a new one
/// (waiting at most the scan timeout).
async fn find_access_point(
    inner: &Inner,
    device: &OwnedObjectPath,
    deadline: Instant,
) -> Result<AccessPointInfo, WifiError> {
    let nm = inner.nm();
    let ssid = &inner.options.ssid;
    if let Some(ap) = nm.find_access_point(device, ssid).await? {
        return Ok(ap);
    }
    if let Err(e) = nm.request_scan(device).await {
        tracing::debug!(error = %e, "NetworkManager refused a scan; using its last results");
    }
    let scan_deadline = deadline.min(Instant::now() + inner.options.scan_timeout);
    loop {
        tokio::time::sleep(POLL.min(scan_deadline.saturating_duration_since(Instant::now()))).await;
        if let Some(ap) = nm.find_access_point(device, ssid).await? {
            return Ok(ap);
        }
        if Instant::now() >= scan_deadline {
            return Err(WifiError::UnknownSsid { ssid: ssid.clone() });
        }
    }
}

/// A new connection profile for the SSID (WPA-PSK when a key is given).
fn new_connection(options: &WifiOptions) -> HashMap<&'static str, HashMap<&'static str, Variant<'_>>> {
    let mut settings = HashMap::new();
    settings.insert(
        "connection",
        HashMap::from([
            ("id", Variant::from(options.ssid.as_str())),
            ("type", Variant::from("802-11-wireless")),
        ]),
    );
    settings.insert(
        "802-11-wireless",
        HashMap::from([
            ("ssid", Variant::from(options.ssid.as_bytes().to_vec())),
            ("mode", Variant::from("infrastructure")),
        ]),
    );
    if let Some(psk) = &options.psk {
        settings.insert(
            "802-11-wireless-security",
            HashMap::from([
                ("key-mgmt", Variant::from("wpa-psk")),
                ("psk", Variant::from(psk.as_str())),
            ]),
        );
    }
    settings
}
