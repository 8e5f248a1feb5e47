//! Settings: defaults < TOML file < `THINGSTEAD_*` environment < flags,
//! one typed [`Settings`] struct.
//!
//! Nested keys in the environment use `__`: `THINGSTEAD_SMS__PROVIDER=smpp`,
//! `THINGSTEAD_DEVICE__MAX_FRAME=131072`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::sms::smpp::SmppSettings;
use crate::sms::webhook::WebhookSettings;

mod env_vars;
mod listen_addr;
mod load_errors;
mod realtime;
mod smtp;
mod things;

pub use realtime::RealtimeSettings;
pub use smtp::{SmtpSettings, SmtpTls};
pub use things::ThingsSettings;

pub use env_vars::SCRIPT_VARIABLES;

/// The file read when `--config` is not given and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "thingstead.toml";

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the store lives (created with mode 0700).
    pub data_dir: PathBuf,
    /// HTTP listen address (port 0: ephemeral).
    pub http: String,
    /// Device TCP listen address (port 0: ephemeral).
    pub device_tcp: String,
    /// Written atomically with the bound addresses once ready.
    pub ready_file: Option<PathBuf>,
    /// Log format.
    pub log_format: LogFormat,
    /// HTTP limits.
    pub http_limits: HttpLimits,
    /// Device TCP protocol limits.
    pub device: DeviceSettings,
    /// Background retention enforcement.
    pub retention: RetentionSettings,
    /// SMS gateway.
    pub sms: SmsSettings,
    /// Cloud-to-device pushes: where they may go and how many at once.
    pub push: PushSettings,
    /// Where the master key that encrypts credentials at rest comes from.
    pub secrets: SecretsSettings,
    /// Seconds between the activity summaries logged at info (0: none).
    pub summary_interval_secs: u64,
    /// The event bus: in process, or NATS across nodes.
    pub bus: BusSettings,
    /// Which database holds the records.
    pub store: StoreSettings,
    /// PROXY protocol headers from trusted load balancers (off by default).
    pub proxy_protocol: ProxyProtocolSettings,
    /// HTTP JSON feeds (`/api/connectors/feeds/{uuid}/data`): where the server may fetch.
    pub feeds: FeedSettings,
    /// Content files and layout images: upload limits.
    pub content: ContentSettings,
    /// Realtime channels: the socket.io endpoint and broadcasts.
    pub realtime: RealtimeSettings,
    /// The things API (`/oauth2`, `/spaces`): token lifetime, request timeout.
    pub things: ThingsSettings,
    /// The SMTP relay of `communications/email` (none by default).
    pub smtp: SmtpSettings,
}

/// What the server may fetch for an HTTP JSON feed (SSRF limits).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedSettings {
    /// CIDRs (`10.0.0.0/8`, `127.0.0.1/32`) a feed's URL may resolve into
    /// besides public addresses. Empty by default: loopback, private,
    /// link-local, shared and other non-public addresses are refused.
    /// `THINGSTEAD_FEEDS__ALLOWED_NETWORKS='["10.0.0.0/8"]'`.
    pub allowed_networks: Vec<String>,
    /// The whole fetch (connect, request, response) must finish within this, in ms.
    pub timeout_ms: u64,
    /// Largest response body accepted from a feed's URL, in bytes.
    pub max_response_bytes: usize,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            allowed_networks: Vec::new(),
            timeout_ms: 5_000,
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// Uploads of content files, their variants and location layout images
/// (`/api/content/...`, `/api/locations/{uuid}/layout`). These routes
/// stream their bodies into the store and have their own limits; the rest
/// of `/api` keeps `http_limits`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentSettings {
    /// Largest upload (a file, a variant or a layout image), in bytes;
    /// larger ones are refused with 413 and nothing is kept.
    pub max_file_bytes: u64,
    /// Seconds an upload may take from its first byte to its last (408
    /// after that, and nothing is kept); the API's other requests keep
    /// `http_limits.request_timeout_secs`.
    pub upload_timeout_secs: u64,
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 512 * 1024 * 1024,
            upload_timeout_secs: 3600,
        }
    }
}

