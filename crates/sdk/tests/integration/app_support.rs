//! Shared setup of the app SDK tests: an organization with a user, a
//! device and a consumer app on a real server.

use thingstead::app::{App, Options};
use thingstead_server::testing::TestServer;

pub const PASSWORD: &str = "correct horse battery";

/// What [`org`] made.
pub struct Org {
    pub device_uuid: String,
    pub device_secret: String,
    pub app_uuid: String,
    pub api_key: String,
}

/// Organization `name` with user `alice`, one device and one consumer app.
pub async fn org(server: &TestServer, name: &str) -> Org {
    server.create_org(name).await;
    let t = server.platform().tenant(name).await.expect("org");
    server
        .platform()
        .create_user(&t, "alice", PASSWORD)
        .await
        .expect("user");
    let device = server.create_device(name).await;
    let app = server.platform().create_app(&t, None).await.expect("app");
    Org {
        device_uuid: device.uuid,
        device_secret: device.secret,
        app_uuid: app.uuid,
        api_key: app.api_key,
    }
}

/// Options for `server` (its current address).
pub fn options(server: &TestServer) -> Options {
    Options::new(format!("http://{}", server.http))
}

/// Alice of `org` logged in.
pub async fn alice(server: &TestServer, org: &str) -> App {
    App::start(options(server).user("alice", PASSWORD, org))
        .await
        .expect("alice logs in")
}

/// A TCP forwarder standing in front of the server (as a load balancer
/// would), so that clients keep one address while the server restarts on
/// new ports. Each accepted connection is piped to the current target.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    target: std::sync::Arc<std::sync::Mutex<std::net::SocketAddr>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let target = std::sync::Arc::new(std::sync::Mutex::new(target));
        let shared = target.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let to = *shared.lock().expect("target");
                tokio::spawn(async move {
                    let connect = tokio::net::TcpStream::connect(to);
                    if let Ok(Ok(mut up)) = tokio::time::timeout(std::time::Duration::from_secs(5), connect).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
            }
        });
        Self { addr, target, task }
    }

    /// Where new connections go from now on.
    pub fn retarget(&self, to: std::net::SocketAddr) {
        *self.target.lock().expect("target") = to;
    }

    /// `http://PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
