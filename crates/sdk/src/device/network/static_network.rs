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
/// state from elsewhere (a modem, a supervisor), and in tests.
///
/// ```
/// use thingstead::device::{Network, StaticNetwork};
/// let net = StaticNetwork::new(false);
/// assert!(!net.is_connected());
/// net.set_connected(true);
/// assert!(net.is_connected());
/// ```
#[derive(Debug)]
pub struct StaticNetwork {
    connected: AtomicBool,
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
            events,
        }
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

    async fn connect(&self) -> Result<(), NetworkError> {
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
}
