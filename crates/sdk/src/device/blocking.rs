//! A blocking facade over [`DeviceClient`](super::DeviceClient) for code
//! without an async runtime. It owns a small tokio runtime (one worker
//! thread) that also runs the background tasks: network watcher, periodic
//! send, receiver. Do not use it inside an async runtime: its methods then
//! return [`DeviceError::Runtime`].
//!
//! ```no_run
//! use thingstead::device::Credentials;
//! use thingstead::device::blocking::DeviceClient;
//! let client = DeviceClient::new(Credentials::from_devicekey("abcd1234")?)?;
//! let outcome = client.send_message("hello", &["greetings"])?;
//! println!("{} {}", outcome.code(), outcome.description());
//! # Ok::<(), thingstead::device::DeviceError>(())
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;

use super::{
    Authentication, Callback, Credentials, DeviceClientBuilder, DeviceError, Event, EventName, FlushReport,
    InboundMessage, Mode, Network, NetworkType, SendOutcome,
};

/// The blocking device client. Same behaviour as the async
/// [`DeviceClient`](super::DeviceClient); see its docs.
///
/// ```no_run
/// # use thingstead::device::{Credentials, blocking::DeviceClient};
/// let client = DeviceClient::new(Credentials::new("abcd", "1234"))?;
/// client.send_sms("+15555550123", "hello")?;
/// # Ok::<(), thingstead::device::DeviceError>(())
/// ```
#[derive(Debug)]
pub struct DeviceClient {
    client: super::DeviceClient,
    runtime: Option<Runtime>,
}

const INSIDE_RUNTIME: &str =
    "the blocking device client cannot be used inside an async runtime: use thingstead::device::DeviceClient";

fn runtime() -> Result<Runtime, DeviceError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(DeviceError::Runtime(INSIDE_RUNTIME));
    }
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("thingstead-device")
        .enable_all()
        .build()?)
}

impl DeviceClient {
    /// A client with the defaults of [`DeviceClient::new`](super::DeviceClient::new).
    ///
    /// ```
    /// # use thingstead::device::{Credentials, blocking::DeviceClient};
    /// let client = DeviceClient::new(Credentials::new("abcd", "1234")).unwrap();
    /// ```
    pub fn new(credentials: Credentials) -> Result<Self, DeviceError> {
        let runtime = runtime()?;
        let client = {
            let _entered = runtime.enter();
            super::DeviceClient::new(credentials)?
        };
        Ok(Self {
            client,
            runtime: Some(runtime),
        })
    }

    /// A client from a builder of the async API.
    ///
    /// ```
    /// # use thingstead::device::{Credentials, Mode, DeviceClient as AsyncClient, blocking::DeviceClient};
    /// let client = DeviceClient::build(AsyncClient::builder(Credentials::default()).mode(Mode::Raw)).unwrap();
    /// assert_eq!(client.mode(), Mode::Raw);
    /// ```
    pub fn build(builder: DeviceClientBuilder) -> Result<Self, DeviceError> {
        let runtime = runtime()?;
        let client = runtime.block_on(builder.build())?;
        Ok(Self {
            client,
            runtime: Some(runtime),
        })
    }

