//! Wi-Fi through NetworkManager's D-Bus API, as a [`Network`](super::Network).
//!
//! [`Wifi::open`] finds NetworkManager and its Wi-Fi device;
//! [`Network::connect`] joins the configured SSID (a connection
//! NetworkManager saved for it is reused, else one is added with the key),
//! waiting at most [`WifiOptions::connect_timeout`]. While connected the
//! access point's signal is sampled. Every change of the device's state,
//! NetworkManager's own included (an access point out of range), emits
//! `wifi.connected` + `network.connected` or `wifi.disconnected` +
//! `network.disconnected`. The host's own TCP stack carries the traffic.

mod connect;
mod error;
mod nm;
mod options;
mod proxies;
mod samples;
mod status;
mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use zbus::OwnedObjectPath;

pub use error::WifiError;
pub use options::WifiOptions;
pub use samples::WIFI_SIGNAL_SAMPLES;
pub use status::WifiStatus;

use super::{NETWORK_EVENT_CAPACITY, Network, NetworkError};
use crate::device::{Event, NetworkType};
use nm::Nm;

/// A Wi-Fi network joined through NetworkManager.
///
/// Clones share one state; the watch on NetworkManager stops when the last
/// clone is dropped.
///
/// ```no_run
/// use std::sync::Arc;
/// use thingstead::device::{Credentials, DeviceClient, Event, Network, Wifi, WifiOptions};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let wifi = Wifi::open(WifiOptions::new("workshop").with_psk("correct horse")).await?;
/// let mut events = wifi.events();
/// wifi.connect().await?; // bounded by WifiOptions::connect_timeout
/// assert_eq!(events.recv().await?, Event::WifiConnected);
/// assert_eq!(events.recv().await?, Event::NetworkConnected);
/// println!("on {} via {:?}, signal {:?}", wifi.ssid(), wifi.ap_address(), wifi.avg_signal_strength());
///
/// // The device client follows it: messages wait in its buffer while the Wi-Fi is down.
/// let client = DeviceClient::builder(Credentials::from_devicekey("abcd1234")?)
///     .network(Arc::new(wifi.clone()))
///     .build()
///     .await?;
/// client.send_message("hello over Wi-Fi", &["wifi"]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Wifi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    bus: zbus::Connection,
    options: WifiOptions,
    connected: AtomicBool,
    /// Bumped by every change applied: a state read before a change is
    /// not applied after it.
    epoch: Mutex<u64>,
    events: broadcast::Sender<Event>,
    samples: Mutex<samples::SignalSamples>,
    /// The BSSID of the access point joined.
    joined: Mutex<Option<String>>,
    /// The device watched, and the task watching it.
    watcher: Mutex<Option<(OwnedObjectPath, JoinHandle<()>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((_, task)) = lock(&self.watcher).take() {
            task.abort();
        }
    }
}

impl Wifi {
    /// Connects to the bus of [`WifiOptions::dbus_address`] (the system
    /// bus when `None`) and finds NetworkManager's Wi-Fi device. Fails with
    /// [`WifiError::Bus`], [`WifiError::NoNetworkManager`] or
    /// [`WifiError::NoWifiDevice`]. Needs a tokio runtime (the device is
    /// watched by a task of its own).
    pub async fn open(options: WifiOptions) -> Result<Self, WifiError> {
        let address = options.dbus_address.clone();
        let builder = match address.as_deref() {
            Some(address) => zbus::connection::Builder::address(address),
            None => zbus::connection::Builder::system(),
        };
        let builder = builder.method_timeout(options.call_timeout);
        let bus = match tokio::time::timeout(options.call_timeout, builder.build()).await {
            Ok(Ok(bus)) => bus,
            Ok(Err(e)) => {
                return Err(WifiError::Bus {
                    address: address.unwrap_or_else(|| "system".into()),
                    reason: e.to_string(),
                });
            }
            Err(_) => {
                return Err(WifiError::Timeout {
                    what: "connecting to the D-Bus bus".into(),
                    after: options.call_timeout,
                });
            }
        };
        Self::open_on(bus, options).await
    }

    /// Like [`Wifi::open`], on a bus connection already made
    /// ([`WifiOptions::dbus_address`] is not used).
    pub async fn open_on(bus: zbus::Connection, options: WifiOptions) -> Result<Self, WifiError> {
        let (events, _) = broadcast::channel(NETWORK_EVENT_CAPACITY);
        let wifi = Self {
            inner: Arc::new(Inner {
                bus,
                options,
                connected: AtomicBool::new(false),
                epoch: Mutex::new(0),
                events,
                samples: Mutex::new(samples::SignalSamples::default()),
                joined: Mutex::new(None),
                watcher: Mutex::new(None),
            }),
        };
        let device = wifi.nm().wifi_device(wifi.inner.options.interface.as_deref()).await?;
        wifi.watch(&device);
        // Already on the SSID (NetworkManager joined it by itself)?
        if let Err(e) = watch::refresh(&wifi.inner, &device).await {
            tracing::debug!(error = %e, "reading the Wi-Fi state");
        }
        Ok(wifi)
    }

