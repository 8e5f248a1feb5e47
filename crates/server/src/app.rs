//! Wiring: open the store, bind the listeners, start the workers, stop
//! gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use thingstead_core::Platform;
use thingstead_core::bus::Bus;
use thingstead_core::bus::local::LocalBus;
use thingstead_core::bus::socket::SocketListener;
use thingstead_core::store::Store;
use thingstead_core::store::sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::settings::{Settings, StoreBackend};

/// How long in-flight work may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(4);

/// State shared by HTTP handlers: one allocation, so the clone every
/// layer and extractor makes of it per request is one reference count,
/// not one per part (a dozen contended atomics per request before).
#[derive(Clone)]
pub struct AppState(Arc<AppStateParts>);

impl AppState {
    /// The state made of `parts`.
    pub fn new(parts: AppStateParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateParts;

    fn deref(&self) -> &AppStateParts {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct AppStateParts {
    /// The platform core.
    pub platform: Platform,
    /// Effective settings.
    pub settings: Arc<Settings>,
    /// Prometheus renderer.
    pub metrics: PrometheusHandle,
    /// Where the listeners are bound (cloud-to-device pushes never go there).
    pub addrs: BoundAddrs,
    /// Open message streams: their limits, and their end at shutdown.
    pub streams: crate::faces::device::api::stream::Streams,
    /// The socket.io endpoint of this node.
    pub realtime: crate::realtime::Realtime,
}

/// The addresses the listeners are bound to; the ready file's content.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct BoundAddrs {
    /// HTTP listener.
    pub http: SocketAddr,
    /// Device TCP listener.
    pub device_tcp: SocketAddr,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error("cannot open the store in {dir}")]
    Store {
        /// The data dir.
        dir: String,
        /// The cause.
        source: thingstead_core::store::StoreError,
    },
    /// A listener could not be bound.
    #[error("cannot bind the {listener} listener to {addr}")]
    Bind {
        /// Which listener.
        listener: &'static str,
        /// The address asked for.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The ready file could not be written.
    #[error("cannot write the ready file {path}")]
    ReadyFile {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The SMS provider settings are unusable.
    #[error("SMS provider: {0}")]
    Sms(String),
    /// The data dir is in use, holds no store, or its master key is unusable.
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::DataDirError),
    /// The bus could not be opened (NATS unreachable).
    #[error("bus: {0}")]
    Bus(String),
    /// The token signing key could not be read or made.
    #[error("token signing key: {0}")]
    TokenKey(thingstead_core::CoreError),
    /// `proxy_protocol.trusted` names something other than networks.
    #[error("proxy_protocol.{0}")]
    ProxyProtocol(String),
}

/// Who opens the platform: the server listens on `bus.sock`, anyone else
/// (the admin CLI) forwards to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Serve,
    Admin,
}

/// Whether [`open_platform`] may create a store where there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the data dir and store when missing (`serve`, `admin org create`).
    CreateIfMissing,
    /// Fail, naming the absolute path, when the data dir holds no store
    /// (every other admin command: a mistyped `--data-dir` must not make one).
    Existing,
}

/// Opens the store of `settings.data_dir` and the configured bus as a
/// platform, for the admin CLI (which works with or without a running
/// server): on the local bus, what it publishes is forwarded to a server
/// running on the same data dir through `bus.sock`; on NATS it publishes
/// directly.
pub async fn open_platform(settings: &Settings, mode: OpenMode) -> Result<Platform, StartError> {
    Ok(open_as(settings, mode, Role::Admin).await?.0)
}

/// The bus of `settings` for `role`, and the server's `bus.sock` listener.
async fn open_bus(settings: &Settings, role: Role) -> Result<(Arc<dyn Bus>, Option<SocketListener>), StartError> {
    use crate::settings::BusBackend;
    let socket = settings.data_dir.join(crate::data_dir::BUS_SOCKET);
    match (settings.bus.backend, role) {
        (BusBackend::Local, Role::Admin) => Ok((Arc::new(LocalBus::forwarding_to(&socket)), None)),
        (BusBackend::Local, Role::Serve) => {
            // On PostgreSQL nothing else makes the data dir, and the socket
            // lives in it (private, as the embedded store makes it).
            use std::os::unix::fs::DirBuilderExt;
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&settings.data_dir);
            let bus = LocalBus::default();
            // Without the socket the server still serves; only admin changes
            // made beside it go unheard (e.g. a data dir path too long for a socket).
            let listener = bus
                .listen(socket)
                .inspect_err(|e| tracing::warn!(error = %e, "admin changes will not reach this server's subscribers"))
                .ok();
            Ok((Arc::new(bus), listener))
        }
        #[cfg(feature = "nats")]
        (BusBackend::Nats, _) => {
            let timeout = Duration::from_millis(settings.bus.connect_timeout_ms);
            let bus = thingstead_core::bus::nats::NatsBus::connect(&settings.bus.url, timeout)
                .await
                .map_err(|e| StartError::Bus(e.to_string()))?;
            Ok((Arc::new(bus), None))
        }
        #[cfg(not(feature = "nats"))]
        (BusBackend::Nats, _) => Err(StartError::Bus(
            "bus.backend = \"nats\" but this build has no NATS support (feature `nats`)".into(),
        )),
    }
}

