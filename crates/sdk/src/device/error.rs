//! The error type of the device SDK.

use thingstead_proto::device::{E164Error, TopicError};

use super::buffer::BufferError;
use super::config::ConfigError;
use super::network::NetworkError;

/// Everything that can go wrong in the device SDK.
///
/// A send that reached the server never fails with this type: the server's
/// answer, good or bad, is a [`SendOutcome`](super::SendOutcome).
///
/// ```
/// use thingstead::device::{Credentials, DeviceError};
/// let err = Credentials::from_devicekey("short").unwrap_err();
/// assert!(matches!(err, DeviceError::InvalidDeviceKey));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No device key: neither `cloud_id` + `cloud_key` nor a devicekey were given.
    #[error("no device key: give a devicekey or a cloud_id and a cloud_key")]
    MissingDeviceKey,
    /// The device key is not 8 characters of `[a-z0-9]`.
    #[error("a device key (cloud_id + cloud_key) is exactly 8 characters of [a-z0-9]")]
    InvalidDeviceKey,
    /// TOTP authentication needs `device_id` (the device uuid) and `private_key` (the seed).
    #[error("TOTP authentication needs the device uuid (device_id) and its TOTP seed (private_key)")]
    MissingTotpIdentity,
    /// The TOTP seed is neither a base32 secret nor an `otpauth://` URI.
    #[error("invalid TOTP seed: {0}")]
    InvalidTotpSeed(String),
    /// The system clock is before 1970, so no TOTP code can be computed.
    #[error("the system clock is before the Unix epoch")]
    Clock,
    /// A topic is malformed.
    #[error("invalid topic {topic:?}: {source}")]
    InvalidTopic {
        /// The topic as given.
        topic: String,
        /// Why it is invalid.
        source: TopicError,
    },
    /// An SMS destination is not an E.164 number (`+` and 8 to 15 digits).
    #[error("invalid SMS destination {destination:?}: {source}")]
    InvalidDestination {
        /// The destination as given.
        destination: String,
        /// Why it is invalid.
        source: E164Error,
    },
    /// An SMS text is longer than 160 characters.
    #[error("an SMS is at most 160 characters, this one has {chars}")]
    SmsTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// The operation does not exist in the current mode.
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// The network is down and no offline buffer is configured.
    #[error("the network is not connected")]
    NetworkDown,
    /// The server could not be reached: nothing was sent.
    #[error("cannot reach {target}: {source}")]
    Unreachable {
        /// `host:port` as configured.
        target: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A periodic interval shorter than one second.
    #[error("the periodic interval must be at least 1 second")]
    IntervalTooShort,
    /// A periodic send or a receiver is already running on this client.
    #[error("{0} is already running")]
    AlreadyRunning(&'static str),
    /// The inbound listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The async client was created outside a tokio runtime, or the blocking
    /// client was used inside one.
    #[error("{0}")]
    Runtime(&'static str),
    /// The offline buffer failed.
    #[error(transparent)]
    Buffer(#[from] BufferError),
    /// The network implementation failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A configuration file could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listener's address could not be read.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl DeviceError {
    /// True when the error means the frame never left this device (the server
    /// was unreachable or the network is down), so the message may safely be
    /// sent again later.
    ///
    /// ```
    /// use thingstead::device::DeviceError;
    /// assert!(DeviceError::NetworkDown.is_not_delivered());
    /// assert!(!DeviceError::MissingDeviceKey.is_not_delivered());
    /// ```
    pub fn is_not_delivered(&self) -> bool {
        matches!(self, Self::NetworkDown | Self::Unreachable { .. })
    }
}
