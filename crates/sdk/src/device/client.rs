//! The device client: its state, construction, setters and events.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::task::JoinHandle;

use super::connect::{ConnectPolicy, Connector};
use super::inbound::InboundQueue;
use super::{
    Authentication, Callback, Credentials, DeviceClientBuilder, DeviceError, Event, EventBus, EventName, Mode, Network,
    NetworkType, OfflineBuffer, StaticNetwork, SystemNetwork, Timeouts, TotpSigner,
};

/// A device's connection to its server. Cheap to clone: clones share the
/// state, the event bus, the offline buffer and the background tasks, which
/// stop when the last clone is dropped.
///
/// Created inside a tokio runtime (it starts a task that follows the
/// network). For code without a runtime, see [`blocking`](super::blocking).
///
/// **Topics are not sticky**: every message carries exactly the topics it is
/// sent with. (hologram-python repeats an instance's last topics on later
/// messages sent without topics; a periodic sender and one-off messages
/// sharing a client would then leak topics into each other.)
///
/// ```no_run
/// use thingstead::device::{Credentials, DeviceClient};
/// # async fn demo() -> Result<(), thingstead::device::DeviceError> {
/// let client = DeviceClient::new(Credentials::from_devicekey("abcd1234")?)?;
/// let outcome = client.send_message("21.5", &["temperature"]).await?;
/// assert!(outcome.is_success(), "{}", outcome.description());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DeviceClient {
    pub(crate) inner: Arc<Inner>,
}

/// What a send uses, read once per send.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub credentials: Credentials,
    pub mode: Mode,
    pub authentication: Authentication,
    pub totp: Option<Arc<TotpSigner>>,
}

