//! The one error type of the things client, [`ThingsError`]: every
//! failure that had a response carries it raw.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::response::RawResponse;

/// The IoT Studio error body: `{"error": {"status", "message", "details"}}`
/// (WIRE.md A.1). When the server sent none, `status` is the HTTP status
/// and `message` the start of the body.
///
/// ```
/// let e: thingstead::things::ErrorBody = serde_json::from_str(r#"{"status":404,"message":"no such thing"}"#).unwrap();
/// assert_eq!(e.status, 404);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The HTTP status the server meant.
    pub status: u16,
    /// What went wrong, for people.
    pub message: String,
    /// Optional details (e.g. which field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// An OAuth2 error (RFC 6749 5.2): `{"error", "error_description"}`.
///
/// ```
/// let e: thingstead::things::OAuthError = serde_json::from_str(r#"{"error":"invalid_client"}"#).unwrap();
/// assert_eq!(e.error, "invalid_client");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthError {
    /// The error code, e.g. `invalid_client`, `invalid_scope`.
    pub error: String,
    /// A sentence for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Everything that can go wrong in [`crate::things`].
///
/// ```
/// use thingstead::things::ThingsError;
/// fn is_missing(e: &ThingsError) -> bool {
///     matches!(e, ThingsError::Api { status: 404, .. })
/// }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ThingsError {
    /// The server answered with an error status (>= 400).
    #[error("HTTP {status}: {}", error.message)]
    Api {
        /// The HTTP status.
        status: u16,
        /// The parsed error body.
        error: ErrorBody,
        /// The whole response.
        raw: Box<RawResponse>,
    },
    /// The token endpoint refused the client credentials or the revocation.
    #[error("OAuth2 error {}: {}", error.error, error.error_description.as_deref().unwrap_or(""))]
    Auth {
        /// The OAuth2 error.
        error: OAuthError,
        /// The token endpoint's response, when there was one.
        raw: Option<Box<RawResponse>>,
    },
    /// The server could not be reached, or the connection broke.
    #[error("network error: {0}")]
    Network(String),
    /// No answer within the client's timeout.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A success status whose body does not fit the expected model.
    #[error("cannot decode the response ({message})")]
    Decode {
        /// What did not fit.
        message: String,
        /// The whole response.
        raw: Box<RawResponse>,
    },
    /// The client was used wrongly or could not be set up (bad host, bad
    /// certificate, revoke without credentials, a blocking call inside an
    /// async runtime).
    #[error("client error: {0}")]
    Config(String),
    /// A list's server sent a cursor it had sent before; following it
    /// would loop forever.
    #[error("the server repeated the paging cursor {cursor:?}")]
    RepeatedCursor {
        /// The repeated cursor.
        cursor: String,
    },
}

impl ThingsError {
    /// The HTTP status of the response, when there was one.
    ///
    /// ```
    /// # use thingstead::things::ThingsError;
    /// assert_eq!(ThingsError::Network("down".into()).status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Auth { raw, .. } => raw.as_ref().map(|r| r.status.as_u16()),
            Self::Decode { raw, .. } => Some(raw.status.as_u16()),
            _ => None,
        }
    }

    /// The raw response, when there was one.
    ///
    /// ```
    /// # use thingstead::things::ThingsError;
    /// assert!(ThingsError::Timeout("GET /".into()).raw().is_none());
    /// ```
    pub fn raw(&self) -> Option<&RawResponse> {
        match self {
            Self::Api { raw, .. } | Self::Decode { raw, .. } => Some(raw),
            Self::Auth { raw, .. } => raw.as_deref(),
            _ => None,
        }
    }

    /// The error for an error status: the IoT Studio body when there is
    /// one, else the status and the start of the body.
    pub(crate) fn from_status(raw: RawResponse) -> Self {
        let status = raw.status.as_u16();
        let parsed = serde_json::from_slice::<Value>(&raw.body)
            .ok()
            .and_then(|v| v.get("error").cloned())
            .and_then(|e| serde_json::from_value::<ErrorBody>(e).ok());
        let error = parsed.unwrap_or_else(|| ErrorBody {
            status,
            message: {
                let text = raw.text();
                let text: String = text.chars().take(200).collect();
                if text.is_empty() {
                    raw.status.canonical_reason().unwrap_or("error").to_owned()
                } else {
                    text
                }
            },
            details: None,
        });
        Self::Api {
            status,
            error,
            raw: Box::new(raw),
        }
    }

    pub(crate) fn decode(message: impl std::fmt::Display, raw: RawResponse) -> Self {
        Self::Decode {
            message: message.to_string(),
            raw: Box::new(raw),
        }
    }

    pub(crate) fn from_reqwest(what: &str, e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout(what.to_owned())
        } else {
            Self::Network(format!("{what}: {}", crate::http::describe(e)))
        }
    }
}

/// The result type of [`crate::things`].
///
/// ```
/// fn f() -> thingstead::things::Result<()> { Ok(()) }
/// ```
pub type Result<T, E = ThingsError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(
            reqwest::StatusCode::from_u16(status).expect("status"),
            Default::default(),
            body.to_owned().into(),
        )
    }

    #[test]
    fn the_iot_studio_error_body_is_parsed_and_others_are_kept_readable() {
        let e = ThingsError::from_status(raw(
            404,
            r#"{"error":{"status":404,"message":"no such thing"},"paging":{}}"#,
        ));
        assert!(matches!(&e, ThingsError::Api { status: 404, error, .. } if error.message == "no such thing"));
        let e = ThingsError::from_status(raw(502, "<html>bad gateway</html>"));
        assert!(matches!(&e, ThingsError::Api { status: 502, error, .. } if error.message.contains("bad gateway")));
        assert_eq!(e.raw().map(|r| r.text()), Some("<html>bad gateway</html>".into()));
        let e = ThingsError::from_status(raw(500, ""));
        assert!(matches!(&e, ThingsError::Api { error, .. } if error.message == "Internal Server Error"));
    }
}
