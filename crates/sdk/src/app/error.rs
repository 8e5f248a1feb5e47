//! The one error type of the app SDK, mirroring exp-sdk's exceptions.

use serde_json::Value;

/// Everything that can go wrong in [`crate::app`]. The variants mirror
/// exp-sdk's `UnexpectedError`, `RuntimeError`, `NetworkError`,
/// `AuthenticationError` and `ApiError`; the enum itself is `ExpError`.
///
/// ```
/// use thingstead::app::{Error, Options};
/// let err = Options::new("http://127.0.0.1:8080").validate().unwrap_err();
/// assert!(matches!(err, Error::Runtime(_)));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Something the server or the network did that the SDK did not expect
    /// (a non-JSON error body, a login answered with neither 200 nor 401).
    #[error("unexpected: {0}")]
    Unexpected(String),
    /// The caller used the SDK wrongly: missing or inconsistent options, a
    /// stopped instance, a blocking call inside an async runtime.
    #[error("runtime error: {0}")]
    Runtime(String),
    /// The server could not be reached in time, or a subscription was not
    /// confirmed in time.
    #[error("network error: {0}")]
    Network(String),
    /// The server refused the credentials (401). The instance is stopped.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// The server answered an API call with an error status and a JSON
    /// object `{code, message}`.
    #[error("API error {status} {code}: {message}")]
    Api {
        /// The server's message.
        message: String,
        /// The server's stable error code, e.g. `not_found`.
        code: String,
        /// The HTTP status.
        status: u16,
        /// The whole error body.
        payload: Value,
    },
}

impl Error {
    /// The HTTP status of an [`Error::Api`], else `None`.
    ///
    /// ```
    /// # use thingstead::app::Error;
    /// let e = Error::Api { message: "no".into(), code: "not_found".into(), status: 404, payload: serde_json::json!({}) };
    /// assert_eq!(e.status(), Some(404));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code of an [`Error::Api`], else `None`.
    ///
    /// ```
    /// # use thingstead::app::Error;
    /// assert_eq!(Error::Network("down".into()).code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn network(e: impl std::fmt::Display) -> Self {
        Self::Network(e.to_string())
    }

    pub(crate) fn stopped() -> Self {
        Self::Runtime("this App instance is stopped; start a new one".into())
    }
}

/// The result type of [`crate::app`].
///
/// ```
/// fn f() -> thingstead::app::Result<()> { Ok(()) }
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
