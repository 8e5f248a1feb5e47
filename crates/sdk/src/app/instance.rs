//! [`App`]: one logged-in instance: start, stop, auth, channels,
//! resources and raw calls.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::Value;

use super::auth::Auth;
use super::channel::Channel;
use super::collection::Collection;
use super::context::{Ctx, owned};
use super::data::DataCollection;
use super::document::Document;
use super::error::{Error, Result};
use super::http::Http;
use super::kind::{Content, Device, Experience, Feed, Kind, Location, Thing};
use super::options::Options;
use super::realtime::Realtime;
use super::session::Session;
use super::zone::Zone;

/// One logged-in instance of the app SDK (exp-sdk's `exp.start(...)`).
/// Cheap to clone; the instance stops on [`App::stop`], on
/// [`stop_all`](super::stop_all), when the server refuses its credentials
/// (401), or when its last handle is dropped.
///
/// ```no_run
/// # async fn demo() -> thingstead::app::Result<()> {
/// use thingstead::app::{App, Options};
/// let app = App::start(Options::new("http://127.0.0.1:8080").user("alice", "secret", "acme")).await?;
/// let devices = app.devices().find(&[]).await?;
/// println!("{} devices", devices.total);
/// app.stop();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: Ctx,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ctx.session.stop();
    }
}

