//! Start options (exp-sdk's `exp.start(...)` keywords), validated into one
//! kind of login.

use std::time::Duration;

use super::error::{Error, Result};

/// The default time limit of one API call (exp-sdk's 10 s).
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(10);

/// How an [`App`](super::App) starts: the server and one set of
/// credentials. Set the fields one by one as exp-sdk's keywords, or use
/// [`Options::user`], [`Options::device`], [`Options::consumer_app`];
/// [`Options::validate`] (called by `App::start`) refuses missing or
/// inconsistent combinations with [`Error::Runtime`].
///
/// ```
/// use thingstead::app::Options;
/// let options = Options::new("http://127.0.0.1:8080").user("alice", "secret", "acme");
/// assert!(options.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) host: String,
    username: Option<String>,
    password: Option<String>,
    organization: Option<String>,
    uuid: Option<String>,
    secret: Option<String>,
    api_key: Option<String>,
    allow_pairing: bool,
    pub(crate) enable_network: bool,
    pub(crate) api_timeout: Duration,
    pub(crate) root_certificates: Vec<Vec<u8>>,
}

/// Who logs in, as decided by [`Options::validate`].
///
/// ```
/// use thingstead::app::{Login, Options};
/// let login = Options::new("http://h").device("uuid-1", "s3cret").validate().unwrap();
/// assert!(matches!(login, Login::Device { allow_pairing: false, .. }));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    /// A user of an organization.
    User {
        /// Username.
        username: String,
        /// Password.
        password: String,
        /// Organization name.
        organization: String,
    },
    /// A device with its secret.
    Device {
        /// Device uuid.
        uuid: String,
        /// Device secret (signs the login JWT).
        secret: String,
        /// Whether the server may fall back to a pairing identity.
        allow_pairing: bool,
    },
    /// A device without credentials asking to be paired.
    Pairing,
    /// A consumer app with its api key.
    ConsumerApp {
        /// App uuid.
        uuid: String,
        /// Api key (signs the login JWT).
        api_key: String,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User {
                username, organization, ..
            } => write!(f, "User({username}@{organization})"),
            Self::Device {
                uuid, allow_pairing, ..
            } => write!(f, "Device({uuid}, allow_pairing={allow_pairing})"),
            Self::Pairing => f.write_str("Pairing"),
            Self::ConsumerApp { uuid, .. } => write!(f, "ConsumerApp({uuid})"),
        }
    }
}

