//! The device side of Thingstead, compatible with the Hologram device
//! protocol (WIRE C): send messages and SMS to the server, receive
//! cloud-to-device messages, keep messages offline, follow the network.
//!
//! Frames are built and replies read by the shared codec in
//! [`thingstead_proto::device`]; this module owns the sockets, the offline
//! buffer, the event bus and the background tasks.
//!
//! | what | where |
//! |---|---|
//! | who the device is, where the server is | [`Credentials`], [`DeviceConfig`] |
//! | the client and its options | [`DeviceClient`], [`DeviceClientBuilder`], [`NetworkType`], [`Mode`], [`Authentication`], [`ConnectPolicy`] |
//! | send, SMS, periodic, raw | [`DeviceClient::send_message`], [`DeviceClient::send_sms`], [`DeviceClient::start_periodic`], [`DeviceClient::send_raw`] |
//! | inbound messages | [`DeviceClient::start_receiving`], [`InboundMessage`] |
//! | offline buffer | [`OfflineBuffer`], [`FullPolicy`], [`DeviceClient::flush_buffer`] |
//! | events | [`EventBus`], [`Event`], [`EventName`] |
//! | network | [`Network`], [`StaticNetwork`], [`SystemNetwork`], `Cellular`, `Wifi` (Linux) |
//! | without async | [`blocking`] |
//!
//! ```no_run
//! use thingstead::device::{Authentication, Credentials, DeviceClient, FullPolicy, Mode, NetworkType, OfflineBuffer};
//! # async fn demo() -> Result<(), thingstead::device::DeviceError> {
//! let credentials = Credentials::totp("1b4e28ba-2fa1-11d2-883f-0016d3cca427", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
//!     .with_host("iot.example.org")
//!     .with_port(9999);
//! let client = DeviceClient::builder(credentials)
//!     .network_type(NetworkType::System)
//!     .mode(Mode::Cloud)
//!     .authentication(Authentication::Totp)
//!     .offline_buffer(OfflineBuffer::open("/var/lib/mydevice/outbox", 10_000, FullPolicy::DropOldest)?)
//!     .build()
//!     .await?;
//! client.send_message("21.5", &["temperature"]).await?;
//! # Ok(()) }
//! ```

pub mod blocking;
mod buffer;
mod builder;
mod client;
mod config;
mod connect;
mod credentials;
mod error;
mod events;
mod flush;
mod inbound;
#[cfg(feature = "log-format")]
pub mod log_format;
pub mod modem;
mod network;
mod options;
mod outcome;
mod periodic;
mod send;
mod totp;
mod transport;
mod version;

pub use buffer::{BufferError, BufferedMessage, EntryId, FullPolicy, OfflineBuffer};
pub use builder::DeviceClientBuilder;
pub use client::DeviceClient;
pub use config::{ConfigError, ConfigFormat, DeviceConfig};
pub use connect::{ConnectPolicy, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BACKOFF, DEFAULT_MIN_BACKOFF};
pub use credentials::{Credentials, DEFAULT_HOST, DEFAULT_PORT};
pub use error::DeviceError;
pub use events::{Callback, Event, EventBus, EventName, UnknownEventName};
pub use flush::{FLUSHED_MESSAGE_LOG, FlushReport};
pub use inbound::{
    INBOUND_MAX_BYTES, INBOUND_MAX_CONNECTIONS, INBOUND_QUEUE_CAPACITY, INBOUND_READ_TIMEOUT, InboundMessage,
};
pub use network::{
    Cellular, CellularError, CellularOptions, DEFAULT_POLL_INTERVAL, ModemIdentity, ModemSocket,
    NETWORK_EVENT_CAPACITY, Network, NetworkError, RECEIVED_SMS_CAPACITY, ReceivedSms, RegStatus, Signal, SimStatus,
    StaticNetwork, SystemNetwork, probe_system_network,
};
#[cfg(target_os = "linux")]
pub use network::{WIFI_SIGNAL_SAMPLES, Wifi, WifiError, WifiOptions, WifiStatus};
pub use options::{Authentication, Mode, NetworkType};
pub use outcome::SendOutcome;
pub use periodic::MIN_PERIODIC_INTERVAL;
pub use send::check_sms;
pub use thingstead_proto::device::ResultCode;
pub use totp::{TOTP_STEP_SECS, TotpSigner};
pub use transport::Timeouts;
pub use version::{SDK_VERSION, frame_metadata};
