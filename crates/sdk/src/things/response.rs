//! What every call returns: the typed value and the raw HTTP response it
//! came from.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The HTTP response as it arrived: status, headers and the whole body.
///
/// ```
/// use thingstead::things::RawResponse;
/// let raw = RawResponse::new(reqwest::StatusCode::OK, Default::default(), "{}".into());
/// assert_eq!(raw.text(), "{}");
/// ```
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, possibly empty.
    pub body: Bytes,
}

impl RawResponse {
    /// A raw response from its parts.
    ///
    /// ```
    /// # use thingstead::things::RawResponse;
    /// let raw = RawResponse::new(reqwest::StatusCode::NO_CONTENT, Default::default(), Default::default());
    /// assert!(raw.body.is_empty());
    /// ```
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self { status, headers, body }
    }

    /// The body as text (invalid UTF-8 replaced).
    ///
    /// ```
    /// # use thingstead::things::RawResponse;
    /// let raw = RawResponse::new(reqwest::StatusCode::OK, Default::default(), "hi".into());
    /// assert_eq!(raw.text(), "hi");
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, `None` when it is empty or not JSON.
    ///
    /// ```
    /// # use thingstead::things::RawResponse;
    /// let raw = RawResponse::new(reqwest::StatusCode::OK, Default::default(), r#"{"a":1}"#.into());
    /// assert_eq!(raw.json().unwrap()["a"], 1);
    /// ```
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `Content-Type` header, if any.
    ///
    /// ```
    /// # use thingstead::things::RawResponse;
    /// let raw = RawResponse::new(reqwest::StatusCode::OK, Default::default(), Default::default());
    /// assert_eq!(raw.content_type(), None);
    /// ```
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// A successful call: the typed [`value`](Response::value) and the
/// [`raw`](Response::raw) response.
///
/// ```
/// use thingstead::things::{RawResponse, Response};
/// let raw = RawResponse::new(reqwest::StatusCode::OK, Default::default(), "7".into());
/// let r = Response::new(7, raw);
/// assert_eq!(r.raw().status, 200);
/// assert_eq!(r.into_inner(), 7);
/// ```
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// The typed value of the body.
    pub value: T,
    raw: RawResponse,
}

impl<T> Response<T> {
    /// A response from a value and the raw response it was read from.
    ///
    /// ```
    /// # use thingstead::things::{RawResponse, Response};
    /// let r = Response::new((), RawResponse::new(reqwest::StatusCode::NO_CONTENT, Default::default(), Default::default()));
    /// ```
    pub fn new(value: T, raw: RawResponse) -> Self {
        Self { value, raw }
    }

    /// The raw HTTP response.
    ///
    /// ```
    /// # use thingstead::things::{RawResponse, Response};
    /// # let r = Response::new((), RawResponse::new(reqwest::StatusCode::NO_CONTENT, Default::default(), Default::default()));
    /// assert_eq!(r.raw().status.as_u16(), 204);
    /// ```
    pub fn raw(&self) -> &RawResponse {
        &self.raw
    }

    /// The typed value, dropping the raw response.
    ///
    /// ```
    /// # use thingstead::things::{RawResponse, Response};
    /// # let r = Response::new(1, RawResponse::new(reqwest::StatusCode::OK, Default::default(), "1".into()));
    /// assert_eq!(r.into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and the raw response.
    ///
    /// ```
    /// # use thingstead::things::{RawResponse, Response};
    /// # let r = Response::new(1, RawResponse::new(reqwest::StatusCode::OK, Default::default(), "1".into()));
    /// let (value, raw) = r.into_parts();
    /// ```
    pub fn into_parts(self) -> (T, RawResponse) {
        (self.value, self.raw)
    }

    /// The same response with its value mapped.
    ///
    /// ```
    /// # use thingstead::things::{RawResponse, Response};
    /// # let r = Response::new(1, RawResponse::new(reqwest::StatusCode::OK, Default::default(), "1".into()));
    /// assert_eq!(r.map(|v| v + 1).value, 2);
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            raw: self.raw,
        }
    }
}

impl<T> std::ops::Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}
