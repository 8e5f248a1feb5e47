//! The operating system's network: connected while a link is up and a
//! default route exists.
//!
//! On Linux the state is read through rtnetlink: a default route (prefix
//! length 0, IPv4 or IPv6) whose output interface is up and running, or any
//! default route when it names no interface while some non-loopback link is
//! up. Changes are noticed through netlink multicast (link and route groups)
//! and, as a fallback, by polling; each change emits `network.connected` or
//! `network.disconnected`. Elsewhere the system network is always connected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::{NETWORK_EVENT_CAPACITY, Network, NetworkError};
use crate::device::{Event, NetworkType};

/// How often the state is re-read even without a netlink notification.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The system network (see the module docs for what "connected" means).
///
/// The monitor task stops when the value is dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use thingstead::device::{Credentials, DeviceClient, Network, NetworkError, NetworkType, SystemNetwork};
///
/// let net = Arc::new(SystemNetwork::start().await?);
/// println!("connected: {}", net.is_connected());
/// // The operating system owns the links: the SDK never takes them down,
/// // and `connect` only re-reads the state (as a send on a down network does).
/// assert!(matches!(net.disconnect().await, Err(NetworkError::Unsupported(_))));
/// let client = DeviceClient::builder(Credentials::new("abcd", "1234")).network(net).build().await?;
/// assert_eq!(client.network_type(), NetworkType::System);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SystemNetwork {
    state: Arc<State>,
    monitor: JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    connected: AtomicBool,
    events: broadcast::Sender<Event>,
}

impl State {
    fn set(&self, connected: bool) {
        if self.connected.swap(connected, Ordering::SeqCst) != connected {
            let event = if connected {
                Event::NetworkConnected
            } else {
                Event::NetworkDisconnected
            };
            tracing::info!("{}", event.name());
            let _ = self.events.send(event);
        }
    }
}

impl SystemNetwork {
    /// Reads the current state and starts following changes, polling every
    /// [`DEFAULT_POLL_INTERVAL`]. Needs a tokio runtime.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// let net = thingstead::device::SystemNetwork::start().await.unwrap();
    /// # }
    /// ```
    pub async fn start() -> Result<Self, NetworkError> {
        Self::start_with_poll_interval(DEFAULT_POLL_INTERVAL).await
    }

    /// Like [`SystemNetwork::start`] with another polling interval.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// let net = thingstead::device::SystemNetwork::start_with_poll_interval(std::time::Duration::from_secs(1)).await;
    /// # }
    /// ```
    pub async fn start_with_poll_interval(poll: Duration) -> Result<Self, NetworkError> {
        let initial = probe().await?;
        let (events, _) = broadcast::channel(NETWORK_EVENT_CAPACITY);
        let state = Arc::new(State {
            connected: AtomicBool::new(initial),
            events,
        });
        let monitor = tokio::spawn(monitor(Arc::clone(&state), poll.max(Duration::from_millis(100))));
        Ok(Self { state, monitor })
    }
}

impl Drop for SystemNetwork {
    fn drop(&mut self) {
        self.monitor.abort();
    }
}

#[async_trait]
impl Network for SystemNetwork {
    fn network_type(&self) -> NetworkType {
        NetworkType::System
    }

    /// Re-reads the state; fails with [`NetworkError::NotConnected`] when
    /// the system has no usable link and default route. The system network
    /// is managed by the operating system, not by this SDK.
    async fn connect(&self) -> Result<(), NetworkError> {
        let connected = probe().await?;
        self.state.set(connected);
        if connected {
            Ok(())
        } else {
            Err(NetworkError::NotConnected)
        }
    }

    /// Not supported: the SDK does not take the host's interfaces down.
    async fn disconnect(&self) -> Result<(), NetworkError> {
        Err(NetworkError::Unsupported(
            "the system network is managed by the operating system",
        ))
    }

    /// Re-reads the state, like [`Network::connect`].
    async fn reconnect(&self) -> Result<(), NetworkError> {
        self.connect().await
    }

    fn is_connected(&self) -> bool {
        self.state.connected.load(Ordering::SeqCst)
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.state.events.subscribe()
    }
}

