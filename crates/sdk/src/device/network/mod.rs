//! The network a device is on, and whether it is connected.
//!
//! A [`Network`] reports its state and emits events when it changes
//! (`network.connected`, `network.disconnected`, and later `wifi.*` from a
//! Wi-Fi implementation). The client follows these events: it buffers
//! messages while the network is down and flushes them when it comes back.
//!
//! - [`StaticNetwork`]: whatever the application says (connected at start).
//! - [`SystemNetwork`]: the operating system's network, via netlink on Linux.
//! - `Wifi`: a Wi-Fi network joined through NetworkManager's D-Bus API (Linux).

mod cellular;
mod static_network;
mod system;
#[cfg(target_os = "linux")]
mod wifi;

use std::fmt;

use async_trait::async_trait;
use tokio::sync::broadcast;

pub use cellular::{
    Cellular, CellularError, CellularOptions, ModemIdentity, ModemSocket, RECEIVED_SMS_CAPACITY, ReceivedSms,
    RegStatus, Signal, SimStatus,
};
pub use static_network::StaticNetwork;
pub use system::{DEFAULT_POLL_INTERVAL, SystemNetwork, probe as probe_system_network};
#[cfg(target_os = "linux")]
pub use wifi::{WIFI_SIGNAL_SAMPLES, Wifi, WifiError, WifiOptions, WifiStatus};

use super::{Event, NetworkType};

/// How many network events wait for a slow listener before the oldest are
/// dropped; a listener that lags re-reads [`Network::is_connected`].
pub const NETWORK_EVENT_CAPACITY: usize = 64;

/// Why a network operation failed.
///
/// ```
/// use thingstead::device::NetworkError;
/// assert!(NetworkError::Unsupported("x").to_string().contains("x"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The network cannot do this (for example disconnecting the system network).
    #[error("not supported by this network: {0}")]
    Unsupported(&'static str),
    /// The network is not available.
    #[error("the network is not connected")]
    NotConnected,
    /// Talking to the operating system failed.
    #[error("network query failed: {0}")]
    System(String),
}

/// A network a device can be on.
///
/// Implementations emit [`Event::NetworkConnected`] and
/// [`Event::NetworkDisconnected`] on every change of [`Network::is_connected`]
/// (a Wi-Fi implementation also emits [`Event::WifiConnected`] and
/// [`Event::WifiDisconnected`]).
///
/// ```
/// use thingstead::device::{Network, StaticNetwork, Event};
/// # async fn demo() {
/// let net = StaticNetwork::new(true);
/// let mut events = net.events();
/// net.disconnect().await.unwrap();
/// assert!(!net.is_connected());
/// assert_eq!(events.recv().await.unwrap(), Event::NetworkDisconnected);
/// # }
/// ```
#[async_trait]
pub trait Network: Send + Sync + fmt::Debug {
    /// What kind of network this is.
    fn network_type(&self) -> NetworkType;

    /// Brings the network up (or checks that it is up).
    async fn connect(&self) -> Result<(), NetworkError>;

    /// Takes the network down.
    async fn disconnect(&self) -> Result<(), NetworkError>;

    /// Takes the network down and up again.
    async fn reconnect(&self) -> Result<(), NetworkError> {
        self.disconnect().await?;
        self.connect().await
    }

    /// Whether the network is connected now.
    fn is_connected(&self) -> bool;

    /// A new subscription to this network's events, from now on.
    fn events(&self) -> broadcast::Receiver<Event>;

    /// Carries one exchange with the server itself, when the network has
    /// its own IP stack (a cellular modem's sockets): connects to
    /// `host:port`, writes `frame`, reads the reply until the server
    /// closes, 1024 bytes arrived or
    /// `timeouts.read` passed, and closes. `None` (the default) when the
    /// host's own TCP stack carries the traffic. An `Err` means the frame
    /// certainly did not reach the server.
    async fn carry(
        &self,
        host: &str,
        port: u16,
        frame: &[u8],
        timeouts: crate::device::Timeouts,
    ) -> Option<Result<Vec<u8>, NetworkError>> {
        let _ = (host, port, frame, timeouts);
        None
    }
}