    fn nm(&self) -> Nm<'_> {
        self.inner.nm()
    }

    /// Follows `device`'s state (restarting the watch when the device changed).
    fn watch(&self, device: &OwnedObjectPath) {
        let mut watcher = lock(&self.inner.watcher);
        if let Some((watched, task)) = watcher.as_ref() {
            if watched == device && !task.is_finished() {
                return;
            }
            task.abort();
        }
        let task = tokio::spawn(watch::run(Arc::downgrade(&self.inner), device.clone()));
        *watcher = Some((device.clone(), task));
    }

    /// Joins the configured SSID, like [`Network::connect`], with the
    /// error that says what is wrong.
    pub async fn join(&self) -> Result<(), WifiError> {
        let device = self.nm().wifi_device(self.inner.options.interface.as_deref()).await?;
        self.watch(&device);
        connect::join(&self.inner, &device).await
    }

    /// Leaves the network (NetworkManager's `Device.Disconnect`), like
    /// [`Network::disconnect`].
    pub async fn leave(&self) -> Result<(), WifiError> {
        let device = self.nm().wifi_device(self.inner.options.interface.as_deref()).await?;
        let proxy = self.nm().device(&device).await?;
        let state = self.nm().state(&device).await?;
        // An inactive device has nothing to disconnect (NetworkManager refuses).
        if state > 30 {
            error::bounded("Device.Disconnect", self.inner.options.call_timeout, proxy.disconnect()).await?;
        }
        self.inner.set_connected(false);
        Ok(())
    }

    /// The configured SSID.
    pub fn ssid(&self) -> &str {
        &self.inner.options.ssid
    }

    /// The BSSID of the access point joined, `None` while not connected.
    pub fn ap_address(&self) -> Option<String> {
        lock(&self.inner.joined).clone()
    }

    /// The average signal strength (0-100) over the samples taken while
    /// connected (the last [`WIFI_SIGNAL_SAMPLES`]); `None` before any.
    pub fn avg_signal_strength(&self) -> Option<f64> {
        lock(&self.inner.samples).average()
    }

    /// The strongest signal (0-100) among those samples.
    pub fn max_signal_strength(&self) -> Option<u8> {
        lock(&self.inner.samples).max()
    }

    /// What NetworkManager says now: the interface, its state, the access
    /// point joined and its signal.
    pub async fn status(&self) -> Result<WifiStatus, WifiError> {
        status::read(&self.nm(), self.inner.options.interface.as_deref()).await
    }
}

impl Inner {
    fn nm(&self) -> Nm<'_> {
        Nm {
            bus: &self.bus,
            timeout: self.options.call_timeout,
        }
    }

    /// The epoch to give [`Inner::apply`] for a state about to be read.
    fn epoch(&self) -> u64 {
        *lock(&self.epoch)
    }

    fn set_connected(&self, connected: bool) {
        self.apply(None, connected);
    }

    /// Says connected or not, unless something changed since `seen` (a
    /// state read before then is stale).
    fn apply(&self, seen: Option<u64>, connected: bool) -> bool {
        let mut epoch = lock(&self.epoch);
        if seen.is_some_and(|seen| seen != *epoch) {
            return false;
        }
        *epoch += 1;
        if !connected {
            *lock(&self.joined) = None;
        }
        if self.connected.swap(connected, Ordering::SeqCst) == connected {
            return true;
        }
        let events: [Event; 2] = if connected {
            [Event::WifiConnected, Event::NetworkConnected]
        } else {
            [Event::WifiDisconnected, Event::NetworkDisconnected]
        };
        for event in events {
            tracing::info!(ssid = %self.options.ssid, "{}", event.name());
            // No subscriber is not an error.
            let _ = self.events.send(event);
        }
        true
    }

    /// Records the access point joined, samples its signal and says
    /// connected (unless something changed since `seen`).
    fn joined(&self, seen: Option<u64>, ap: &nm::AccessPointInfo) {
        let fresh = !self.connected.load(Ordering::SeqCst);
        if !self.apply(seen, true) {
            return;
        }
        let mut samples = lock(&self.samples);
        if fresh {
            samples.clear();
        }
        samples.push(ap.strength);
        *lock(&self.joined) = Some(ap.bssid.clone());
    }
}

#[async_trait]
impl Network for Wifi {
    fn network_type(&self) -> NetworkType {
        NetworkType::Wifi
    }

    /// Joins the configured SSID ([`Wifi::join`]).
    async fn connect(&self) -> Result<(), NetworkError> {
        Ok(self.join().await?)
    }

    /// Leaves the network ([`Wifi::leave`]).
    async fn disconnect(&self) -> Result<(), NetworkError> {
        Ok(self.leave().await?)
    }

    fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::SeqCst)
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }
}
