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
