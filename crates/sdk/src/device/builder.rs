//! Building a [`DeviceClient`] with every option.

use std::sync::Arc;

use super::client::network_of;
use super::connect::ConnectPolicy;
use super::{
    Authentication, Credentials, DeviceClient, DeviceError, Mode, Network, NetworkType, OfflineBuffer, Timeouts,
};

/// Collects a client's options; [`DeviceClientBuilder::build`] makes it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # let dir = tempfile::tempdir().unwrap();
/// use thingstead::device::{Credentials, DeviceClient, FullPolicy, OfflineBuffer};
/// let buffer = OfflineBuffer::open(dir.path(), 1000, FullPolicy::DropOldest).unwrap();
/// let client = DeviceClient::builder(Credentials::new("abcd", "1234")).offline_buffer(buffer).build().await.unwrap();
/// assert_eq!(client.buffered_count().await.unwrap(), 0);
/// # }
/// ```
#[derive(Debug)]
#[must_use]
pub struct DeviceClientBuilder {
    credentials: Credentials,
    network_type: NetworkType,
    network: Option<Arc<dyn Network>>,
    mode: Mode,
    authentication: Authentication,
    buffer: Option<OfflineBuffer>,
    timeouts: Timeouts,
    connect_policy: ConnectPolicy,
}

impl DeviceClientBuilder {
    /// A builder with the defaults of [`DeviceClient::new`].
    ///
    /// ```
    /// let b = thingstead::device::DeviceClientBuilder::new(thingstead::device::Credentials::default());
    /// ```
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            network_type: NetworkType::default(),
            network: None,
            mode: Mode::default(),
            authentication: Authentication::default(),
            buffer: None,
            timeouts: Timeouts::default(),
            connect_policy: ConnectPolicy::default(),
        }
    }

    /// Follows the default implementation of this network type.
    ///
    /// ```
    /// # use thingstead::device::{Credentials, DeviceClient, NetworkType};
    /// let b = DeviceClient::builder(Credentials::default()).network_type(NetworkType::System);
    /// ```
    pub fn network_type(mut self, network_type: NetworkType) -> Self {
        self.network_type = network_type;
        self.network = None;
        self
    }

    /// Follows this network implementation (overrides the network type).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use thingstead::device::{Credentials, DeviceClient, StaticNetwork};
    /// let b = DeviceClient::builder(Credentials::default()).network(Arc::new(StaticNetwork::new(false)));
    /// ```
    pub fn network(mut self, network: Arc<dyn Network>) -> Self {
        self.network = Some(network);
        self
    }

    /// Cloud or raw.
    ///
    /// ```
    /// # use thingstead::device::{Credentials, DeviceClient, Mode};
    /// let b = DeviceClient::builder(Credentials::default()).mode(Mode::Raw);
    /// ```
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Device key or TOTP.
    ///
    /// ```
    /// # use thingstead::device::{Authentication, Credentials, DeviceClient};
    /// let b = DeviceClient::builder(Credentials::totp("uuid", "JBSWY3DPEHPK3PXP")).authentication(Authentication::Totp);
    /// ```
    pub fn authentication(mut self, authentication: Authentication) -> Self {
        self.authentication = authentication;
        self
    }

    /// Keeps messages that cannot be sent in this buffer until the network
    /// is connected; without one, such sends fail.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # use thingstead::device::{Credentials, DeviceClient, OfflineBuffer};
    /// let b = DeviceClient::builder(Credentials::default())
    ///     .offline_buffer(OfflineBuffer::open(dir.path(), 10, Default::default()).unwrap());
    /// ```
    pub fn offline_buffer(mut self, buffer: OfflineBuffer) -> Self {
        self.buffer = Some(buffer);
        self
    }

    /// Connect, write and read timeouts of each exchange with the server.
    ///
    /// ```
    /// # use thingstead::device::{Credentials, DeviceClient, Timeouts};
    /// let b = DeviceClient::builder(Credentials::default()).timeouts(Timeouts::default());
    /// ```
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// What a send does when it finds the network down: connect first
    /// (bounded by a timeout, one attempt for concurrent senders, pausing
    /// longer after each failure) or not at all. See [`ConnectPolicy`] for
    /// the defaults.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use thingstead::device::{ConnectPolicy, Credentials, DeviceClient};
    /// let b = DeviceClient::builder(Credentials::default())
    ///     .connect_policy(ConnectPolicy::default().with_timeout(Duration::from_secs(10)));
    /// ```
    pub fn connect_policy(mut self, policy: ConnectPolicy) -> Self {
        self.connect_policy = policy;
        self
    }

    /// Makes the client (inside a tokio runtime). With a buffer that holds
    /// messages from an earlier run and a connected network, sending them
    /// starts at once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::builder(Credentials::default()).build().await.unwrap();
    /// # }
    /// ```
    pub async fn build(self) -> Result<DeviceClient, DeviceError> {
        let network = match self.network {
            Some(network) => network,
            None => network_of(self.network_type).await?,
        };
        DeviceClient::assemble(
            self.credentials,
            network,
            self.mode,
            self.authentication,
            self.buffer,
            self.timeouts,
            self.connect_policy,
        )
    }
}