/// The store backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// The embedded SQLite store in `data_dir` (one node).
    #[default]
    Sqlite,
    /// A PostgreSQL database at `store.url` (several stateless nodes).
    Postgres,
}

/// Where the records live.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite` (default) or `postgres`.
    pub backend: StoreBackend,
    /// For `postgres`: `postgres://user:password@host:port/database`
    /// (masked in `config print`); `?sslmode=disable|prefer|require|verify-full`
    /// chooses TLS (default `prefer`).
    pub url: Option<String>,
    /// For `postgres` with `sslmode=verify-full`: a PEM file of the CA(s) to
    /// trust instead of the system roots (a private CA).
    pub ca_file: Option<PathBuf>,
}

/// Which bus carries events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BusBackend {
    /// In process (one node); admin commands reach the server through `bus.sock`.
    #[default]
    Local,
    /// NATS at `bus.url`: events reach every node.
    Nats,
}

/// The event bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusSettings {
    /// `local` or `nats`.
    pub backend: BusBackend,
    /// NATS server(s), comma-separated (`nats://host:4222`); used when backend is `nats`.
    pub url: String,
    /// Connecting to NATS at start must succeed within this many ms.
    pub connect_timeout_ms: u64,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            backend: BusBackend::Local,
            url: "nats://127.0.0.1:4222".into(),
            connect_timeout_ms: 5_000,
        }
    }
}

/// Cloud-to-device push limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushSettings {
    /// CIDRs (`10.0.0.0/8`, `fd00::/8`) an explicit `host` may fall within,
    /// besides the device's last-seen address. Empty by default: pushes go
    /// only to where each device last connected from.
    pub allowed_networks: Vec<String>,
    /// Most devices one push request may address.
    pub max_devices: usize,
    /// The whole push request (every device, concurrently) must finish within this, in ms.
    pub deadline_ms: u64,
}

/// The PROXY protocol (HAProxy's v1 text or v2 binary header), for nodes
/// behind a TCP load balancer: the client address in the header becomes the
/// connection's address for every per-address rule, the logs and a device's
/// last-seen address.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyProtocolSettings {
    /// Networks of the load balancers (`10.0.0.0/24`, `fd00::1/128`). A
    /// connection from one of them must begin with a PROXY header, on both
    /// listeners, or it is closed; connections from anywhere else are served
    /// as they come and a header they send is not honoured. Empty (the
    /// default): off. `THINGSTEAD_PROXY_PROTOCOL__TRUSTED='["10.0.0.0/24"]'`.
    pub trusted: Vec<String>,
}

/// Credentials at rest.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsSettings {
    /// The master key file (32 random bytes, mode 0600). Default: `master.key`
    /// in the data dir, created on first start.
    pub master_key_file: Option<PathBuf>,
}

/// HTTP limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Largest request body in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Longest a request may take, in seconds (longer: 408).
    pub request_timeout_secs: u64,
    /// A connection with no bytes moving for this many seconds in the middle
    /// of a request (a stalled body, a client not reading) is closed. Between
    /// requests a keep-alive connection waits at most `head_timeout_secs`
    /// for the next request head.
    pub idle_timeout_secs: u64,
    /// Connections served at once; more wait in the accept backlog.
    pub max_connections: usize,
    /// Connections one source address may hold open; more are closed at once.
    pub max_connections_per_ip: usize,
    /// The whole request head (request line and headers) must arrive within this many seconds.
    pub head_timeout_secs: u64,
    /// Message streams (`GET /api/1/csr/rdm/stream`) this node holds open at
    /// once; more get 429 (0: streams are refused).
    /// `THINGSTEAD_HTTP_LIMITS__MAX_STREAMS`.
    pub max_streams: usize,
    /// Message streams one organization may hold open on this node; more
    /// get 429. `THINGSTEAD_HTTP_LIMITS__MAX_STREAMS_PER_ORG`.
    pub max_streams_per_org: usize,
}

