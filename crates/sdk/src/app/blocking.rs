//! A blocking facade over [`App`](super::App) for code without an async
//! runtime. It owns a small tokio runtime (one worker thread) that also
//! runs the background tasks (token refresh, realtime connection). Do not
//! use it inside an async runtime: its methods then return
//! [`Error::Runtime`].
//!
//! The common calls have blocking twins here; any other async call runs
//! through [`App::block_on`].
//!
//! ```no_run
//! use std::time::Duration;
//! use thingstead::app::{Options, blocking::App};
//! let app = App::start(Options::new("http://127.0.0.1:8080").user("alice", "secret", "acme"))?;
//! let lobby = app.get_channel("lobby", false, false)?;
//! let listener = lobby.listen("hello", Duration::from_secs(10), Duration::from_secs(60))?;
//! lobby.broadcast("hello", serde_json::json!(1), Duration::from_millis(100))?;
//! let first = listener.wait(Duration::from_secs(5))?;
//! let devices = app.block_on(app.as_async().devices().find(&[]))??;
//! app.stop();
//! # Ok::<(), thingstead::app::Error>(())
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::runtime::Runtime;

use super::{Auth, Broadcast, Error, Options, Result};

const INSIDE_RUNTIME: &str = "the blocking app client cannot be used inside an async runtime: use thingstead::app::App";

fn block_on<F: Future>(runtime: &Runtime, future: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Runtime(INSIDE_RUNTIME.into()));
    }
    Ok(runtime.block_on(future))
}

/// The blocking app client. Same behaviour as the async
/// [`App`](super::App); see its docs.
///
/// ```no_run
/// # use thingstead::app::{Options, blocking::App};
/// let app = App::start(Options::new("http://127.0.0.1:8080").consumer_app("a-uuid", "api-key"))?;
/// println!("{}", app.get_auth()?.identity.organization);
/// # Ok::<(), thingstead::app::Error>(())
/// ```
#[derive(Debug)]
pub struct App {
    app: super::App,
    runtime: Arc<Runtime>,
}

impl App {
    /// Starts an instance (see [`App::start`](super::App::start)).
    ///
    /// ```no_run
    /// # use thingstead::app::{Options, blocking::App};
    /// let app = App::start(Options::new("http://127.0.0.1:8080").device("d-uuid", "secret"))?;
    /// # Ok::<(), thingstead::app::Error>(())
    /// ```
    pub fn start(options: Options) -> Result<Self> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Runtime(INSIDE_RUNTIME.into()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("thingstead-app")
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(format!("cannot start a runtime: {e}")))?;
        let app = block_on(&runtime, super::App::start(options))??;
        Ok(Self {
            app,
            runtime: Arc::new(runtime),
        })
    }

    /// The async instance underneath (sharing its state).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) { let _devices = app.as_async().devices(); }
    /// ```
    pub fn as_async(&self) -> &super::App {
        &self.app
    }

    /// Runs any future of the async API on this client's runtime.
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// let device = app.block_on(app.as_async().devices().get("d-uuid"))??;
    /// # Ok(()) }
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output> {
        block_on(&self.runtime, future)
    }

    /// See [`App::stop`](super::App::stop).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) { app.stop(); }
    /// ```
    pub fn stop(&self) {
        self.app.stop();
    }

    /// See [`App::get_auth`](super::App::get_auth).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// let token = app.get_auth()?.token;
    /// # Ok(()) }
    /// ```
    pub fn get_auth(&self) -> Result<Auth> {
        self.block_on(self.app.get_auth())?
    }

    /// See [`App::is_connected`](super::App::is_connected).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) { println!("{}", app.is_connected()); }
    /// ```
    pub fn is_connected(&self) -> bool {
        self.app.is_connected()
    }

    /// See [`App::get_channel`](super::App::get_channel).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// let channel = app.get_channel("lobby", false, false)?;
    /// # Ok(()) }
    /// ```
    pub fn get_channel(&self, name: &str, consumer: bool, system: bool) -> Result<Channel> {
        Ok(Channel {
            channel: self.app.get_channel(name, consumer, system)?,
            runtime: self.runtime.clone(),
        })
    }

    /// See [`App::get`](super::App::get).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// let devices = app.get("/api/devices", &[])?;
    /// # Ok(()) }
    /// ```
    pub fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.block_on(self.app.get(path, params))?
    }

    /// See [`App::post`](super::App::post).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// app.post("/api/things", Some(&serde_json::json!({"name": "t"})), &[])?;
    /// # Ok(()) }
    /// ```
    pub fn post(&self, path: &str, body: Option<&Value>, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.block_on(self.app.post(path, body, params))?
    }

    /// See [`App::patch`](super::App::patch).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// app.patch("/api/things/t1", Some(&serde_json::json!({"name": "t"})), &[])?;
    /// # Ok(()) }
    /// ```
    pub fn patch(&self, path: &str, body: Option<&Value>, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.block_on(self.app.patch(path, body, params))?
    }

    /// See [`App::put`](super::App::put).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// app.put("/api/data/g/k", Some(&serde_json::json!({"v": 1})), &[])?;
    /// # Ok(()) }
    /// ```
    pub fn put(&self, path: &str, body: Option<&Value>, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.block_on(self.app.put(path, body, params))?
    }

    /// See [`App::delete`](super::App::delete).
    ///
    /// ```no_run
    /// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
    /// app.delete("/api/data/g/k", &[])?;
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, path: &str, params: &[(&str, &str)]) -> Result<Option<Value>> {
        self.block_on(self.app.delete(path, params))?
    }
}