async fn open_as(
    settings: &Settings,
    mode: OpenMode,
    role: Role,
) -> Result<(Platform, Option<SocketListener>), StartError> {
    let store: Arc<dyn Store> = match settings.store.backend {
        StoreBackend::Sqlite => Arc::new(open_sqlite(settings, mode)?),
        StoreBackend::Postgres => open_postgres(settings).await?,
    };
    let (bus, listener) = open_bus(settings, role).await?;
    let limits = thingstead_core::channels::BroadcastLimits {
        max_payload_bytes: settings.realtime.max_payload_bytes,
    };
    Ok((Platform::new(store, bus).with_broadcast_limits(limits), listener))
}

/// The SQLite store of `settings.data_dir`.
fn open_sqlite(settings: &Settings, mode: OpenMode) -> Result<SqliteStore, StartError> {
    let dir = &settings.data_dir;
    if mode == OpenMode::Existing && !crate::data_dir::has_store(dir) {
        return Err(crate::data_dir::DataDirError::NoStore(crate::data_dir::absolute(dir)).into());
    }
    // The store makes the data dir (mode 0700) before the key file goes in it.
    let key_in_dir = settings.secrets.master_key_file.is_none();
    if key_in_dir && !dir.exists() {
        SqliteStore::prepare_dir(dir).map_err(|source| StartError::Store {
            dir: crate::data_dir::absolute(dir).display().to_string(),
            source,
        })?;
    }
    let key = crate::data_dir::master_key(settings)?;
    SqliteStore::open(dir, key).map_err(|source| StartError::Store {
        dir: crate::data_dir::absolute(dir).display().to_string(),
        source,
    })
}

/// The PostgreSQL store: no data dir, no serve lock (nodes share the
/// database); the master key file must be given, never made.
#[cfg(feature = "postgres")]
async fn open_postgres(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    let url = settings.store.url.as_deref().unwrap_or_default();
    let masked = crate::redact::url(url);
    let key = crate::data_dir::master_key(settings)?;
    let tls = thingstead_core::store::postgres::PgTls {
        ca_file: settings.store.ca_file.clone(),
    };
    let limits = thingstead_core::store::postgres::PoolLimits::default();
    let store = thingstead_core::store::postgres::PgStore::connect(url, key, limits, &tls)
        .await
        .map_err(|source| StartError::Store { dir: masked, source })?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    Err(StartError::Store {
        dir: crate::redact::url(settings.store.url.as_deref().unwrap_or_default()),
        source: thingstead_core::store::StoreError::Unavailable(
            "this thingstead was built without PostgreSQL support (cargo feature `postgres`)".into(),
        ),
    })
}

/// A started server.
pub struct RunningServer {
    _bus_socket: Option<SocketListener>,
    _lock: Option<crate::data_dir::DataDirLock>,
    addrs: BoundAddrs,
    platform: Platform,
    token: CancellationToken,
    tasks: TaskTracker,
    http: JoinHandle<()>,
}

impl RunningServer {
    /// Bound addresses.
    pub fn addrs(&self) -> BoundAddrs {
        self.addrs
    }

    /// The platform the server runs on.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Stops accepting, lets in-flight requests and frames finish (bounded),
    /// stops the workers and flushes the store.
    pub async fn shutdown(self) {
        tracing::info!("shutting down: no new connections; finishing in-flight work");
        self.token.cancel();
        self.tasks.close();
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            let _ = self.http.await;
            self.tasks.wait().await;
        })
        .await;
        if drained.is_err() {
            tracing::warn!("in-flight work did not finish within {DRAIN_TIMEOUT:?}; closing anyway");
        }
        self.platform.close().await;
        tracing::info!("store flushed and closed; bye");
    }
}

