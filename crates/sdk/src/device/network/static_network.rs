//! A network whose state the application sets.

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::{NETWORK_EVENT_CAPACITY, Network, NetworkError};
use crate::device::{Event, NetworkType};

/// A network that is connected or not because the application says so:
/// [`Network::connect`] and [`Network::disconnect`] (or
/// [`StaticNetwork::set_connected`]) switch it and emit the events.
///
/// Use it on hosts without netlink, when the application knows the link
/// state from elsewhere (a modem, a supervisor), and in tests. A client
/// whose send finds it down calls [`Network::connect`], which brings it up;
/// [`StaticNetwork::refusing_connect`] makes a network whose link cannot
/// come up now (an outage): `connect` fails and sends buffer.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use thingstead::device::{Credentials, DeviceClient, DeviceError, Network, StaticNetwork};
///
/// let net = Arc::new(StaticNetwork::new(false).refusing_connect());
/// assert!(net.connect().await.is_err(), "the link cannot come up now");
/// let client = DeviceClient::builder(Credentials::new("abcd", "1234"))
///     .network(net.clone())
///     .build()
///     .await
///     .unwrap();
/// // No offline buffer: a send during the outage fails at once.
/// assert!(matches!(client.send_message("21.5", &["t"]).await, Err(DeviceError::NetworkDown)));
///
/// // The outage ends: connect works again (a send would now connect it).
/// net.set_refusing_connect(false);
/// net.connect().await.unwrap();
/// assert!(net.is_connected());
/// # }
/// ```
#[derive(Debug)]
pub struct StaticNetwork {
    connected: AtomicBool,
    refusing_connect: AtomicBool,
    events: broadcast::Sender<Event>,
}

impl StaticNetwork {
    /// A network in the given state.
    ///
    /// ```
    /// use thingstead::device::{Network, StaticNetwork};
    /// assert!(StaticNetwork::new(true).is_connected());
    /// ```
    pub fn new(connected: bool) -> Self {
        let (events, _) = broadcast::channel(NETWORK_EVENT_CAPACITY);
        Self {
            connected: AtomicBool::new(connected),
            refusing_connect: AtomicBool::new(false),
            events,
        }
    }

    /// The same network, with a link that cannot come up now:
    /// [`Network::connect`] fails with [`NetworkError::NotConnected`] (and
    /// changes nothing) until [`StaticNetwork::set_refusing_connect`]
    /// allows it again. [`StaticNetwork::set_connected`] still switches it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use thingstead::device::{Network, NetworkError, StaticNetwork};
    /// let net = StaticNetwork::new(false).refusing_connect();
    /// assert!(matches!(net.connect().await, Err(NetworkError::NotConnected)));
    /// assert!(!net.is_connected());
    /// # }
    /// ```
    pub fn refusing_connect(self) -> Self {
        self.set_refusing_connect(true);
        self
    }

    /// Whether [`Network::connect`] fails (`true`) or brings the network
    /// up (`false`, the default).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use thingstead::device::{Network, StaticNetwork};
    /// let net = StaticNetwork::new(false).refusing_connect();
    /// net.set_refusing_connect(false);
    /// assert!(!net.is_refusing_connect());
    /// net.connect().await.unwrap();
    /// assert!(net.is_connected());
    /// # }
    /// ```
    pub fn set_refusing_connect(&self, refusing: bool) {
        self.refusing_connect.store(refusing, Ordering::SeqCst);
    }

    /// Whether [`Network::connect`] fails now.
    ///
    /// ```
    /// use thingstead::device::StaticNetwork;
    /// assert!(!StaticNetwork::new(false).is_refusing_connect());
    /// assert!(StaticNetwork::new(false).refusing_connect().is_refusing_connect());
    /// ```
    pub fn is_refusing_connect(&self) -> bool {
        self.refusing_connect.load(Ordering::SeqCst)
    }

    /// Sets the state; emits `network.connected` or `network.disconnected`
    /// when it changes. Returns the previous state.
    ///
    /// ```
    /// use thingstead::device::StaticNetwork;
    /// let net = StaticNetwork::new(true);
    /// assert!(net.set_connected(false));
    /// ```
    pub fn set_connected(&self, connected: bool) -> bool {
        let before = self.connected.swap(connected, Ordering::SeqCst);
        if before != connected {
            let event = if connected {
                Event::NetworkConnected
            } else {
                Event::NetworkDisconnected
            };
            tracing::info!("{}", event.name());
            // No subscriber is not an error.
            let _ = self.events.send(event);
        }
        before
    }
}

impl Default for StaticNetwork {
    fn default() -> Self {
        Self::new(true)
    }
}

#[async_trait]
impl Network for StaticNetwork {
    fn network_type(&self) -> NetworkType {
        NetworkType::Static
    }

    /// Brings it up, or fails with [`NetworkError::NotConnected`] while it
    /// is [refusing](StaticNetwork::refusing_connect).
    async fn connect(&self) -> Result<(), NetworkError> {
        if self.is_refusing_connect() {
            return Err(NetworkError::NotConnected);
        }
        self.set_connected(true);
        Ok(())
    }

    async fn disconnect(&self) -> Result<(), NetworkError> {
        self.set_connected(false);
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_only_on_change() {
        let net = StaticNetwork::new(true);
        let mut rx = net.events();
        net.connect().await.unwrap();
        net.disconnect().await.unwrap();
        net.disconnect().await.unwrap();
        net.reconnect().await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), Event::NetworkDisconnected);
        assert_eq!(rx.recv().await.unwrap(), Event::NetworkConnected);
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_refusing_network_stays_down_and_emits_nothing_until_allowed() {
        let net = StaticNetwork::new(false).refusing_connect();
        let mut rx = net.events();
        assert!(matches!(net.connect().await, Err(NetworkError::NotConnected)));
        assert!(!net.is_connected());
        assert!(rx.try_recv().is_err());
        net.set_refusing_connect(false);
        net.connect().await.unwrap();
        assert!(net.is_connected());
        assert_eq!(rx.recv().await.unwrap(), Event::NetworkConnected);
    }
}