/// Device TCP protocol limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceSettings {
    /// Largest frame in bytes, terminator included (larger: error reply and close).
    pub max_frame: usize,
    /// A connection that sends no complete frame within this many ms is closed.
    pub idle_timeout_ms: u64,
    /// Connections served at once; more wait in the accept backlog.
    pub max_connections: usize,
    /// Cloud-to-device: connect and write timeout, in ms.
    pub push_timeout_ms: u64,
    /// A connection whose first byte does not arrive within this many ms is closed.
    pub first_byte_timeout_ms: u64,
    /// Connections one source address may hold open; more are closed at once.
    pub max_connections_per_ip: usize,
    /// Failed device-key look-ups one source address may make per second
    /// (a token bucket; refused frames beyond it get code 3 unchecked).
    pub auth_failures_per_sec: f64,
    /// The token bucket's size: failures allowed in a burst.
    pub auth_failure_burst: u32,
}

/// Retention enforcement.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Seconds between sweeps.
    pub interval_secs: u64,
}

/// Which SMS provider sends the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmsProviderKind {
    /// None: SMS stay queued.
    #[default]
    None,
    /// An SMPP 3.4 SMSC.
    Smpp,
    /// An HTTP webhook.
    Webhook,
}

/// SMS gateway settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// The provider.
    pub provider: SmsProviderKind,
    /// Attempts before an SMS is marked failed.
    pub max_attempts: u32,
    /// First retry delay, in ms; doubles each attempt.
    pub backoff_initial_ms: u64,
    /// Longest retry delay, in ms.
    pub backoff_max_ms: u64,
    /// How often the dispatcher looks for due SMS, in ms (it is also woken on enqueue).
    pub poll_interval_ms: u64,
    /// SMPP provider settings.
    pub smpp: SmppSettings,
    /// Webhook provider settings.
    pub webhook: WebhookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./thingstead-data"),
            http: "127.0.0.1:8080".into(),
            device_tcp: "127.0.0.1:9999".into(),
            ready_file: None,
            log_format: LogFormat::Text,
            http_limits: HttpLimits::default(),
            device: DeviceSettings::default(),
            retention: RetentionSettings::default(),
            sms: SmsSettings::default(),
            push: PushSettings::default(),
            secrets: SecretsSettings::default(),
            summary_interval_secs: 60,
            bus: BusSettings::default(),
            store: StoreSettings::default(),
            proxy_protocol: ProxyProtocolSettings::default(),
            feeds: FeedSettings::default(),
            content: ContentSettings::default(),
            realtime: RealtimeSettings::default(),
            things: ThingsSettings::default(),
            smtp: SmtpSettings::default(),
        }
    }
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            allowed_networks: Vec::new(),
            max_devices: 100,
            deadline_ms: 10_000,
        }
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_connections: 1024,
            max_connections_per_ip: 64,
            head_timeout_secs: 5,
            max_streams: 1024,
            max_streams_per_org: 64,
        }
    }
}

impl Default for DeviceSettings {
    fn default() -> Self {
        Self {
            max_frame: thingstead_proto::device::DEFAULT_MAX_FRAME,
            idle_timeout_ms: 10_000,
            max_connections: 4096,
            push_timeout_ms: 5_000,
            first_byte_timeout_ms: 2_000,
            max_connections_per_ip: 2048,
            auth_failures_per_sec: 2.0,
            auth_failure_burst: 10,
        }
    }
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { interval_secs: 60 }
    }
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            provider: SmsProviderKind::None,
            max_attempts: 8,
            backoff_initial_ms: 1_000,
            backoff_max_ms: 300_000,
            poll_interval_ms: 1_000,
            smpp: SmppSettings::default(),
            webhook: WebhookSettings::default(),
        }
    }
}

/// Settings given as command-line flags: the top layer. `None` leaves the
/// lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--http`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// `--device-tcp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_tcp: Option<String>,
    /// `--ready-file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_file: Option<PathBuf>,
    /// `--log-format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The named config file does not exist.
    #[error("config file {0} not found")]
    MissingFile(PathBuf),
    /// A value is malformed or unknown.
    #[error("invalid settings: {0}")]
    Invalid(String),
    /// The config file does not parse or does not fit the settings;
    /// `message` spans several lines (line, column and a caret diagram).
    #[error("config file {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The TOML error with its diagram.
        message: String,
    },
}

