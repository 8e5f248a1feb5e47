//! Why a Wi-Fi operation failed, and how NetworkManager's answers map to it.

use std::time::Duration;

use crate::device::NetworkError;

/// Why a Wi-Fi operation failed.
///
/// ```
/// use thingstead::device::WifiError;
/// let e = WifiError::WrongKey { ssid: "home".into() };
/// assert!(e.to_string().contains("wrong key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WifiError {
    /// The D-Bus bus cannot be reached.
    #[error("cannot reach the D-Bus bus at {address}: {reason}")]
    Bus {
        /// The bus address (`system` for the system bus).
        address: String,
        /// Why.
        reason: String,
    },
    /// Nothing owns `org.freedesktop.NetworkManager` on the bus.
    #[error("NetworkManager is not running (no org.freedesktop.NetworkManager on the D-Bus bus)")]
    NoNetworkManager,
    /// NetworkManager has no Wi-Fi device (or none with the configured interface name).
    #[error("no Wi-Fi device{}", .interface.as_deref().map(|i| format!(" named {i}")).unwrap_or_default())]
    NoWifiDevice {
        /// The interface asked for, if any.
        interface: Option<String>,
    },
    /// No access point with this SSID was found by a scan.
    #[error("unknown SSID {ssid:?}: no access point with it was found by a scan")]
    UnknownSsid {
        /// The SSID.
        ssid: String,
    },
    /// The network refused the key (or none was given for a protected network).
    #[error("wrong key for {ssid:?} (or a key is missing): the network refused it")]
    WrongKey {
        /// The SSID.
        ssid: String,
    },
    /// The activation failed for another reason.
    #[error("joining {ssid:?} failed (NetworkManager device state reason {reason})")]
    ActivationFailed {
        /// The SSID.
        ssid: String,
        /// NetworkManager's `NMDeviceStateReason`.
        reason: u32,
    },
    /// Something took longer than allowed.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        after: Duration,
    },
    /// NetworkManager answered with an error.
    #[error("NetworkManager: {0}")]
    NetworkManager(String),
}

impl From<WifiError> for NetworkError {
    fn from(e: WifiError) -> Self {
        NetworkError::System(e.to_string())
    }
}

impl WifiError {
    /// A D-Bus error from a call, in this module's words.
    pub(super) fn from_call(e: zbus::Error) -> Self {
        match e {
            zbus::Error::FDO(fdo)
                if matches!(
                    *fdo,
                    zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
                ) =>
            {
                WifiError::NoNetworkManager
            }
            other => WifiError::NetworkManager(other.to_string()),
        }
    }

    /// The error of an activation that ended with `reason`.
    pub(super) fn from_reason(ssid: &str, reason: u32) -> Self {
        let ssid = ssid.to_owned();
        match reason {
            // NO_SECRETS, SUPPLICANT_DISCONNECT, SUPPLICANT_CONFIG_FAILED,
            // SUPPLICANT_FAILED, SUPPLICANT_TIMEOUT: what a wrong key looks like.
            7..=11 => WifiError::WrongKey { ssid },
            // SSID_NOT_FOUND
            53 => WifiError::UnknownSsid { ssid },
            reason => WifiError::ActivationFailed { ssid, reason },
        }
    }
}

/// `what`, bounded by `after`; D-Bus errors mapped by [`WifiError::from_call`].
pub(super) async fn bounded<T>(
    what: &str,
    after: Duration,
    call: impl std::future::Future<Output = zbus::Result<T>>,
) -> Result<T, WifiError> {
    match tokio::time::timeout(after, call).await {
        Ok(result) => result.map_err(WifiError::from_call),
        Err(_) => Err(WifiError::Timeout {
            what: what.to_owned(),
            after,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_what_is_wrong() {
        assert!(matches!(WifiError::from_reason("x", 7), WifiError::WrongKey { .. }));
        assert!(matches!(WifiError::from_reason("x", 8), WifiError::WrongKey { .. }));
        assert!(matches!(WifiError::from_reason("x", 53), WifiError::UnknownSsid { .. }));
        assert_eq!(
            WifiError::from_reason("x", 2),
            WifiError::ActivationFailed {
                ssid: "x".into(),
                reason: 2
            }
        );
        let e = WifiError::NoWifiDevice {
            interface: Some("wlan1".into()),
        };
        assert_eq!(e.to_string(), "no Wi-Fi device named wlan1");
    }
}
