//! Questions to NetworkManager: its Wi-Fi device, the access points it
//! sees, the connections it saved. Every call is bounded.

use std::collections::HashMap;
use std::time::Duration;

use zbus::proxy::{Builder, CacheProperties, Defaults};
use zbus::{Connection, OwnedObjectPath, Proxy};

use super::error::{WifiError, bounded};
use super::proxies::{
    AccessPointProxy, DEVICE_TYPE_WIFI, DeviceProxy, NetworkManagerProxy, SettingsConnectionProxy, SettingsProxy,
    WirelessProxy,
};

/// `NMDeviceState` of an activated device.
pub(super) const STATE_ACTIVATED: u32 = 100;
/// `NMDeviceState` of a failed activation.
pub(super) const STATE_FAILED: u32 = 120;

/// An access point as NetworkManager describes it.
#[derive(Debug, Clone)]
pub(super) struct AccessPointInfo {
    pub path: OwnedObjectPath,
    pub ssid: Vec<u8>,
    pub bssid: String,
    pub strength: u8,
}

/// NetworkManager on one bus, with a bound on every call.
#[derive(Debug, Clone, Copy)]
pub(super) struct Nm<'a> {
    pub bus: &'a Connection,
    pub timeout: Duration,
}

impl Nm<'_> {
    async fn call<T>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = zbus::Result<T>>,
    ) -> Result<T, WifiError> {
        bounded(what, self.timeout, call).await
    }

    /// An uncached proxy of type `T` on `path`.
    pub(super) async fn proxy<T>(&self, path: &OwnedObjectPath) -> Result<T, WifiError>
    where
        T: From<Proxy<'static>> + Defaults,
    {
        let builder = Builder::<T>::new(self.bus)
            .path(path.clone())
            .cache_properties(CacheProperties::No);
        self.call("creating a D-Bus proxy", builder.build()).await
    }

    pub(super) async fn manager(&self) -> Result<NetworkManagerProxy<'static>, WifiError> {
        let builder = NetworkManagerProxy::builder(self.bus).cache_properties(CacheProperties::No);
        self.call("creating a D-Bus proxy", builder.build()).await
    }

    /// The Wi-Fi device (named `interface` when given).
    pub(super) async fn wifi_device(&self, interface: Option<&str>) -> Result<OwnedObjectPath, WifiError> {
        let manager = self.manager().await?;
        let devices = self.call("NetworkManager.GetDevices", manager.get_devices()).await?;
        for path in devices {
            let device: DeviceProxy<'static> = self.proxy(&path).await?;
            // A device that vanished between the listing and the question is not ours.
            let Ok(kind) = self.call("Device.DeviceType", device.device_type()).await else {
                continue;
            };
            if kind != DEVICE_TYPE_WIFI {
                continue;
            }
            match interface {
                None => return Ok(path),
                Some(wanted) => {
                    if self.call("Device.Interface", device.interface()).await? == wanted {
                        return Ok(path);
                    }
                }
            }
        }
        Err(WifiError::NoWifiDevice {
            interface: interface.map(str::to_owned),
        })
    }

    pub(super) async fn device(&self, path: &OwnedObjectPath) -> Result<DeviceProxy<'static>, WifiError> {
        self.proxy(path).await
    }

    pub(super) async fn state(&self, device: &OwnedObjectPath) -> Result<u32, WifiError> {
        let device = self.device(device).await?;
        self.call("Device.State", device.state()).await
    }

    pub(super) async fn access_point(&self, path: &OwnedObjectPath) -> Result<AccessPointInfo, WifiError> {
        let ap: AccessPointProxy<'static> = self.proxy(path).await?;
        Ok(AccessPointInfo {
            path: path.clone(),
            ssid: self.call("AccessPoint.Ssid", ap.ssid()).await?,
            bssid: self.call("AccessPoint.HwAddress", ap.hw_address()).await?,
            strength: self.call("AccessPoint.Strength", ap.strength()).await?,
        })
    }

    /// The strongest access point with `ssid` among those last scanned.
    pub(super) async fn find_access_point(
        &self,
        device: &OwnedObjectPath,
        ssid: &str,
    ) -> Result<Option<AccessPointInfo>, WifiError> {
        let wireless: WirelessProxy<'static> = self.proxy(device).await?;
        let paths = self
            .call("Wireless.GetAccessPoints", wireless.get_access_points())
            .await?;
        let mut best: Option<AccessPointInfo> = None;
        for path in paths {
            // An access point that went away meanwhile is skipped.
            let Ok(ap) = self.access_point(&path).await else {
                continue;
            };
            if ap.ssid == ssid.as_bytes() && best.as_ref().is_none_or(|b| ap.strength > b.strength) {
                best = Some(ap);
            }
        }
        Ok(best)
    }

    /// Asks for a scan (NetworkManager may refuse one too soon after the last).
    pub(super) async fn request_scan(&self, device: &OwnedObjectPath) -> Result<(), WifiError> {
        let wireless: WirelessProxy<'static> = self.proxy(device).await?;
        self.call("Wireless.RequestScan", wireless.request_scan(&HashMap::new()))
            .await
    }

    /// The access point the device has joined, if any.
    pub(super) async fn active_access_point(
        &self,
        device: &OwnedObjectPath,
    ) -> Result<Option<AccessPointInfo>, WifiError> {
        let wireless: WirelessProxy<'static> = self.proxy(device).await?;
        let path = self
            .call("Wireless.ActiveAccessPoint", wireless.active_access_point())
            .await?;
        if path.as_str() == "/" {
            return Ok(None);
        }
        self.access_point(&path).await.map(Some)
    }

    /// Sets the key of the saved connection at `path` (its other settings kept).
    pub(super) async fn update_key(&self, path: &OwnedObjectPath, psk: &str) -> Result<(), WifiError> {
        let connection: SettingsConnectionProxy<'static> = self.proxy(path).await?;
        let mut values = self.call("Connection.GetSettings", connection.get_settings()).await?;
        let value = |v: zbus::Variant<'_>| {
            zbus::OwnedVariant::try_from(v).map_err(|e| WifiError::NetworkManager(e.to_string()))
        };
        let security = values.entry("802-11-wireless-security".to_owned()).or_default();
        security.insert("key-mgmt".to_owned(), value(zbus::Variant::from("wpa-psk"))?);
        security.insert("psk".to_owned(), value(zbus::Variant::from(psk))?);
        self.call("Connection.Update", connection.update(&values)).await
    }

    /// A connection NetworkManager saved for `ssid`, if any.
    pub(super) async fn saved_connection(&self, ssid: &str) -> Result<Option<OwnedObjectPath>, WifiError> {
        let settings = {
            let builder = SettingsProxy::builder(self.bus).cache_properties(CacheProperties::No);
            self.call("creating a D-Bus proxy", builder.build()).await?
        };
        let paths = self
            .call("Settings.ListConnections", settings.list_connections())
            .await?;
        for path in paths {
            let connection: SettingsConnectionProxy<'static> = self.proxy(&path).await?;
            let Ok(values) = self.call("Connection.GetSettings", connection.get_settings()).await else {
                continue;
            };
            let saved_ssid = values
                .get("802-11-wireless")
                .and_then(|w| w.get("ssid"))
                .and_then(|v| Vec::<u8>::try_from(v.clone()).ok());
            if saved_ssid.as_deref() == Some(ssid.as_bytes()) {
                return Ok(Some(path));
            }
        }
        Ok(None)
    }
}
