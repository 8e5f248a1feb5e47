//! A listener's bounded buffer of broadcasts, and a received
//! [`Broadcast`] that can be responded to.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::error::{Error, Result};
use super::session::Session;

/// How many broadcasts one listener keeps before it drops the oldest.
pub const LISTENER_CAPACITY: usize = 1000;

/// The default `max_age` of buffered broadcasts (exp-sdk's 60 s).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);

/// A broadcast received by a [`Listener`].
///
/// ```no_run
/// # async fn demo(listener: thingstead::app::Listener) -> thingstead::app::Result<()> {
/// if let Some(b) = listener.wait(std::time::Duration::from_secs(5)).await? {
///     println!("{} {}", b.name, b.payload);
///     b.respond(serde_json::json!({"ok": true})).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The broadcast's id (what responses refer to).
    pub id: String,
    /// The channel id it came on (encoded, as on the wire).
    pub channel: String,
    /// The event name.
    pub name: String,
    /// The payload.
    pub payload: Value,
    pub(crate) session: Arc<Session>,
}

impl Broadcast {
    /// Answers the broadcast (`POST /api/networks/current/responses`); the
    /// broadcaster gets `payload` in its list of responses if it still
    /// waits.
    ///
    /// ```no_run
    /// # async fn demo(b: thingstead::app::Broadcast) -> thingstead::app::Result<()> {
    /// b.respond(serde_json::json!("pong")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn respond(&self, payload: Value) -> Result<()> {
        let body = json!({"id": self.id, "channel": self.channel, "payload": payload});
        self.session
            .call(Method::POST, "/api/networks/current/responses", Some(&body), &[], None)
            .await?;
        Ok(())
    }
}

/// The part of a listener the realtime connection writes into.
#[derive(Debug)]
pub(crate) struct ListenerShared {
    pub(crate) channel: String,
    /// The event name; `None` takes every event of the channel.
    pub(crate) name: Option<String>,
    max_age: Duration,
    queue: Mutex<VecDeque<(Instant, Broadcast)>>,
    notify: Notify,
    dropped: AtomicU64,
    pub(crate) cancelled: AtomicBool,
}

impl ListenerShared {
    pub(crate) fn new(channel: String, name: Option<String>, max_age: Duration) -> Self {
        Self {
            channel,
            name,
            max_age,
            queue: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            dropped: AtomicU64::new(0),
            cancelled: AtomicBool::new(false),
        }
    }

    /// Queues a broadcast, dropping the oldest when full.
    pub(crate) fn push(&self, broadcast: Broadcast) {
        let Ok(mut queue) = self.queue.lock() else { return };
        prune(&mut queue, self.max_age);
        if queue.len() >= LISTENER_CAPACITY {
            queue.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back((Instant::now(), broadcast));
        drop(queue);
        self.notify.notify_one();
    }

    fn pop(&self) -> Option<Broadcast> {
        let mut queue = self.queue.lock().ok()?;
        prune(&mut queue, self.max_age);
        queue.pop_front().map(|(_, b)| b)
    }
}

fn prune(queue: &mut VecDeque<(Instant, Broadcast)>, max_age: Duration) {
    while queue.front().is_some_and(|(at, _)| at.elapsed() > max_age) {
        queue.pop_front();
    }
}

/// Broadcasts of one event name on one channel, buffered (at most
/// [`LISTENER_CAPACITY`], none older than its `max_age`) across
/// reconnections. Made by [`Channel::listen`](super::Channel::listen);
/// dropping it or [`Listener::cancel`] detaches it.
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// use std::time::Duration;
/// let channel = app.get_channel("lobby", false, false)?;
/// let listener = channel.listen("hello", Duration::from_secs(10), Duration::from_secs(60)).await?;
/// while let Some(b) = listener.wait(Duration::from_secs(30)).await? {
///     println!("{}", b.payload);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Listener {
    pub(crate) shared: Arc<ListenerShared>,
    pub(crate) session: Arc<Session>,
}

impl Listener {
    /// The next broadcast in arrival order, waiting up to `timeout`;
    /// `Ok(None)` when none came. Fails once the instance is stopped or
    /// the listener cancelled.
    ///
    /// ```no_run
    /// # async fn demo(l: thingstead::app::Listener) -> thingstead::app::Result<()> {
    /// let next = l.wait(std::time::Duration::from_millis(500)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait(&self, timeout: Duration) -> Result<Option<Broadcast>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.session.is_stopped() {
                return Err(Error::stopped());
            }
            if self.shared.cancelled.load(Ordering::Relaxed) {
                return Err(Error::Runtime("this listener is cancelled".into()));
            }
            if let Some(b) = self.shared.pop() {
                return Ok(Some(b));
            }
            let mut stopped = self.session.stopped_signal();
            tokio::select! {
                () = self.shared.notify.notified() => {}
                _ = stopped.wait_for(|s| *s) => {}
                () = tokio::time::sleep_until(deadline) => return Ok(self.shared.pop()),
            }
        }
    }

    /// Detaches the listener: nothing more is buffered, and `wait` fails.
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::Listener) { l.cancel(); }
    /// ```
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::Relaxed);
        self.shared.notify.notify_one();
    }

    /// How many broadcasts were dropped because the buffer was full.
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::Listener) { assert_eq!(l.dropped(), 0); }
    /// ```
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The encoded channel id this listener is on.
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::Listener) { println!("{}", l.channel_id()); }
    /// ```
    pub fn channel_id(&self) -> &str {
        &self.shared.channel
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shared.cancelled.store(true, Ordering::Relaxed);
    }
}