impl Settings {
    /// Loads the layers: defaults, then the TOML file (`config`, or
    /// `./thingstead.toml` when present), then `THINGSTEAD_*`, then `flags`.
    pub fn load(config: Option<&Path>, flags: &FlagOverrides) -> Result<Self, SettingsError> {
        Ok(Self::load_with_warnings(config, flags)?.0)
    }

    /// [`Settings::load`], plus a warning for each `THINGSTEAD_*` variable
    /// that names no setting (and is ignored), e.g. a mistyped one.
    pub fn load_with_warnings(
        config: Option<&Path>,
        flags: &FlagOverrides,
    ) -> Result<(Self, Vec<String>), SettingsError> {
        // Only variables naming a setting are read: THINGSTEAD_CONFIG, THINGSTEAD_BIN
        // and the like belong to scripts, and a typo is reported, not read.
        let known = env_vars::key_paths();
        let names: Vec<String> = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()).collect();
        let warnings = env_vars::warnings(names.iter().map(String::as_str), &known);
        let env = Env::prefixed(env_vars::PREFIX)
            .filter(move |key| known.contains(&env_vars::key_path(key.as_str())))
            .split("__");
        Ok((Self::load_with_env(config, flags, env)?, warnings))
    }

    fn load_with_env(config: Option<&Path>, flags: &FlagOverrides, env: Env) -> Result<Self, SettingsError> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        let file = match config {
            Some(path) if !path.exists() => return Err(SettingsError::MissingFile(path.to_owned())),
            Some(path) => Some(path),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => Some(Path::new(DEFAULT_CONFIG_FILE)),
            None => None,
        };
        if let Some(path) = file {
            // Parsed here first so that errors carry line, column and the
            // file's own key names.
            let text = std::fs::read_to_string(path)
                .map_err(|e| SettingsError::Invalid(format!("cannot read config file {}: {e}", path.display())))?;
            toml::from_str::<Settings>(&text).map_err(|e| load_errors::file_error(path, &e))?;
            fig = fig.merge(Toml::file_exact(path));
        }
        let settings: Settings = fig
            .merge(env)
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(load_errors::layered_error)?;
        settings.check_listen_addresses()?;
        settings.validate()?;
        Ok(settings)
    }

    /// `http` and `device_tcp` are `host:port` (checked at load, so that
    /// `config print` catches them before `serve` tries to bind).
    fn check_listen_addresses(&self) -> Result<(), SettingsError> {
        listen_addr::check("http", &self.http).map_err(SettingsError::Invalid)?;
        listen_addr::check("device_tcp", &self.device_tcp).map_err(SettingsError::Invalid)
    }

    /// Checks values the types cannot.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |m: String| Err(SettingsError::Invalid(m));
        if self.store.backend == StoreBackend::Postgres && self.store.url.as_deref().is_none_or(str::is_empty) {
            return invalid("store.backend = \"postgres\" needs store.url (postgres://user:password@host/db)".into());
        }
        #[cfg(feature = "postgres")]
        if self.store.backend == StoreBackend::Postgres
            && let Some(url) = self.store.url.as_deref()
            && let Err(e) = thingstead_core::store::postgres::check_url(url)
        {
            // The store's messages name no secret (the URL is not quoted).
            return invalid(e.to_string());
        }
        if self.device.max_frame < 16 {
            return invalid("device.max_frame must be at least 16 bytes".into());
        }
        if self.device.max_connections == 0 {
            return invalid("device.max_connections must be at least 1".into());
        }
        if self.http_limits.max_connections == 0 {
            return invalid("http_limits.max_connections must be at least 1".into());
        }
        if self.http_limits.max_body_bytes == 0 {
            return invalid("http_limits.max_body_bytes must be at least 1".into());
        }
        if let Err(e) = crate::push::parse_networks(&self.push.allowed_networks) {
            return invalid(format!("push.{e}"));
        }
        if let Err(e) = crate::push::parse_networks(&self.feeds.allowed_networks) {
            return invalid(format!("feeds.{e}"));
        }
        if self.feeds.timeout_ms == 0 || self.feeds.max_response_bytes == 0 {
            return invalid("feeds.timeout_ms and feeds.max_response_bytes must be at least 1".into());
        }
        if let Err(e) = crate::proxy_header::TrustedProxies::parse(&self.proxy_protocol.trusted) {
            return invalid(format!("proxy_protocol.{e}"));
        }
        if let Err(e) = self.realtime.validate() {
            return invalid(e);
        }
        if let Err(e) = self.things.validate() {
            return invalid(e);
        }
        if let Err(e) = self.smtp.validate(self.things.request_timeout_ms) {
            return invalid(e);
        }
        if self.push.max_devices == 0 || self.push.deadline_ms == 0 {
            return invalid("push.max_devices and push.deadline_ms must be at least 1".into());
        }
        if self.bus.backend == BusBackend::Nats && (self.bus.url.trim().is_empty() || self.bus.connect_timeout_ms == 0)
        {
            return invalid(
                "bus.url must be set and bus.connect_timeout_ms at least 1 when bus.backend = \"nats\"".into(),
            );
        }
        match self.sms.provider {
            SmsProviderKind::Smpp => self.sms.smpp.validate().or_else(|e| invalid(format!("sms.smpp: {e}"))),
            SmsProviderKind::Webhook => self
                .sms
                .webhook
                .validate()
                .or_else(|e| invalid(format!("sms.webhook: {e}"))),
            SmsProviderKind::None => Ok(()),
        }
    }

    /// The effective settings as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        let mut value = toml::Value::try_from(self).unwrap_or(toml::Value::Table(Default::default()));
        mask_secrets(&mut value);
        toml::to_string_pretty(&value).unwrap_or_default()
    }
}