impl Options {
    /// Options for the server at `host` (`http://host:port`), no
    /// credentials yet, realtime enabled.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://127.0.0.1:8080");
    /// ```
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into().trim_end_matches('/').to_owned(),
            username: None,
            password: None,
            organization: None,
            uuid: None,
            secret: None,
            api_key: None,
            allow_pairing: false,
            enable_network: true,
            api_timeout: DEFAULT_API_TIMEOUT,
            root_certificates: Vec::new(),
        }
    }

    /// Log in as a user.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").user("alice", "pw", "acme");
    /// ```
    pub fn user(
        self,
        username: impl Into<String>,
        password: impl Into<String>,
        organization: impl Into<String>,
    ) -> Self {
        self.username(username).password(password).organization(organization)
    }

    /// Log in as a device with its secret.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").device("d-uuid", "secret");
    /// ```
    pub fn device(self, uuid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.uuid(uuid).secret(secret)
    }

    /// Log in as a consumer app with its api key.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").consumer_app("a-uuid", "key");
    /// ```
    pub fn consumer_app(self, uuid: impl Into<String>, api_key: impl Into<String>) -> Self {
        self.uuid(uuid).api_key(api_key)
    }

    /// The `username` keyword.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").username("alice");
    /// ```
    pub fn username(mut self, v: impl Into<String>) -> Self {
        self.username = Some(v.into());
        self
    }

    /// The `password` keyword.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").password("pw");
    /// ```
    pub fn password(mut self, v: impl Into<String>) -> Self {
        self.password = Some(v.into());
        self
    }

    /// The `organization` keyword.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").organization("acme");
    /// ```
    pub fn organization(mut self, v: impl Into<String>) -> Self {
        self.organization = Some(v.into());
        self
    }

    /// The `uuid` keyword (device or consumer app).
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").uuid("d-uuid");
    /// ```
    pub fn uuid(mut self, v: impl Into<String>) -> Self {
        self.uuid = Some(v.into());
        self
    }

    /// The `secret` keyword (device).
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").secret("s");
    /// ```
    pub fn secret(mut self, v: impl Into<String>) -> Self {
        self.secret = Some(v.into());
        self
    }

    /// The `api_key` keyword (consumer app).
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").api_key("k");
    /// ```
    pub fn api_key(mut self, v: impl Into<String>) -> Self {
        self.api_key = Some(v.into());
        self
    }

    /// The `allow_pairing` keyword: a device without (valid) credentials
    /// logs in with a pairing identity.
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").allow_pairing(true);
    /// ```
    pub fn allow_pairing(mut self, v: bool) -> Self {
        self.allow_pairing = v;
        self
    }

    /// The `enable_network` keyword: `false` starts no realtime connection
    /// (listening is then refused; broadcasting still works).
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").enable_network(false);
    /// ```
    pub fn enable_network(mut self, v: bool) -> Self {
        self.enable_network = v;
        self
    }

    /// The time limit of one API call (default [`DEFAULT_API_TIMEOUT`]).
    ///
    /// ```
    /// let o = thingstead::app::Options::new("http://h").api_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn api_timeout(mut self, v: Duration) -> Self {
        self.api_timeout = v;
        self
    }

    /// Also trust the CA certificate(s) in `pem` for an `https://` host,
    /// beside the public roots: for a server behind a private CA. It
    /// applies to the API calls and to the realtime websocket (`wss://`)
    /// alike. A PEM without a certificate makes `App::start` fail with
    /// [`Error::Runtime`].
    ///
    /// ```
    /// let pem = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".to_vec();
    /// let o = thingstead::app::Options::new("https://iot.example").root_certificate_pem(pem);
    /// ```
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Which login these options make, or [`Error::Runtime`] when they are
    /// missing or inconsistent.
    ///
    /// ```
    /// use thingstead::app::Options;
    /// assert!(Options::new("http://h").user("a", "b", "c").secret("s").validate().is_err());
    /// assert!(Options::new("http://h").username("a").validate().is_err());
    /// assert!(Options::new("http://h").allow_pairing(true).validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<Login> {
        let bad = |m: &str| Err(Error::Runtime(m.to_owned()));
        if !(self.host.starts_with("http://") || self.host.starts_with("https://")) {
            return bad("host must be an http:// or https:// URL");
        }
        let user_parts = [&self.username, &self.password, &self.organization];
        let any_user = user_parts.iter().any(|p| p.is_some());
        let any_device = self.uuid.is_some() || self.secret.is_some() || self.api_key.is_some();
        if any_user && any_device {
            return bad(
                "give either a username, password and organization, or a uuid with a secret or an api_key, not both",
            );
        }
        if any_user {
            return match (&self.username, &self.password, &self.organization) {
                (Some(u), Some(p), Some(o)) if !u.is_empty() && !o.is_empty() => Ok(Login::User {
                    username: u.clone(),
                    password: p.clone(),
                    organization: o.clone(),
                }),
                _ => bad("a user login needs a username, a password and an organization"),
            };
        }
        match (&self.uuid, &self.secret, &self.api_key) {
            (_, Some(_), Some(_)) => bad("give a device secret or a consumer app api_key, not both"),
            (Some(uuid), Some(secret), None) if !uuid.is_empty() => Ok(Login::Device {
                uuid: uuid.clone(),
                secret: secret.clone(),
                allow_pairing: self.allow_pairing,
            }),
            (Some(uuid), None, Some(api_key)) if !uuid.is_empty() => {
                if self.allow_pairing {
                    return bad("allow_pairing is for devices, not consumer apps");
                }
                Ok(Login::ConsumerApp {
                    uuid: uuid.clone(),
                    api_key: api_key.clone(),
                })
            }
            (None, None, None) if self.allow_pairing => Ok(Login::Pairing),
            (None, None, None) => bad(
                "no credentials: give a username, password and organization; a uuid and secret; a uuid and api_key; or allow_pairing",
            ),
            _ => bad("a device needs a uuid and a secret; a consumer app a uuid and an api_key"),
        }
    }
}
