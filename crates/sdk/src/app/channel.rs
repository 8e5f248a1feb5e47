//! Channels: broadcast over HTTP (WIRE.md B.4), listen over the realtime
//! connection (B.6/B.7), with the ids of B.5.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use thingstead_proto::channel::ChannelId;

use super::error::{Error, Result};
use super::listener::Listener;
use super::realtime::Realtime;
use super::session::Session;

/// The default time a broadcast waits for responses (exp-sdk's 0.1 s).
pub const DEFAULT_BROADCAST_TIMEOUT: Duration = Duration::from_millis(100);
/// The default time `listen` waits for the server to confirm the
/// subscription (exp-sdk's 10 s).
pub const DEFAULT_LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A channel of the caller's organization. Made by
/// [`App::get_channel`](super::App::get_channel) or a resource's
/// `get_channel`.
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// use std::time::Duration;
/// let channel = app.get_channel("lobby", false, false)?;
/// let answers = channel.broadcast("ping", serde_json::json!({"n": 1}), Duration::from_secs(1)).await?;
/// println!("{} answers", answers.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Channel {
    id: ChannelId,
    session: Arc<Session>,
    realtime: Option<Arc<Realtime>>,
}

impl Channel {
    pub(crate) fn new(session: Arc<Session>, realtime: Option<Arc<Realtime>>, id: ChannelId) -> Self {
        Self { id, session, realtime }
    }

    /// The channel's parts.
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::Channel) { assert!(!c.id().system); }
    /// ```
    pub fn id(&self) -> &ChannelId {
        &self.id
    }

    /// The channel's name.
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::Channel) { println!("{}", c.name()); }
    /// ```
    pub fn name(&self) -> &str {
        &self.id.name
    }

    /// Sends `payload` as event `name` to every subscriber (this instance
    /// included), waits `timeout` for responses and returns them.
    ///
    /// ```no_run
    /// # async fn demo(c: thingstead::app::Channel) -> thingstead::app::Result<()> {
    /// let answers = c.broadcast("ping", serde_json::Value::Null, std::time::Duration::from_millis(500)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn broadcast(&self, name: &str, payload: Value, timeout: Duration) -> Result<Vec<Value>> {
        let body = json!({"channel": self.id.encode(), "name": name, "payload": payload});
        let ms = format!("{:.1}", timeout.as_secs_f64() * 1000.0);
        let answer = self
            .session
            .call(
                Method::POST,
                "/api/networks/current/broadcasts",
                Some(&body),
                &[("timeout".to_owned(), ms)],
                Some(timeout + self.session.api_timeout),
            )
            .await?;
        match answer {
            Some(Value::Array(responses)) => Ok(responses),
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(other) => Err(Error::Unexpected(format!(
                "a broadcast answered {other} instead of an array"
            ))),
        }
    }

    /// Listens for event `name`: subscribes (waiting at most `timeout` for
    /// the server's confirmation, else [`Error::Network`]) and buffers the
    /// broadcasts of the last `max_age`.
    ///
    /// ```no_run
    /// # async fn demo(c: thingstead::app::Channel) -> thingstead::app::Result<()> {
    /// use std::time::Duration;
    /// let listener = c.listen("update", Duration::from_secs(10), Duration::from_secs(60)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn listen(&self, name: &str, timeout: Duration, max_age: Duration) -> Result<Listener> {
        self.listen_to(Some(name.to_owned()), timeout, max_age).await
    }

    /// Like [`Channel::listen`], for every event name of the channel.
    ///
    /// ```no_run
    /// # async fn demo(c: thingstead::app::Channel) -> thingstead::app::Result<()> {
    /// use std::time::Duration;
    /// let everything = c.listen_all(Duration::from_secs(10), Duration::from_secs(60)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn listen_all(&self, timeout: Duration, max_age: Duration) -> Result<Listener> {
        self.listen_to(None, timeout, max_age).await
    }

    async fn listen_to(&self, name: Option<String>, timeout: Duration, max_age: Duration) -> Result<Listener> {
        if self.session.is_stopped() {
            return Err(Error::stopped());
        }
        let realtime = self
            .realtime
            .as_ref()
            .ok_or_else(|| Error::Runtime("the instance was started with enable_network(false)".into()))?;
        realtime
            .listen(self.id.encode(), name.to_owned(), timeout, max_age)
            .await
    }

    /// A broadcast named `fling` (e.g. `{"appTemplate": {"uuid": ...}}`).
    ///
    /// ```no_run
    /// # async fn demo(c: thingstead::app::Channel) -> thingstead::app::Result<()> {
    /// c.fling(serde_json::json!({"appTemplate": {"uuid": "abc"}})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn fling(&self, payload: Value) -> Result<()> {
        self.broadcast("fling", payload, DEFAULT_BROADCAST_TIMEOUT)
            .await
            .map(drop)
    }

    /// A broadcast named `identify` without payload.
    ///
    /// ```no_run
    /// # async fn demo(c: thingstead::app::Channel) -> thingstead::app::Result<()> {
    /// c.identify().await?;
    /// # Ok(()) }
    /// ```
    pub async fn identify(&self) -> Result<()> {
        self.broadcast("identify", Value::Null, DEFAULT_BROADCAST_TIMEOUT)
            .await
            .map(drop)
    }
}