/// A blocking [`Channel`](super::Channel).
///
/// ```no_run
/// # fn demo(app: thingstead::app::blocking::App) -> thingstead::app::Result<()> {
/// let answers = app.get_channel("lobby", false, false)?.broadcast("ping", serde_json::Value::Null, std::time::Duration::from_secs(1))?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Channel {
    channel: super::Channel,
    runtime: Arc<Runtime>,
}

impl Channel {
    /// See [`Channel::broadcast`](super::Channel::broadcast).
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::blocking::Channel) -> thingstead::app::Result<()> {
    /// c.broadcast("ping", serde_json::json!({}), std::time::Duration::from_millis(100))?;
    /// # Ok(()) }
    /// ```
    pub fn broadcast(&self, name: &str, payload: Value, timeout: Duration) -> Result<Vec<Value>> {
        block_on(&self.runtime, self.channel.broadcast(name, payload, timeout))?
    }

    /// See [`Channel::listen`](super::Channel::listen).
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::blocking::Channel) -> thingstead::app::Result<()> {
    /// let l = c.listen("hello", std::time::Duration::from_secs(10), std::time::Duration::from_secs(60))?;
    /// # Ok(()) }
    /// ```
    pub fn listen(&self, name: &str, timeout: Duration, max_age: Duration) -> Result<Listener> {
        let listener = block_on(&self.runtime, self.channel.listen(name, timeout, max_age))??;
        Ok(Listener {
            listener,
            runtime: self.runtime.clone(),
        })
    }

    /// See [`Channel::fling`](super::Channel::fling).
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::blocking::Channel) -> thingstead::app::Result<()> {
    /// c.fling(serde_json::json!({"appTemplate": {"uuid": "a"}}))?;
    /// # Ok(()) }
    /// ```
    pub fn fling(&self, payload: Value) -> Result<()> {
        block_on(&self.runtime, self.channel.fling(payload))?
    }

    /// See [`Channel::identify`](super::Channel::identify).
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::blocking::Channel) -> thingstead::app::Result<()> {
    /// c.identify()?;
    /// # Ok(()) }
    /// ```
    pub fn identify(&self) -> Result<()> {
        block_on(&self.runtime, self.channel.identify())?
    }
}

/// A blocking [`Listener`](super::Listener).
///
/// ```no_run
/// # fn demo(l: thingstead::app::blocking::Listener) -> thingstead::app::Result<()> {
/// while let Some(b) = l.wait(std::time::Duration::from_secs(30))? {
///     l.respond(&b, serde_json::json!("ok"))?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Listener {
    listener: super::Listener,
    runtime: Arc<Runtime>,
}

impl Listener {
    /// See [`Listener::wait`](super::Listener::wait).
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::blocking::Listener) -> thingstead::app::Result<()> {
    /// let next = l.wait(std::time::Duration::from_secs(1))?;
    /// # Ok(()) }
    /// ```
    pub fn wait(&self, timeout: Duration) -> Result<Option<Broadcast>> {
        block_on(&self.runtime, self.listener.wait(timeout))?
    }

    /// Responds to a broadcast this listener received
    /// (see [`Broadcast::respond`]).
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::blocking::Listener) -> thingstead::app::Result<()> {
    /// if let Some(b) = l.wait(std::time::Duration::from_secs(1))? { l.respond(&b, serde_json::json!(1))?; }
    /// # Ok(()) }
    /// ```
    pub fn respond(&self, broadcast: &Broadcast, payload: Value) -> Result<()> {
        block_on(&self.runtime, broadcast.respond(payload))?
    }

    /// See [`Listener::cancel`](super::Listener::cancel).
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::blocking::Listener) { l.cancel(); }
    /// ```
    pub fn cancel(&self) {
        self.listener.cancel();
    }
}
