//! [`ThingsApi`]: one server, one HTTP client, one token; every resource
//! handle of [`crate::things`] sends its calls through it.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use super::auth::TokenState;
use super::error::{Result, ThingsError};
use super::response::{RawResponse, Response};
use super::space::Space;

/// The host used when none is given and `THINGSTEAD_HOST` is not set.
pub const DEFAULT_HOST: &str = "http://127.0.0.1:8080";
/// The default time limit of one call (the IoT Studio client's 3 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// The default margin before a token's expiry at which a new one is
/// fetched (the IoT Studio client's 10 s).
pub const DEFAULT_REFRESH_THRESHOLD: Duration = Duration::from_secs(10);

const JSON_PATCH: &str = "application/json-patch+json";

/// How a [`ThingsApi`] is made.
///
/// ```
/// use std::time::Duration;
/// use thingstead::things::ThingsApi;
/// let api = ThingsApi::builder()
///     .host("http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(3))
///     .refresh_threshold(Duration::from_secs(10))
///     .build()?;
/// assert_eq!(api.host(), "http://127.0.0.1:8080");
/// # Ok::<(), thingstead::things::ThingsError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ThingsApiBuilder {
    host: Option<String>,
    verify_tls: bool,
    root_certificates: Vec<Vec<u8>>,
    refresh_threshold: Duration,
    timeout: Duration,
}

impl Default for ThingsApiBuilder {
    fn default() -> Self {
        Self {
            host: None,
            verify_tls: true,
            root_certificates: Vec::new(),
            refresh_threshold: DEFAULT_REFRESH_THRESHOLD,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl ThingsApiBuilder {
    /// The server's base URL, e.g. `https://things.example.com`. Default:
    /// `$THINGSTEAD_HOST`, else [`DEFAULT_HOST`].
    ///
    /// ```
    /// let b = thingstead::things::ThingsApi::builder().host("http://10.0.0.2:8080");
    /// ```
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Whether server certificates are verified (default `true`). `false`
    /// accepts any certificate: for tests and trusted networks only.
    ///
    /// ```
    /// let b = thingstead::things::ThingsApi::builder().verify_tls(false);
    /// ```
    pub fn verify_tls(mut self, verify: bool) -> Self {
        self.verify_tls = verify;
        self
    }

    /// Also trust the CA certificate(s) in `pem` (a private CA), besides
    /// the public roots. May be called several times.
    ///
    /// ```no_run
    /// let pem = std::fs::read("ca.pem")?;
    /// let b = thingstead::things::ThingsApi::builder().root_certificate_pem(pem);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// With client credentials, a new token is fetched when the current one
    /// expires within this margin (default 10 s).
    ///
    /// ```
    /// let b = thingstead::things::ThingsApi::builder().refresh_threshold(std::time::Duration::from_secs(30));
    /// ```
    pub fn refresh_threshold(mut self, threshold: Duration) -> Self {
        self.refresh_threshold = threshold;
        self
    }

    /// The time limit of one HTTP call, connection included (default 3 s).
    ///
    /// ```
    /// let b = thingstead::things::ThingsApi::builder().timeout(std::time::Duration::from_secs(10));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client. Fails with [`ThingsError::Config`] on a host that is
    /// not an `http(s)://` URL or a bad certificate.
    ///
    /// ```
    /// assert!(thingstead::things::ThingsApi::builder().host("ftp://x").build().is_err());
    /// ```
    pub fn build(self) -> Result<ThingsApi> {
        let host = match self.host {
            Some(h) => h,
            None => std::env::var("THINGSTEAD_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_HOST.to_owned()),
        };
        let host = host.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&host).map_err(|e| ThingsError::Config(format!("host {host:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ThingsError::Config(format!(
                "host {host:?}: expected http://host[:port] or https://host[:port]"
            )));
        }
        let mut client = reqwest::Client::builder().connect_timeout(self.timeout);
        if self.verify_tls {
            let tls = crate::http::tls::config(&self.root_certificates).map_err(ThingsError::Config)?;
            client = client.use_preconfigured_tls((*tls).clone());
        } else {
            client = client.danger_accept_invalid_certs(true);
        }
        let client = client
            .build()
            .map_err(|e| ThingsError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(ThingsApi {
            inner: Arc::new(Inner {
                client,
                host,
                timeout: self.timeout,
                refresh_threshold: self.refresh_threshold,
                token: tokio::sync::Mutex::new(TokenState::default()),
            }),
        })
    }
}

/// The things API of one server (WIRE.md A): authenticate with
/// [`set_token`](ThingsApi::set_token) or
/// [`set_credentials`](ThingsApi::set_credentials), then work in a
/// [`space`](ThingsApi::space). Cloning is cheap and shares the token.
///
/// ```no_run
/// use thingstead::things::ThingsApi;
/// # async fn demo() -> thingstead::things::Result<()> {
/// let api = ThingsApi::builder().host("http://127.0.0.1:8080").build()?;
/// api.set_credentials("client-id", "secret", &["thing", "category"]).await?;
/// let thing = api.space("acme").thing("t-1").get().await?;
/// println!("{:?} {}", thing.value.title, thing.raw().status);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ThingsApi {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) client: reqwest::Client,
    pub(crate) host: String,
    pub(crate) timeout: Duration,
    pub(crate) refresh_threshold: Duration,
    pub(crate) token: tokio::sync::Mutex<TokenState>,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// `application/json`.
    Json(Vec<u8>),
    /// `application/json-patch+json`.
    JsonPatch(Vec<u8>),
}

impl Body {
    pub(crate) fn json(value: &impl serde::Serialize) -> Result<Self> {
        serde_json::to_vec(value)
            .map(Body::Json)
            .map_err(|e| ThingsError::Config(format!("cannot encode the body: {e}")))
    }

    pub(crate) fn json_patch(value: &impl serde::Serialize) -> Result<Self> {
        serde_json::to_vec(value)
            .map(Body::JsonPatch)
            .map_err(|e| ThingsError::Config(format!("cannot encode the patch: {e}")))
    }
}

/// One call: method, path below the host, query, body.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
}

impl Request {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }

    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }
}