#[derive(Debug, Default)]
pub(crate) struct Tasks {
    pub watcher: Option<JoinHandle<()>>,
    pub periodic: Option<JoinHandle<()>>,
    pub receiver: Option<(JoinHandle<()>, SocketAddr)>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub settings: RwLock<Settings>,
    pub network: RwLock<Arc<dyn Network>>,
    pub events: Arc<EventBus>,
    pub buffer: Option<Arc<Mutex<OfflineBuffer>>>,
    /// Serializes sends while a buffer is configured, so buffered messages
    /// leave before newer ones.
    pub send_lock: tokio::sync::Mutex<()>,
    /// What every flush since the start sent and refused
    /// ([`DeviceClient::flushed_total`]).
    pub flushed: Mutex<super::FlushReport>,
    pub timeouts: Timeouts,
    /// What a send does when it finds the network down.
    pub connect_policy: ConnectPolicy,
    /// The connect attempts sends make, shared and paced.
    pub connector: Connector,
    pub inbound: Arc<InboundQueue>,
    pub tasks: Mutex<Tasks>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let tasks = self.tasks.get_mut().unwrap_or_else(|p| p.into_inner());
        for handle in [
            tasks.watcher.take(),
            tasks.periodic.take(),
            tasks.receiver.take().map(|(h, _)| h),
        ]
        .into_iter()
        .flatten()
        {
            handle.abort();
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The TOTP signer for credentials, when the authentication needs one.
fn signer_for(
    credentials: &Credentials,
    authentication: Authentication,
) -> Result<Option<Arc<TotpSigner>>, DeviceError> {
    match authentication {
        Authentication::CsrPsk => Ok(None),
        Authentication::Totp => {
            let (Some(uuid), Some(seed)) = (&credentials.device_id, &credentials.private_key) else {
                return Err(DeviceError::MissingTotpIdentity);
            };
            if uuid.is_empty() {
                return Err(DeviceError::MissingTotpIdentity);
            }
            Ok(Some(Arc::new(TotpSigner::from_seed(seed)?)))
        }
    }
}

/// Builds the default implementation of a network type.
pub(crate) async fn network_of(network_type: NetworkType) -> Result<Arc<dyn Network>, DeviceError> {
    Ok(match network_type {
        NetworkType::Static => Arc::new(StaticNetwork::new(true)),
        NetworkType::System => Arc::new(SystemNetwork::start().await?),
        NetworkType::Cellular => {
            return Err(DeviceError::Unsupported(
                "a cellular network needs its modem: pass Cellular::open(..) to DeviceClientBuilder::network",
            ));
        }
        NetworkType::Wifi => {
            return Err(DeviceError::Unsupported(
                "a Wi-Fi network needs its SSID: pass Wifi::open(..) to DeviceClientBuilder::network",
            ));
        }
        NetworkType::Ble => {
            return Err(DeviceError::Unsupported(
                "BLE is not supported on this platform: it cannot carry the SDK's traffic",
            ));
        }
    })
}

impl DeviceClient {
    /// A client for a Thingstead server with the defaults: a
    /// [`StaticNetwork`] (connected), [`Mode::Cloud`],
    /// [`Authentication::CsrPsk`], no offline buffer. Must be called inside a
    /// tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use thingstead::device::{Credentials, DeviceClient, Mode};
    /// let client = DeviceClient::new(Credentials::new("abcd", "1234")).unwrap();
    /// assert_eq!(client.mode(), Mode::Cloud);
    /// # }
    /// ```
    pub fn new(credentials: Credentials) -> Result<Self, DeviceError> {
        Self::assemble(
            credentials,
            Arc::new(StaticNetwork::new(true)),
            Mode::Cloud,
            Authentication::CsrPsk,
            None,
            Timeouts::default(),
            ConnectPolicy::default(),
        )
    }

    /// A builder for every option: network type or implementation, mode,
    /// authentication, offline buffer, timeouts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use thingstead::device::{Authentication, Credentials, DeviceClient, Mode, NetworkType};
    /// let client = DeviceClient::builder(Credentials::new("abcd", "1234"))
    ///     .network_type(NetworkType::Static)
    ///     .mode(Mode::Raw)
    ///     .authentication(Authentication::CsrPsk)
    ///     .build()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.mode(), Mode::Raw);
    /// # }
    /// ```
    pub fn builder(credentials: Credentials) -> DeviceClientBuilder {
        DeviceClientBuilder::new(credentials)
    }

    pub(crate) fn assemble(
        credentials: Credentials,
        network: Arc<dyn Network>,
        mode: Mode,
        authentication: Authentication,
        buffer: Option<OfflineBuffer>,
        timeouts: Timeouts,
        connect_policy: ConnectPolicy,
    ) -> Result<Self, DeviceError> {
        tokio::runtime::Handle::try_current()
            .map_err(|_| DeviceError::Runtime("create the device client inside a tokio runtime"))?;
        let totp = signer_for(&credentials, authentication)?;
        let client = Self {
            inner: Arc::new(Inner {
                settings: RwLock::new(Settings {
                    credentials,
                    mode,
                    authentication,
                    totp,
                }),
                network: RwLock::new(network),
                events: Arc::new(EventBus::default()),
                buffer: buffer.map(|b| Arc::new(Mutex::new(b))),
                flushed: Mutex::default(),
                send_lock: tokio::sync::Mutex::new(()),
                timeouts,
                connect_policy,
                connector: Connector::default(),
                inbound: Arc::new(InboundQueue::default()),
                tasks: Mutex::new(Tasks::default()),
            }),
        };
        client.start_watcher();
        Ok(client)
    }

    pub(crate) fn settings(&self) -> Settings {
        read(&self.inner.settings).clone()
    }

    /// The credentials in use.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::new("abcd", "1234")).unwrap();
    /// assert_eq!(client.credentials().port, 9999);
    /// # }
    /// ```
    pub fn credentials(&self) -> Credentials {
        read(&self.inner.settings).credentials.clone()
    }

    /// Replaces the credentials (checked against the authentication in use).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::new("abcd", "1234")).unwrap();
    /// client.set_credentials(Credentials::new("wxyz", "9876").with_port(4010)).unwrap();
    /// assert_eq!(client.credentials().port, 4010);
    /// # }
    /// ```
    pub fn set_credentials(&self, credentials: Credentials) -> Result<(), DeviceError> {
        let mut settings = write(&self.inner.settings);
        settings.totp = signer_for(&credentials, settings.authentication)?;
        settings.credentials = credentials;
        Ok(())
    }

    /// The mode in use.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient, Mode};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert_eq!(client.mode(), Mode::Cloud);
    /// # }
    /// ```
    pub fn mode(&self) -> Mode {
        read(&self.inner.settings).mode
    }

    /// Switches between [`Mode::Cloud`] and [`Mode::Raw`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient, Mode};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// client.set_mode(Mode::Raw);
    /// assert_eq!(client.mode(), Mode::Raw);
    /// # }
    /// ```
    pub fn set_mode(&self, mode: Mode) {
        write(&self.inner.settings).mode = mode;
    }

    /// The authentication in use.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Authentication, Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert_eq!(client.authentication(), Authentication::CsrPsk);
    /// # }
    /// ```
    pub fn authentication(&self) -> Authentication {
        read(&self.inner.settings).authentication
    }

    /// Switches the authentication; [`Authentication::Totp`] needs
    /// `device_id` and a valid `private_key` in the credentials.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Authentication, Credentials, DeviceClient, DeviceError};
    /// let client = DeviceClient::new(Credentials::new("abcd", "1234")).unwrap();
    /// assert!(matches!(client.set_authentication(Authentication::Totp), Err(DeviceError::MissingTotpIdentity)));
    /// let totp = DeviceClient::new(Credentials::totp("uuid-1", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")).unwrap();
    /// totp.set_authentication(Authentication::Totp).unwrap();
    /// # }
    /// ```
    pub fn set_authentication(&self, authentication: Authentication) -> Result<(), DeviceError> {
        let mut settings = write(&self.inner.settings);
        settings.totp = signer_for(&settings.credentials, authentication)?;
        settings.authentication = authentication;
        Ok(())
    }

    /// The network the client follows.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert!(client.network().is_connected());
    /// # }
    /// ```
    pub fn network(&self) -> Arc<dyn Network> {
        Arc::clone(&read(&self.inner.network))
    }

    /// The type of the network the client follows.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient, NetworkType};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert_eq!(client.network_type(), NetworkType::Static);
    /// # }
    /// ```
    pub fn network_type(&self) -> NetworkType {
        self.network().network_type()
    }

    /// Follows the default implementation of another network type.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient, NetworkType};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// client.set_network_type(NetworkType::System).await.unwrap();
    /// # }
    /// ```
    pub async fn set_network_type(&self, network_type: NetworkType) -> Result<(), DeviceError> {
        let network = network_of(network_type).await?;
        self.set_network(network);
        Ok(())
    }

    /// Follows a network implementation of the application's choosing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use std::sync::Arc;
    /// # use thingstead::device::{Credentials, DeviceClient, StaticNetwork};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// let net = Arc::new(StaticNetwork::new(false));
    /// client.set_network(net.clone());
    /// assert!(!client.network().is_connected());
    /// # }
    /// ```
    pub fn set_network(&self, network: Arc<dyn Network>) {
        *write(&self.inner.network) = network;
        self.inner.connector.reset();
        self.start_watcher();
    }

    /// This client's event bus.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient, EventName};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert_eq!(client.events().subscriber_count(EventName::MessageSent), 0);
    /// # }
    /// ```
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// Subscribes a callback to an event; subscribing the same `Arc` twice
    /// keeps one subscription. Returns false when it already was subscribed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use std::sync::Arc;
    /// # use thingstead::device::{Callback, Credentials, DeviceClient, EventName};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// let cb: Callback = Arc::new(|event| println!("{}", event.name()));
    /// assert!(client.subscribe(EventName::MessageReceived, cb.clone()));
    /// assert!(!client.subscribe(EventName::MessageReceived, cb));
    /// # }
    /// ```
    pub fn subscribe(&self, event: EventName, callback: Callback) -> bool {
        self.inner.events.subscribe(event, callback)
    }

    /// Unsubscribes a callback (the same `Arc` that was subscribed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use std::sync::Arc;
    /// # use thingstead::device::{Callback, Credentials, DeviceClient, EventName};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// let cb: Callback = Arc::new(|_| {});
    /// client.subscribe(EventName::MessageSent, cb.clone());
    /// assert!(client.unsubscribe(EventName::MessageSent, &cb));
    /// # }
    /// ```
    pub fn unsubscribe(&self, event: EventName, callback: &Callback) -> bool {
        self.inner.events.unsubscribe(event, callback)
    }

    /// Runs this client's callbacks for an event.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient, Event};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// client.broadcast(&Event::WifiConnected);
    /// # }
    /// ```
    pub fn broadcast(&self, event: &Event) {
        self.inner.events.broadcast(event);
    }
}