impl App {
    /// Validates `options`, logs in, and (unless `enable_network(false)`)
    /// opens the realtime connection in the background. Needs a tokio
    /// runtime.
    ///
    /// ```no_run
    /// # async fn demo() -> thingstead::app::Result<()> {
    /// use thingstead::app::{App, Options};
    /// let app = App::start(Options::new("http://127.0.0.1:8080").device("d-uuid", "d-secret")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(options: Options) -> Result<Self> {
        let login = options.validate()?;
        let session = Arc::new(Session::new(
            Http::new(&options.host, super::tls::config(&options.root_certificates)?)?,
            login,
            options.api_timeout,
        ));
        session.login().await?;
        super::registry::register(&session);
        tokio::spawn(session.clone().keep_fresh());
        let realtime = if options.enable_network {
            let (realtime, rx) = Realtime::new(session.clone());
            tokio::spawn(super::socket::run(realtime.clone(), rx));
            Some(realtime)
        } else {
            None
        };
        Ok(Self {
            inner: Arc::new(Inner {
                ctx: Ctx { session, realtime },
            }),
        })
    }

    fn ctx(&self) -> &Ctx {
        &self.inner.ctx
    }

    /// Stops this instance: the realtime connection closes, background
    /// tasks end, and every later call fails with [`Error::Runtime`].
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::App) { app.stop(); assert!(app.is_stopped()); }
    /// ```
    pub fn stop(&self) {
        self.ctx().session.stop();
    }

    /// Whether the instance is stopped.
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::App) { println!("{}", app.is_stopped()); }
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.ctx().session.is_stopped()
    }

    /// The current auth payload, refreshed first if it has expired (it is
    /// also refreshed in the background after ~75 % of its lifetime).
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let auth = app.get_auth().await?;
    /// println!("{} of {}", auth.identity.uuid, auth.identity.organization);
    /// # Ok(()) }
    /// ```
    pub async fn get_auth(&self) -> Result<Auth> {
        Ok((*self.ctx().session.auth().await?).clone())
    }

    /// Trades the current token for a new one now (logging in again if the
    /// server refuses it).
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let fresh = app.refresh_auth().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh_auth(&self) -> Result<Auth> {
        let session = &self.ctx().session;
        let current = session.auth_now()?;
        Ok((*session.refresh(&current.token).await?).clone())
    }

    /// Whether the realtime connection is up.
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::App) { println!("{}", app.is_connected()); }
    /// ```
    pub fn is_connected(&self) -> bool {
        !self.is_stopped()
            && self
                .ctx()
                .realtime
                .as_ref()
                .is_some_and(|r| r.connected.load(Ordering::Relaxed))
    }

    /// A channel of the organization: `consumer` channels are the ones
    /// consumer apps may use; `system` channels carry the platform's
    /// announcements (nobody may broadcast on them).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let lobby = app.get_channel("lobby", false, false)?;
    /// # Ok(()) }
    /// ```
    pub fn get_channel(&self, name: &str, consumer: bool, system: bool) -> Result<Channel> {
        self.ctx().channel(name, consumer, system)
    }

    /// The resources of kind `K` (what [`App::devices`] and its siblings
    /// return).
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let feeds = app.collection::<thingstead::app::Feed>().find(&[]).await?;
    /// # Ok(()) }
    /// ```
    pub fn collection<K: Kind>(&self) -> Collection<K> {
        Collection::new(self.ctx().clone())
    }

    /// Devices.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let device = app.devices().get("d-uuid").await?;
    /// # Ok(()) }
    /// ```
    pub fn devices(&self) -> Collection<Device> {
        Collection::new(self.ctx().clone())
    }

    /// Things.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let things = app.things().find(&[("subtype", "sensor")]).await?;
    /// # Ok(()) }
    /// ```
    pub fn things(&self) -> Collection<Thing> {
        Collection::new(self.ctx().clone())
    }

    /// Experiences.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let all = app.experiences().find(&[]).await?;
    /// # Ok(()) }
    /// ```
    pub fn experiences(&self) -> Collection<Experience> {
        Collection::new(self.ctx().clone())
    }

    /// Locations.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let all = app.locations().find(&[]).await?;
    /// # Ok(()) }
    /// ```
    pub fn locations(&self) -> Collection<Location> {
        Collection::new(self.ctx().clone())
    }

    /// Feeds.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let all = app.feeds().find(&[]).await?;
    /// # Ok(()) }
    /// ```
    pub fn feeds(&self) -> Collection<Feed> {
        Collection::new(self.ctx().clone())
    }

    /// Content (read only on the server: `create`/`delete` get an API error).
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let folders = app.content().find(&[("subtype", "scala:content:folder")]).await?;
    /// # Ok(()) }
    /// ```
    pub fn content(&self) -> Collection<Content> {
        Collection::new(self.ctx().clone())
    }

    /// Data items.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let item = app.data().get("settings", "lobby").await?;
    /// # Ok(()) }
    /// ```
    pub fn data(&self) -> DataCollection {
        DataCollection::new(self.ctx().clone())
    }

    /// For a device login: the device's own document; `None` for users and
    /// consumer apps.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// if let Some(me) = app.get_current_device().await? { println!("I am {}", me.uuid()); }
    /// # Ok(()) }
    /// ```
    pub async fn get_current_device(&self) -> Result<Option<Document<Device>>> {
        let auth = self.ctx().session.auth_now()?;
        if auth.identity.kind != "device" {
            return Ok(None);
        }
        self.devices().get(&auth.identity.uuid).await
    }

    /// For a device login: its location.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let here = app.get_current_location().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_current_location(&self) -> Result<Option<Document<Location>>> {
        match self.get_current_device().await? {
            Some(device) => device.get_location().await,
            None => Ok(None),
        }
    }

    /// For a device login: its zones.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let zones = app.get_current_zones().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_current_zones(&self) -> Result<Vec<Zone>> {
        match self.get_current_device().await? {
            Some(device) => device.get_zones().await,
            None => Ok(Vec::new()),
        }
    }

    /// For a device login: its experience.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let experience = app.get_current_experience().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_current_experience(&self) -> Result<Option<Document<Experience>>> {
        match self.get_current_device().await? {
            Some(device) => device.get_experience().await,
            None => Ok(None),
        }
    }

    /// A raw call: `method` on `path` (percent-encoded, `/` kept) with an
    /// optional JSON body and query parameters. `Ok(None)` for an answer
    /// without JSON.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let answer = app.request(reqwest::Method::GET, "/api/devices", None, &[("limit", "5")]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        params: &[(&str, &str)],
    ) -> Result<Option<Value>> {
        if !path.starts_with('/') {
            return Err(Error::Runtime(format!("a path starts with '/': {path}")));
        }
        self.ctx().session.call(method, path, body, &owned(params), None).await
    }

    /// `GET path?params`.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let devices = app.get("/api/devices", &[("name", "pump")]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.request(Method::GET, path, None, params).await
    }

    /// `POST path?params` with a JSON body.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let created = app.post("/api/things", Some(&serde_json::json!({"name": "t"})), &[]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn post(&self, path: &str, body: Option<&Value>, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.request(Method::POST, path, body, params).await
    }

    /// `PATCH path?params` with a JSON body.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// app.patch("/api/things/t1", Some(&serde_json::json!({"name": "t"})), &[]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch(&self, path: &str, body: Option<&Value>, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.request(Method::PATCH, path, body, params).await
    }

    /// `PUT path?params` with a JSON body.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// app.put("/api/data/g/k", Some(&serde_json::json!({"v": 1})), &[]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put(&self, path: &str, body: Option<&Value>, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.request(Method::PUT, path, body, params).await
    }

    /// `DELETE path?params`.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// app.delete("/api/data/g/k", &[]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, path: &str, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.request(Method::DELETE, path, None, params).await
    }
}
