//! Which network to join and how patient to be.

use std::fmt;
use std::time::Duration;

/// Which Wi-Fi network to join, through which NetworkManager, and how long
/// each wait may last.
///
/// ```
/// use std::time::Duration;
/// let o = thingstead::device::WifiOptions::new("home").with_psk("secret123");
/// assert_eq!(o.connect_timeout, Duration::from_secs(30));
/// assert!(!format!("{o:?}").contains("secret123"), "the key is not printed");
/// ```
#[derive(Clone)]
pub struct WifiOptions {
    /// The SSID to join.
    pub ssid: String,
    /// Its pre-shared key (WPA/WPA2 personal); `None` for an open network
    /// or to use the key of a connection NetworkManager saved for the SSID.
    /// A key given replaces the saved one (NetworkManager keeps a
    /// connection it added even when the key was wrong).
    pub psk: Option<String>,
    /// The Wi-Fi interface to use (`wlan0`); `None` for the first Wi-Fi device.
    pub interface: Option<String>,
    /// The D-Bus bus NetworkManager is on (`unix:path=/run/dbus/system_bus_socket`);
    /// `None` for the system bus.
    pub dbus_address: Option<String>,
    /// How long [`Network::connect`](crate::device::Network::connect) may take in all.
    pub connect_timeout: Duration,
    /// How long to wait for a scan to show the SSID.
    pub scan_timeout: Duration,
    /// How long one D-Bus call may take.
    pub call_timeout: Duration,
    /// How often the signal is sampled (and the state re-read) while connected.
    pub sample_interval: Duration,
}

impl WifiOptions {
    /// Defaults for `ssid`: no key, the first Wi-Fi device, the system bus,
    /// 30 s to connect, 10 s to scan, 5 s per D-Bus call, a signal sample every 5 s.
    pub fn new(ssid: impl Into<String>) -> Self {
        Self {
            ssid: ssid.into(),
            psk: None,
            interface: None,
            dbus_address: None,
            connect_timeout: Duration::from_secs(30),
            scan_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(5),
            sample_interval: Duration::from_secs(5),
        }
    }

    /// With this pre-shared key.
    ///
    /// ```
    /// let o = thingstead::device::WifiOptions::new("home").with_psk("secret123");
    /// assert_eq!(o.psk.as_deref(), Some("secret123"));
    /// ```
    pub fn with_psk(mut self, psk: impl Into<String>) -> Self {
        self.psk = Some(psk.into());
        self
    }

    /// On this D-Bus bus instead of the system bus.
    ///
    /// ```
    /// let o = thingstead::device::WifiOptions::new("home").with_dbus_address("unix:path=/tmp/bus");
    /// assert_eq!(o.dbus_address.as_deref(), Some("unix:path=/tmp/bus"));
    /// ```
    pub fn with_dbus_address(mut self, address: impl Into<String>) -> Self {
        self.dbus_address = Some(address.into());
        self
    }
}

impl fmt::Debug for WifiOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WifiOptions")
            .field("ssid", &self.ssid)
            .field("psk", &self.psk.as_ref().map(|_| "********"))
            .field("interface", &self.interface)
            .field("dbus_address", &self.dbus_address)
            .field("connect_timeout", &self.connect_timeout)
            .field("scan_timeout", &self.scan_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("sample_interval", &self.sample_interval)
            .finish()
    }
}