impl ThingsApi {
    /// A builder with the defaults (see [`ThingsApiBuilder`]).
    ///
    /// ```
    /// let api = thingstead::things::ThingsApi::builder().build()?;
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn builder() -> ThingsApiBuilder {
        ThingsApiBuilder::default()
    }

    /// The server's base URL.
    ///
    /// ```
    /// let api = thingstead::things::ThingsApi::builder().host("http://h:1/").build()?;
    /// assert_eq!(api.host(), "http://h:1");
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// The resources of space `space` (an organization).
    ///
    /// ```
    /// let api = thingstead::things::ThingsApi::builder().build()?;
    /// let acme = api.space("acme");
    /// # Ok::<(), thingstead::things::ThingsError>(())
    /// ```
    pub fn space(&self, space: &str) -> Space {
        Space::new(self.clone(), space)
    }

    /// A copy sharing the HTTP client and settings but with no token of
    /// its own yet.
    pub(crate) fn fresh(&self) -> Self {
        Self {
            inner: Arc::new(Inner {
                client: self.inner.client.clone(),
                host: self.inner.host.clone(),
                timeout: self.inner.timeout,
                refresh_threshold: self.inner.refresh_threshold,
                token: tokio::sync::Mutex::new(TokenState::default()),
            }),
        }
    }

    /// Sends `request` with the bearer token; an error status is
    /// [`ThingsError::Api`].
    pub(crate) async fn send(&self, request: &Request) -> Result<RawResponse> {
        let token = self.bearer().await?;
        let what = format!("{} {}", request.method, request.path);
        let mut builder = self
            .inner
            .client
            .request(request.method.clone(), format!("{}{}", self.inner.host, request.path))
            .timeout(self.inner.timeout);
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        builder = match &request.body {
            Some(Body::Json(b)) => builder.header(CONTENT_TYPE, "application/json").body(b.clone()),
            Some(Body::JsonPatch(b)) => builder.header(CONTENT_TYPE, JSON_PATCH).body(b.clone()),
            None => builder,
        };
        let raw = self.receive(&what, builder).await?;
        if raw.status.is_client_error() || raw.status.is_server_error() {
            return Err(ThingsError::from_status(raw));
        }
        Ok(raw)
    }

    /// Sends `builder` and reads the whole response.
    pub(crate) async fn receive(&self, what: &str, builder: reqwest::RequestBuilder) -> Result<RawResponse> {
        let response = builder.send().await.map_err(|e| ThingsError::from_reqwest(what, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| ThingsError::from_reqwest(what, &e))?;
        Ok(RawResponse::new(status, headers, body))
    }

    /// Sends `request` and decodes the JSON body as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, request: &Request) -> Result<Response<T>> {
        let raw = self.send(request).await?;
        decode(raw)
    }

    /// Sends `request` whose success has no body to read (204, 202).
    pub(crate) async fn call_empty(&self, request: &Request) -> Result<Response<()>> {
        let raw = self.send(request).await?;
        Ok(Response::new((), raw))
    }
}

/// The JSON body of `raw` as `T`, or [`ThingsError::Decode`].
pub(crate) fn decode<T: DeserializeOwned>(raw: RawResponse) -> Result<Response<T>> {
    match serde_json::from_slice::<T>(&raw.body) {
        Ok(value) => Ok(Response::new(value, raw)),
        Err(e) => Err(ThingsError::decode(e, raw)),
    }
}

/// `segment` percent-encoded for one path segment (everything but
/// `A-Z a-z 0-9 - . _ ~`).
pub(crate) fn segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded_slashes_included() {
        assert_eq!(segment("a b/c:d"), "a%20b%2Fc%3Ad");
        assert_eq!(segment("Sensors_1-x.y~"), "Sensors_1-x.y~");
        assert_eq!(segment("grüß"), "gr%C3%BC%C3%9F");
    }

    #[test]
    fn the_host_must_be_an_http_url() {
        assert!(ThingsApi::builder().host("localhost:8080").build().is_err());
        assert!(ThingsApi::builder().host("https://h").build().is_ok());
    }
}