#[cfg(target_os = "linux")]
async fn monitor(state: Arc<State>, poll: Duration) {
    use futures::StreamExt;
    use rtnetlink::MulticastGroup;

    let mut notifications = match rtnetlink::new_multicast_connection(&[
        MulticastGroup::Link,
        MulticastGroup::Ipv4Route,
        MulticastGroup::Ipv6Route,
    ]) {
        Ok((connection, _handle, messages)) => {
            tokio::spawn(connection);
            Some(messages)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no netlink notifications; polling the network state only");
            None
        }
    };
    loop {
        let notified = async {
            match notifications.as_mut() {
                Some(rx) => rx.next().await.is_some(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            alive = notified => {
                if !alive {
                    notifications = None;
                }
                // Let a burst of notifications settle before reading the state.
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(rx) = notifications.as_mut() {
                    while rx.try_recv().is_ok() {}
                }
            }
            () = tokio::time::sleep(poll) => {}
        }
        match probe().await {
            Ok(connected) => state.set(connected),
            Err(e) => tracing::warn!(error = %e, "cannot read the network state"),
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn monitor(_state: Arc<State>, _poll: Duration) {}

/// Reads whether the system is connected now: a link is up and a default
/// route exists (Linux); always true elsewhere.
///
/// ```no_run
/// # async fn demo() {
/// let connected = thingstead::device::probe_system_network().await.unwrap_or(false);
/// # }
/// ```
#[cfg(target_os = "linux")]
pub async fn probe() -> Result<bool, NetworkError> {
    use std::collections::HashMap;
    use std::net::{Ipv4Addr, Ipv6Addr};

    use futures::TryStreamExt;
    use rtnetlink::RouteMessageBuilder;
    use rtnetlink::packet_route::link::LinkFlags;
    use rtnetlink::packet_route::route::RouteAttribute;

    let sys = |e: rtnetlink::Error| NetworkError::System(e.to_string());
    let (connection, handle, _) = rtnetlink::new_connection().map_err(|e| NetworkError::System(e.to_string()))?;
    let connection = tokio::spawn(connection);
    let result = async {
        // Link index -> usable (up, running, not loopback).
        let mut links = HashMap::new();
        let mut stream = handle.link().get().execute();
        while let Some(link) = stream.try_next().await.map_err(sys)? {
            let flags = link.header.flags;
            let usable = flags.contains(LinkFlags::Up)
                && (flags.contains(LinkFlags::Running) || flags.contains(LinkFlags::LowerUp))
                && !flags.contains(LinkFlags::Loopback);
            links.insert(link.header.index, usable);
        }
        let any_link = links.values().any(|u| *u);
        for request in [
            RouteMessageBuilder::<Ipv4Addr>::new().build(),
            RouteMessageBuilder::<Ipv6Addr>::new().build(),
        ] {
            let mut routes = handle.route().get(request).execute();
            while let Some(route) = routes.try_next().await.map_err(sys)? {
                if route.header.destination_prefix_length != 0 {
                    continue;
                }
                let mut interfaces = Vec::new();
                for attr in &route.attributes {
                    match attr {
                        RouteAttribute::Oif(index) => interfaces.push(*index),
                        RouteAttribute::MultiPath(hops) => interfaces.extend(hops.iter().map(|h| h.interface_index)),
                        _ => {}
                    }
                }
                let up = if interfaces.is_empty() {
                    any_link
                } else {
                    interfaces.iter().any(|i| links.get(i).copied().unwrap_or(false))
                };
                if up {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
    .await;
    connection.abort();
    result
}

/// Reads whether the system is connected now; always true off Linux.
#[cfg(not(target_os = "linux"))]
pub async fn probe() -> Result<bool, NetworkError> {
    Ok(true)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probe_answers_and_matches_the_started_network() {
        // Whatever this machine's state, netlink answers and the network agrees with it.
        let probed = probe().await.unwrap();
        let net = SystemNetwork::start_with_poll_interval(Duration::from_millis(200))
            .await
            .unwrap();
        assert_eq!(net.is_connected(), probed);
        assert!(matches!(net.disconnect().await, Err(NetworkError::Unsupported(_))));
        assert_eq!(net.network_type(), NetworkType::System);
    }
}
