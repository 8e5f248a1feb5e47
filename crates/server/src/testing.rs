//! The shared integration-test harness: a real server on port 0 with a
//! temporary data dir, its addresses, and registry shortcuts.
//!
//! ```no_run
//! # async fn demo() {
//! use thingstead_server::testing::TestServer;
//! let server = TestServer::start().await;
//! server.create_org("acme").await;
//! let device = server.create_device("acme").await;
//! // ... talk to server.device_tcp / server.http over real sockets ...
//! server.stop().await;
//! # }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use thingstead_core::records::{MessageQuery, MessageRecord, SmsRecord};
use thingstead_core::{CreatedDevice, Platform};

use crate::app::{RunningServer, start};
use crate::settings::Settings;

/// A running server for tests. Dropping it without [`TestServer::stop`]
/// leaves the listeners to die with the runtime.
pub struct TestServer {
    /// HTTP address.
    pub http: SocketAddr,
    /// Device TCP address.
    pub device_tcp: SocketAddr,
    server: RunningServer,
    settings: Settings,
    dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a server with default settings on ephemeral ports.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `configure` adjusted its settings.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings {
            data_dir: dir.path().join("data"),
            http: "127.0.0.1:0".into(),
            device_tcp: "127.0.0.1:0".into(),
            ..Settings::default()
        };
        configure(&mut settings);
        Self::start_on(settings, Some(dir)).await
    }

    async fn start_on(settings: Settings, dir: Option<tempfile::TempDir>) -> Self {
        let server = start(settings.clone()).await.expect("test server starts");
        let addrs = server.addrs();
        Self {
            http: addrs.http,
            device_tcp: addrs.device_tcp,
            server,
            settings,
            dir,
        }
    }

    /// Stops gracefully and starts again on the same data dir (new ports).
    pub async fn restart(mut self) -> Self {
        let dir = self.dir.take();
        let mut settings = self.settings.clone();
        self.server.shutdown().await;
        settings.http = "127.0.0.1:0".into();
        settings.device_tcp = "127.0.0.1:0".into();
        Self::start_on(settings, dir).await
    }

    /// Stops gracefully.
    pub async fn stop(self) {
        self.server.shutdown().await;
    }

    /// The platform behind the server.
    pub fn platform(&self) -> &Platform {
        self.server.platform()
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.settings.data_dir
    }

    /// A temp dir next to the data dir for the test's own files.
    pub fn scratch_dir(&self) -> PathBuf {
        let p = self.settings.data_dir.with_file_name("scratch");
        let _ = std::fs::create_dir_all(&p);
        p
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.http, path)
    }

    /// Creates an organization.
    pub async fn create_org(&self, name: &str) {
        self.platform().create_org(name).await.expect("create org");
    }

    /// Creates a device in `org`.
    pub async fn create_device(&self, org: &str) -> CreatedDevice {
        let t = self.platform().tenant(org).await.expect("org exists");
        self.platform().create_device(&t, None).await.expect("create device")
    }

    /// Provisions a TOTP seed for a device; returns the base32 secret.
    pub async fn provision_totp(&self, uuid: &str) -> String {
        let (t, _) = self.platform().find_device(uuid).await.expect("device exists");
        self.platform()
            .provision_totp(&t, uuid)
            .await
            .expect("provision totp")
            .secret
    }

    /// Creates an API key for `org`.
    pub async fn create_api_key(&self, org: &str) -> String {
        let t = self.platform().tenant(org).await.expect("org exists");
        self.platform().create_api_key(&t).await.expect("create api key").apikey
    }

    /// Every stored message of `org`, oldest first.
    pub async fn messages(&self, org: &str) -> Vec<MessageRecord> {
        let t = self.platform().tenant(org).await.expect("org exists");
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let q = MessageQuery {
                before_id: before,
                limit: 1000,
                ..Default::default()
            };
            let page = self.platform().list_messages(&t, &q).await.expect("list messages");
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            all.extend(page);
        }
        all.reverse();
        all
    }

    /// The SMS outbox of `org`, newest first.
    pub async fn sms(&self, org: &str) -> Vec<SmsRecord> {
        let t = self.platform().tenant(org).await.expect("org exists");
        self.platform().list_sms(&t, None, 1000).await.expect("list sms")
    }
}
