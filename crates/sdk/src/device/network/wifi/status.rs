//! What NetworkManager says about the Wi-Fi device now.

use super::error::{WifiError, bounded};
use super::nm::{Nm, STATE_ACTIVATED};

/// The Wi-Fi device's state, as `thingstead network status --network wifi` prints it.
///
/// ```
/// let s = thingstead::device::WifiStatus {
///     interface: "wlan0".into(),
///     state: "activated".into(),
///     connected: true,
///     ssid: Some("home".into()),
///     bssid: Some("02:00:00:00:00:01".into()),
///     signal: Some(70),
/// };
/// assert!(s.connected);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WifiStatus {
    /// The interface (`wlan0`).
    pub interface: String,
    /// NetworkManager's device state (`activated`, `disconnected`, `config`...).
    pub state: String,
    /// Whether the device is activated.
    pub connected: bool,
    /// The SSID of the access point joined.
    pub ssid: Option<String>,
    /// Its BSSID.
    pub bssid: Option<String>,
    /// Its signal strength, 0-100.
    pub signal: Option<u8>,
}

pub(super) async fn read(nm: &Nm<'_>, interface: Option<&str>) -> Result<WifiStatus, WifiError> {
    let device = nm.wifi_device(interface).await?;
    let proxy = nm.device(&device).await?;
    let interface = bounded("Device.Interface", nm.timeout, proxy.interface()).await?;
    let state = nm.state(&device).await?;
    let ap = if state == STATE_ACTIVATED {
        nm.active_access_point(&device).await?
    } else {
        None
    };
    Ok(WifiStatus {
        interface,
        state: state_name(state).to_owned(),
        connected: state == STATE_ACTIVATED,
        ssid: ap.as_ref().map(|ap| String::from_utf8_lossy(&ap.ssid).into_owned()),
        bssid: ap.as_ref().map(|ap| ap.bssid.clone()),
        signal: ap.as_ref().map(|ap| ap.strength),
    })
}

/// `NMDeviceState` by name.
fn state_name(state: u32) -> &'static str {
    match state {
        10 => "unmanaged",
        20 => "unavailable",
        30 => "disconnected",
        40 => "prepare",
        50 => "config",
        60 => "need-auth",
        70 => "ip-config",
        80 => "ip-check",
        90 => "secondaries",
        100 => "activated",
        110 => "deactivating",
        120 => "failed",
        _ => "unknown",
    }
}
