//! How a client talks: network type, mode and authentication.

/// Which [`Network`](super::Network) implementation a client follows.
///
/// Cellular and Wi-Fi networks need their own settings (a port, an SSID):
/// open them and pass them to the builder.
///
/// ```
/// use thingstead::device::NetworkType;
/// assert_eq!(NetworkType::default(), NetworkType::Static);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NetworkType {
    /// A network whose state is whatever the application says (connected at
    /// start); see [`StaticNetwork`](super::StaticNetwork). The default, for
    /// hosts without netlink and for applications that know better.
    #[default]
    Static,
    /// The operating system's network: connected while a link is up and a
    /// default route exists (Linux netlink; elsewhere always connected).
    System,
    /// A cellular modem on a serial port: give the client its
    /// [`Cellular`](super::Cellular) with
    /// [`DeviceClientBuilder::network`](super::DeviceClientBuilder::network)
    /// (the type alone does not say which port).
    Cellular,
    /// Wi-Fi joined through NetworkManager (Linux): give the client its
    /// `Wifi` (`Wifi::open(WifiOptions::new(ssid))`) with
    /// [`DeviceClientBuilder::network`](super::DeviceClientBuilder::network)
    /// (the type alone does not say which SSID).
    Wifi,
    /// Bluetooth Low Energy: accepted as a choice and refused with
    /// [`DeviceError::Unsupported`](super::DeviceError::Unsupported): BLE
    /// cannot carry the SDK's traffic (hologram-python never implemented it
    /// either).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use thingstead::device::{Credentials, DeviceClient, DeviceError, NetworkType};
    /// let err = DeviceClient::builder(Credentials::new("abcd", "1234"))
    ///     .network_type(NetworkType::Ble)
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, DeviceError::Unsupported(_)));
    /// assert!(err.to_string().contains("BLE is not supported on this platform"), "{err}");
    /// # }
    /// ```
    Ble,
}

/// Which kind of server the client talks to.
///
/// ```
/// use thingstead::device::Mode;
/// assert_eq!(Mode::default(), Mode::Cloud);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A Thingstead (or Hologram-compatible) server: messages are framed and
    /// authenticated, replies are result codes.
    #[default]
    Cloud,
    /// Any TCP server: the message bytes are sent unchanged and the raw reply
    /// is returned (hologram-python's `CustomCloud`). Topics are not sent.
    Raw,
}

/// How frames are authenticated in [`Mode::Cloud`].
///
/// ```
/// use thingstead::device::Authentication;
/// assert_eq!(Authentication::default(), Authentication::CsrPsk);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Authentication {
    /// The 8-character device key in every frame (hologram's `csrpsk`).
    #[default]
    CsrPsk,
    /// A time-based one-time password (RFC 6238: SHA-1, 30 s, 6 digits) with
    /// the device uuid. The server accepts each code once, so two frames in
    /// one 30-second step make the second wait for the next step.
    Totp,
}