const SECRET_KEYS: &[&str] = &["password", "authorization", "secret", "token"];

fn mask_secrets(v: &mut toml::Value) {
    if let toml::Value::Table(t) = v {
        for (k, v) in t.iter_mut() {
            if SECRET_KEYS.contains(&k.as_str()) && v.as_str().is_some_and(|s| !s.is_empty()) {
                *v = toml::Value::String("****".into());
            } else if let Some(masked) = v.as_str().and_then(mask_url_secrets) {
                *v = toml::Value::String(masked);
            } else {
                mask_secrets(v);
            }
        }
    }
}

/// A URL with its userinfo and query values masked, if it has any.
fn mask_url_secrets(s: &str) -> Option<String> {
    // URLs, `user:pw@host` addresses and libpq `key=value` strings.
    if !s.contains("://") && !s.contains('@') && !s.contains("password") {
        return None;
    }
    let masked = crate::redact::url(s);
    (masked != s).then_some(masked)
}

/// A commented default configuration file.
pub const EXAMPLE_TOML: &str = include_str!("../thingstead.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_to_the_defaults() {
        let parsed: Settings = toml::from_str(EXAMPLE_TOML).unwrap();
        assert_eq!(
            toml::Value::try_from(&parsed).unwrap(),
            toml::Value::try_from(Settings::default()).unwrap()
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
    fn layers_override_in_order() {
        let dir = std::env::temp_dir().join(format!("ts-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.toml");
        std::fs::write(
            &file,
            "http = \"127.0.0.1:1\"\ndevice_tcp = \"127.0.0.1:2\"\n[device]\nmax_frame = 1000\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("THINGSTEAD_DEVICE_TCP", "127.0.0.1:3");
            jail.set_env("THINGSTEAD_DEVICE__IDLE_TIMEOUT_MS", "42");
            jail.set_env("THINGSTEAD_BIN", "/not/a/setting");
            let flags = FlagOverrides {
                data_dir: Some("/tmp/x".into()),
                ..Default::default()
            };
            let s = Settings::load(Some(&file), &flags).map_err(|e| e.to_string())?;
            assert_eq!(s.http, "127.0.0.1:1"); // file over default
            assert_eq!(s.device_tcp, "127.0.0.1:3"); // env over file
            assert_eq!(s.device.max_frame, 1000);
            assert_eq!(s.device.idle_timeout_ms, 42);
            assert_eq!(s.data_dir, PathBuf::from("/tmp/x")); // flag over all
            jail.set_env("THINGSTEAD_HTTP", "127.0.0.1:4");
            let flags = FlagOverrides {
                http: Some("127.0.0.1:5".into()),
                ..Default::default()
            };
            let s = Settings::load(Some(&file), &flags).map_err(|e| e.to_string())?;
            assert_eq!(s.http, "127.0.0.1:5");
            Ok(())
        });
    }

    #[test]
    fn secrets_are_masked_in_print() {
        let mut s = Settings::default();
        s.sms.smpp.password = "hunter2".into();
        s.sms.webhook.url = "http://user:pw@sms.example/send?token=SECRET".into();
        s.sms.smpp.addr = "smpp://sysid:smpppw@smsc.example:2775".into();
        let printed = s.to_masked_toml();
        for secret in ["hunter2", ":pw@", "SECRET", "smpppw"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("http://****@sms.example/send?token=****"), "{printed}");
        assert!(printed.contains("smpp://****@smsc.example:2775"), "{printed}");
    }

    #[test]
    fn the_store_url_is_masked_in_print_and_required_for_postgres() {
        let mut s = Settings::default();
        s.store.backend = StoreBackend::Postgres;
        assert!(s.validate().unwrap_err().to_string().contains("store.url"));
        s.store.url = Some("postgres://thingstead:pg-pw-42@db.example:5432/things".into());
        assert!(s.validate().is_ok());
        let printed = s.to_masked_toml();
        assert!(!printed.contains("pg-pw-42"), "{printed}");
        assert!(printed.contains("postgres://****@db.example:5432/things"), "{printed}");
        assert!(printed.contains("backend = \"postgres\""), "{printed}");
        // A libpq connection string too.
        s.store.url = Some("host=db user=ts password=pg-pw-43 dbname=t".into());
        assert!(!s.to_masked_toml().contains("pg-pw-43"));
    }

    /// What `serve` would refuse in `store.url`, `config print` refuses too,
    /// without repeating the URL.
    #[cfg(feature = "postgres")]
    #[test]
    fn a_store_url_serve_would_refuse_is_refused_at_load() {
        let mut s = Settings::default();
        s.store.backend = StoreBackend::Postgres;
        s.store.url = Some("postgres://u:pg-pw-44@h/db?sslmode=bogus".into());
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("sslmode=bogus") && !e.contains("pg-pw-44"), "{e}");
        s.store.url = Some("host=h port=notaport password=pg-pw-45".into());
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("not a PostgreSQL URL") && !e.contains("pg-pw-45"), "{e}");
        s.store.url = Some("postgres://u:p@h/db?sslmode=verify-full".into());
        assert!(s.validate().is_ok());
    }

    #[test]
    fn push_networks_must_be_cidrs() {
        let mut s = Settings::default();
        s.push.allowed_networks = vec!["10.0.0.0/8".into(), "fd00::/8".into()];
        assert!(s.validate().is_ok());
        s.push.allowed_networks.push("10.0.0.300/8".into());
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("10.0.0.300/8"), "{e}");
    }

    #[test]
    fn feed_networks_must_be_cidrs_and_feeds_refuse_private_addresses_by_default() {
        let mut s = Settings::default();
        assert!(s.feeds.allowed_networks.is_empty());
        s.feeds.allowed_networks = vec!["127.0.0.1/32".into()];
        assert!(s.validate().is_ok());
        s.feeds.allowed_networks.push("localhost".into());
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("feeds.") && e.contains("localhost"), "{e}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
    fn proxy_protocol_trusts_networks_from_file_or_environment_and_checks_them() {
        assert!(Settings::default().proxy_protocol.trusted.is_empty(), "off by default");
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "THINGSTEAD_PROXY_PROTOCOL__TRUSTED",
                "[\"10.0.0.0/24\", \"fd00::1/128\"]",
            );
            let s = Settings::load(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(s.proxy_protocol.trusted, ["10.0.0.0/24", "fd00::1/128"]);
            Ok(())
        });
        let mut s = Settings::default();
        s.proxy_protocol.trusted = vec!["10.0.0.1".into()];
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("proxy_protocol.trusted") && e.contains("10.0.0.1"), "{e}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
    fn the_bus_is_chosen_by_settings_and_nats_needs_a_url() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("THINGSTEAD_BUS__BACKEND", "nats");
            jail.set_env("THINGSTEAD_BUS__URL", "nats://10.0.0.1:4222");
            let s = Settings::load(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(
                (s.bus.backend, s.bus.url.as_str()),
                (BusBackend::Nats, "nats://10.0.0.1:4222")
            );
            Ok(())
        });
        let mut s = Settings::default();
        assert_eq!(s.bus.backend, BusBackend::Local);
        s.bus.backend = BusBackend::Nats;
        s.bus.url = " ".into();
        assert!(s.validate().unwrap_err().to_string().contains("bus.url"));
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        assert!(matches!(
            Settings::load(Some(Path::new("/nonexistent/x.toml")), &FlagOverrides::default()),
            Err(SettingsError::MissingFile(_))
        ));
        assert!(toml::from_str::<Settings>("htp = \"x\"").is_err());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
    fn mistyped_variables_are_warned_about_and_not_read() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("THINGSTEAD_SMS__PROVDER", "smpp");
            jail.set_env("THINGSTEAD_HTTP", "127.0.0.1:7");
            jail.set_env("THINGSTEAD_CONFIG", "/not/read/here.toml");
            jail.set_env("THINGSTEAD_APIKEY", "k");
            let (s, warnings) =
                Settings::load_with_warnings(None, &FlagOverrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(s.http, "127.0.0.1:7");
            assert_eq!(s.sms.provider, SmsProviderKind::None);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].contains("THINGSTEAD_SMS__PROVDER") && warnings[0].contains("sms.provider"),
                "{}",
                warnings[0]
            );
            Ok(())
        });
    }

    #[test]
    fn toml_errors_show_line_column_and_caret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "http = \"127.0.0.1:1\"\n[sms]\nprovdr = \"smpp\"\n").unwrap();
        let e = Settings::load(Some(&file), &FlagOverrides::default()).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, SettingsError::File { .. }), "{text}");
        assert!(text.contains("line 3, column 1"), "{text}");
        assert!(text.contains("3 | provdr = \"smpp\"\n  | ^^^^^^"), "{text}");
        assert!(!text.contains("default."), "{text}");

        std::fs::write(&file, "http = \n").unwrap();
        let text = Settings::load(Some(&file), &FlagOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(text.contains("line 1, column 8") && text.lines().count() > 2, "{text}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
    fn environment_errors_name_the_key_as_the_file_spells_it() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("THINGSTEAD_SMS__PROVIDER", "carrier-pigeon");
            let e = Settings::load(None, &FlagOverrides::default()).unwrap_err().to_string();
            assert!(e.contains("for key sms.provider"), "{e}");
            assert!(e.contains("THINGSTEAD_SMS__PROVIDER"), "{e}");
            assert!(!e.contains("default."), "{e}");
            Ok(())
        });
    }

    #[test]
    fn listen_addresses_are_checked_at_load() {
        let flags = FlagOverrides {
            http: Some("127.0.0.1:80800".into()),
            ..Default::default()
        };
        let e = Settings::load(None, &flags).unwrap_err().to_string();
        assert!(e.contains("http = \"127.0.0.1:80800\"") && e.contains("65535"), "{e}");
        let flags = FlagOverrides {
            device_tcp: Some("localhost".into()),
            ..Default::default()
        };
        let e = Settings::load(None, &flags).unwrap_err().to_string();
        assert!(e.contains("device_tcp") && e.contains("host:port"), "{e}");
    }
}