/// Opens the store, binds every listener, starts the workers and writes the
/// ready file.
pub async fn start(settings: Settings) -> Result<RunningServer, StartError> {
    let settings = Arc::new(settings);
    tracing::debug!(settings = %settings.to_masked_toml(), "effective settings (secrets masked)");
    // One server per embedded store; PostgreSQL nodes share their database.
    let lock = match settings.store.backend {
        StoreBackend::Sqlite => Some(crate::data_dir::DataDirLock::acquire(&settings.data_dir)?),
        StoreBackend::Postgres => None,
    };
    let (platform, bus_socket) = open_as(&settings, OpenMode::CreateIfMissing, Role::Serve).await?;
    let providers = crate::sms::provider_for(&settings.sms).map_err(StartError::Sms)?;
    let proxies = crate::proxy_header::TrustedProxies::parse(&settings.proxy_protocol.trusted)
        .map_err(StartError::ProxyProtocol)?;

    let bind = |listener: &'static str, addr: String| async move {
        bind_listener(&addr)
            .await
            .map_err(|source| StartError::Bind { listener, addr, source })
    };
    let http_listener = bind("http", settings.http.clone()).await?;
    let device_listener = bind("device_tcp", settings.device_tcp.clone()).await?;
    let local = |l: &TcpListener, name: &'static str| {
        l.local_addr().map_err(|source| StartError::Bind {
            listener: name,
            addr: String::new(),
            source,
        })
    };
    let addrs = BoundAddrs {
        http: local(&http_listener, "http")?,
        device_tcp: local(&device_listener, "device_tcp")?,
    };

    // This process's id among the nodes sharing the store: it claims SMS
    // and holds leases under it.
    let node: Arc<str> = format!("{:032x}", rand::random::<u128>()).into();
    tracing::info!(node = %node, "node id");
    // Tokens are signed with a key kept in the store, shared by every node:
    // the first start makes it.
    platform.ensure_token_key().await.map_err(StartError::TokenKey)?;

    let token = CancellationToken::new();
    let tasks = TaskTracker::new();
    let state = AppState::new(AppStateParts {
        platform: platform.clone(),
        settings: settings.clone(),
        metrics: crate::telemetry::prometheus(),
        addrs,
        streams: crate::faces::device::api::stream::Streams::new(&settings.http_limits, token.clone()),
        realtime: crate::realtime::Realtime::new(platform.clone(), &settings.realtime),
    });
    tasks.spawn(state.realtime.clone().run_fanout(token.clone()));

    let router = crate::http::router(state);
    let http = tokio::spawn({
        let settings = settings.clone();
        let token = token.clone();
        let proxies = proxies.clone();
        async move { crate::http::serve::serve(http_listener, router, &settings.http_limits, proxies, token).await }
    });

    let face = crate::faces::device::DeviceFace::new(platform.clone(), settings.device.clone()).behind(proxies);
    tasks.spawn(crate::faces::device::listener::serve(
        device_listener,
        face,
        token.clone(),
        tasks.clone(),
    ));
    tasks.spawn(crate::activity::run_summary(
        Duration::from_secs(settings.summary_interval_secs),
        token.clone(),
    ));
    tasks.spawn(crate::retention::run(
        platform.clone(),
        settings.retention.interval_secs,
        match settings.store.backend {
            StoreBackend::Sqlite => None,
            StoreBackend::Postgres => Some(node.clone()),
        },
        token.clone(),
    ));
    match providers {
        Some(provider) => {
            tasks.spawn(crate::sms::dispatcher::run(
                platform.clone(),
                provider,
                settings.sms.clone(),
                node.clone(),
                token.clone(),
            ));
        }
        None => tracing::warn!(
            "no SMS provider configured (sms.provider = \"none\"): SMS will stay queued in the outbox until one is"
        ),
    }

    if let Some(path) = &settings.ready_file {
        crate::ready::write(path, &addrs).map_err(|source| StartError::ReadyFile {
            path: path.display().to_string(),
            source,
        })?;
    }
    let data_dir = crate::data_dir::absolute(&settings.data_dir);
    tracing::info!(http = %addrs.http, device_tcp = %addrs.device_tcp, data_dir = %data_dir.display(), "thingstead ready");
    Ok(RunningServer {
        _bus_socket: bus_socket,
        _lock: lock,
        addrs,
        platform,
        token,
        tasks,
        http,
    })
}

/// The accept backlog: devices connect once per message, so bursts are
/// large; tokio's default (1024) overflows and costs dropped SYNs a 1 s retry.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` (`host:port`; the first address it resolves to) with [`LISTEN_BACKLOG`].
async fn bind_listener(addr: &str) -> std::io::Result<TcpListener> {
    let resolved = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "address resolves to nothing"))?;
    let socket = if resolved.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(resolved)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Runs the server until `shutdown` resolves, then stops gracefully.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    let server = start(settings).await?;
    shutdown.await;
    server.shutdown().await;
    Ok(())
}
