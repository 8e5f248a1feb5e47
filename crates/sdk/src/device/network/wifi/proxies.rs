//! The parts of NetworkManager's D-Bus API this module uses
//! (<https://networkmanager.dev/docs/api/latest/spec.html>), as zbus proxies.
//!
//! Properties are read uncached (`emits_changed_signal = "false"`): every
//! read asks NetworkManager, so a state it changed on its own is seen.

use std::collections::HashMap;

use zbus::{ObjectPath, OwnedObjectPath, OwnedVariant, Variant, proxy};

/// `NMDeviceType` of a Wi-Fi device.
pub(super) const DEVICE_TYPE_WIFI: u32 = 2;

/// A connection profile: setting name → key → value (`a{sa{sv}}`).
pub(super) type ConnectionSettings = HashMap<String, HashMap<String, OwnedVariant>>;

/// `org.freedesktop.NetworkManager`.
#[proxy(
    interface = "org.freedesktop.NetworkManager",
    default_service = "org.freedesktop.NetworkManager",
    default_path = "/org/freedesktop/NetworkManager"
)]
pub(super) trait NetworkManager {
    /// The realized network devices.
    fn get_devices(&self) -> zbus::Result<Vec<OwnedObjectPath>>;

    /// Activates a saved connection on a device.
    fn activate_connection(
        &self,
        connection: &ObjectPath<'_>,
        device: &ObjectPath<'_>,
        specific_object: &ObjectPath<'_>,
    ) -> zbus::Result<OwnedObjectPath>;

    /// Saves a new connection and activates it.
    fn add_and_activate_connection(
        &self,
        connection: &HashMap<&str, HashMap<&str, Variant<'_>>>,
        device: &ObjectPath<'_>,
        specific_object: &ObjectPath<'_>,
    ) -> zbus::Result<(OwnedObjectPath, OwnedObjectPath)>;
}

/// `org.freedesktop.NetworkManager.Device`.
#[proxy(
    interface = "org.freedesktop.NetworkManager.Device",
    default_service = "org.freedesktop.NetworkManager"
)]
pub(super) trait Device {
    /// Disconnects the device (and keeps it from auto-connecting).
    fn disconnect(&self) -> zbus::Result<()>;

    /// The kernel interface name (`wlan0`).
    #[zbus(property(emits_changed_signal = "false"))]
    fn interface(&self) -> zbus::Result<String>;

    /// `NMDeviceType`.
    #[zbus(property(emits_changed_signal = "false"))]
    fn device_type(&self) -> zbus::Result<u32>;

    /// `NMDeviceState`.
    #[zbus(property(emits_changed_signal = "false"))]
    fn state(&self) -> zbus::Result<u32>;

    /// The state and the `NMDeviceStateReason` of its last change.
    #[zbus(property(emits_changed_signal = "false"))]
    fn state_reason(&self) -> zbus::Result<(u32, u32)>;

    /// The device's state changed.
    #[zbus(signal)]
    fn state_changed(&self, new_state: u32, old_state: u32, reason: u32) -> zbus::Result<()>;
}

/// `org.freedesktop.NetworkManager.Device.Wireless`.
#[proxy(
    interface = "org.freedesktop.NetworkManager.Device.Wireless",
    default_service = "org.freedesktop.NetworkManager"
)]
pub(super) trait Wireless {
    /// The access points seen by the last scan.
    fn get_access_points(&self) -> zbus::Result<Vec<OwnedObjectPath>>;

    /// Asks for a new scan (answered at once; results come later).
    fn request_scan(&self, options: &HashMap<&str, Variant<'_>>) -> zbus::Result<()>;

    /// The access point joined, `/` when none.
    #[zbus(property(emits_changed_signal = "false"))]
    fn active_access_point(&self) -> zbus::Result<OwnedObjectPath>;
}

/// `org.freedesktop.NetworkManager.AccessPoint`.
#[proxy(
    interface = "org.freedesktop.NetworkManager.AccessPoint",
    default_service = "org.freedesktop.NetworkManager"
)]
pub(super) trait AccessPoint {
    /// The SSID, as bytes.
    #[zbus(property(emits_changed_signal = "false"))]
    fn ssid(&self) -> zbus::Result<Vec<u8>>;

    /// The BSSID (`AA:BB:CC:DD:EE:FF`).
    #[zbus(property(emits_changed_signal = "false"))]
    fn hw_address(&self) -> zbus::Result<String>;

    /// The signal quality, 0-100.
    #[zbus(property(emits_changed_signal = "false"))]
    fn strength(&self) -> zbus::Result<u8>;
}

/// `org.freedesktop.NetworkManager.Settings`.
#[proxy(
    interface = "org.freedesktop.NetworkManager.Settings",
    default_service = "org.freedesktop.NetworkManager",
    default_path = "/org/freedesktop/NetworkManager/Settings"
)]
pub(super) trait Settings {
    /// The saved connections.
    fn list_connections(&self) -> zbus::Result<Vec<OwnedObjectPath>>;
}

/// `org.freedesktop.NetworkManager.Settings.Connection`.
#[proxy(
    interface = "org.freedesktop.NetworkManager.Settings.Connection",
    default_service = "org.freedesktop.NetworkManager"
)]
pub(super) trait SettingsConnection {
    /// The connection's settings, without its secrets.
    fn get_settings(&self) -> zbus::Result<ConnectionSettings>;

    /// Replaces the connection's settings (secrets included) and saves them.
    fn update(&self, properties: &ConnectionSettings) -> zbus::Result<()>;
}