    fn block_on<F: Future>(&self, future: F) -> Result<F::Output, DeviceError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(DeviceError::Runtime(INSIDE_RUNTIME));
        }
        let runtime = self
            .runtime
            .as_ref()
            .ok_or(DeviceError::Runtime("the runtime is shut down"))?;
        Ok(runtime.block_on(future))
    }

    /// The async client underneath (sharing state with this one).
    ///
    /// ```
    /// # use thingstead::device::{Credentials, blocking::DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// let _async_client = client.as_async().clone();
    /// ```
    pub fn as_async(&self) -> &super::DeviceClient {
        &self.client
    }

    /// See [`DeviceClient::send_message`](super::DeviceClient::send_message).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let outcome = client.send_message("hi", &[]).unwrap();
    /// ```
    pub fn send_message(&self, data: &str, topics: &[&str]) -> Result<SendOutcome, DeviceError> {
        self.block_on(self.client.send_message(data, topics))?
    }

    /// See [`DeviceClient::send_messages`](super::DeviceClient::send_messages).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let outcomes = client.send_messages(&["a", "b"], &["t"]).unwrap();
    /// ```
    pub fn send_messages(
        &self,
        messages: &[&str],
        topics: &[&str],
    ) -> Result<Vec<Result<SendOutcome, DeviceError>>, DeviceError> {
        self.block_on(self.client.send_messages(messages, topics))
    }

    /// See [`DeviceClient::send_sms`](super::DeviceClient::send_sms).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.send_sms("+15555550123", "hello").unwrap();
    /// ```
    pub fn send_sms(&self, destination: &str, text: &str) -> Result<SendOutcome, DeviceError> {
        self.block_on(self.client.send_sms(destination, text))?
    }

    /// See [`DeviceClient::send_raw`](super::DeviceClient::send_raw).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let reply = client.send_raw(b"raw bytes").unwrap();
    /// ```
    pub fn send_raw(&self, bytes: &[u8]) -> Result<Vec<u8>, DeviceError> {
        self.block_on(self.client.send_raw(bytes))?
    }

    /// See [`DeviceClient::flush_buffer`](super::DeviceClient::flush_buffer).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let report = client.flush_buffer().unwrap();
    /// ```
    pub fn flush_buffer(&self) -> Result<FlushReport, DeviceError> {
        self.block_on(self.client.flush_buffer())?
    }

    /// See [`DeviceClient::buffered_count`](super::DeviceClient::buffered_count).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert_eq!(client.buffered_count().unwrap(), 0);
    /// ```
    pub fn buffered_count(&self) -> Result<usize, DeviceError> {
        self.block_on(self.client.buffered_count())?
    }

    /// See [`DeviceClient::start_periodic`](super::DeviceClient::start_periodic).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.start_periodic(std::time::Duration::from_secs(10), "alive", &[]).unwrap();
    /// ```
    pub fn start_periodic(&self, interval: Duration, data: &str, topics: &[&str]) -> Result<(), DeviceError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or(DeviceError::Runtime("the runtime is shut down"))?;
        let _entered = runtime.enter();
        self.client.start_periodic(interval, data, topics)
    }

    /// See [`DeviceClient::stop_periodic`](super::DeviceClient::stop_periodic).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(!client.stop_periodic());
    /// ```
    pub fn stop_periodic(&self) -> bool {
        self.client.stop_periodic()
    }

    /// See [`DeviceClient::is_periodic_running`](super::DeviceClient::is_periodic_running).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(!client.is_periodic_running());
    /// ```
    pub fn is_periodic_running(&self) -> bool {
        self.client.is_periodic_running()
    }

    /// See [`DeviceClient::start_receiving`](super::DeviceClient::start_receiving).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let addr = client.start_receiving("127.0.0.1", 0).unwrap();
    /// assert!(client.is_receiving());
    /// ```
    pub fn start_receiving(&self, host: &str, port: u16) -> Result<SocketAddr, DeviceError> {
        self.block_on(self.client.start_receiving(host, port))?
    }

    /// See [`DeviceClient::stop_receiving`](super::DeviceClient::stop_receiving).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(!client.stop_receiving());
    /// ```
    pub fn stop_receiving(&self) -> bool {
        self.client.stop_receiving()
    }

    /// See [`DeviceClient::is_receiving`](super::DeviceClient::is_receiving).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(!client.is_receiving());
    /// ```
    pub fn is_receiving(&self) -> bool {
        self.client.is_receiving()
    }

    /// See [`DeviceClient::pop_received`](super::DeviceClient::pop_received).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(client.pop_received().is_none());
    /// ```
    pub fn pop_received(&self) -> Option<InboundMessage> {
        self.client.pop_received()
    }

    /// Waits up to `timeout` for a received message.
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(client.recv_timeout(std::time::Duration::from_millis(10)).unwrap().is_none());
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<InboundMessage>, DeviceError> {
        self.block_on(async { tokio::time::timeout(timeout, self.client.next_received()).await.ok() })
    }

    /// See [`DeviceClient::subscribe`](super::DeviceClient::subscribe).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use thingstead::device::{Callback, EventName};
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let cb: Callback = Arc::new(|e| println!("{}", e.name()));
    /// client.subscribe(EventName::MessageSent, cb);
    /// ```
    pub fn subscribe(&self, event: EventName, callback: Callback) -> bool {
        self.client.subscribe(event, callback)
    }

    /// See [`DeviceClient::unsubscribe`](super::DeviceClient::unsubscribe).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use thingstead::device::{Callback, EventName};
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// let cb: Callback = Arc::new(|_| {});
    /// assert!(!client.unsubscribe(EventName::MessageSent, &cb));
    /// ```
    pub fn unsubscribe(&self, event: EventName, callback: &Callback) -> bool {
        self.client.unsubscribe(event, callback)
    }

    /// See [`DeviceClient::broadcast`](super::DeviceClient::broadcast).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.broadcast(&thingstead::device::Event::WifiDisconnected);
    /// ```
    pub fn broadcast(&self, event: &Event) {
        self.client.broadcast(event);
    }

    /// See [`DeviceClient::mode`](super::DeviceClient::mode).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert_eq!(client.mode(), thingstead::device::Mode::Cloud);
    /// ```
    pub fn mode(&self) -> Mode {
        self.client.mode()
    }

    /// See [`DeviceClient::set_mode`](super::DeviceClient::set_mode).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.set_mode(thingstead::device::Mode::Raw);
    /// ```
    pub fn set_mode(&self, mode: Mode) {
        self.client.set_mode(mode);
    }

    /// See [`DeviceClient::set_authentication`](super::DeviceClient::set_authentication).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.set_authentication(thingstead::device::Authentication::CsrPsk).unwrap();
    /// ```
    pub fn set_authentication(&self, authentication: Authentication) -> Result<(), DeviceError> {
        self.client.set_authentication(authentication)
    }

    /// See [`DeviceClient::set_credentials`](super::DeviceClient::set_credentials).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.set_credentials(thingstead::device::Credentials::new("abcd", "1234")).unwrap();
    /// ```
    pub fn set_credentials(&self, credentials: Credentials) -> Result<(), DeviceError> {
        self.client.set_credentials(credentials)
    }

    /// See [`DeviceClient::set_network_type`](super::DeviceClient::set_network_type).
    ///
    /// ```no_run
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.set_network_type(thingstead::device::NetworkType::System).unwrap();
    /// ```
    pub fn set_network_type(&self, network_type: NetworkType) -> Result<(), DeviceError> {
        self.block_on(self.client.set_network_type(network_type))?
    }

    /// See [`DeviceClient::set_network`](super::DeviceClient::set_network).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// client.set_network(Arc::new(thingstead::device::StaticNetwork::new(true))).unwrap();
    /// ```
    pub fn set_network(&self, network: Arc<dyn Network>) -> Result<(), DeviceError> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or(DeviceError::Runtime("the runtime is shut down"))?;
        let _entered = runtime.enter();
        self.client.set_network(network);
        Ok(())
    }

    /// See [`DeviceClient::network`](super::DeviceClient::network).
    ///
    /// ```
    /// # let client = thingstead::device::blocking::DeviceClient::new(Default::default()).unwrap();
    /// assert!(client.network().is_connected());
    /// ```
    pub fn network(&self) -> Arc<dyn Network> {
        self.client.network()
    }
}

impl Drop for DeviceClient {
    fn drop(&mut self) {
        // Never blocks, so dropping is safe anywhere, even inside a runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
