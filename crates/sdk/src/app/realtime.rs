//! The realtime side of one instance: which listeners are on which
//! channel, which subscriptions the server confirmed on the current
//! connection, and the queue of subscribe requests for the socket task
//! ([`super::socket`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::error::{Error, Result};
use super::listener::{Broadcast, Listener, ListenerShared};
use super::session::Session;

/// How many subscribe requests may wait for the socket task.
const SUBSCRIBE_QUEUE: usize = 256;

pub(crate) struct Realtime {
    pub(crate) session: Arc<Session>,
    listeners: Mutex<HashMap<String, Vec<Weak<ListenerShared>>>>,
    pub(crate) confirmed: watch::Sender<HashSet<String>>,
    pub(crate) connected: AtomicBool,
    subscribe_tx: mpsc::Sender<String>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime")
            .field("connected", &self.connected.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Realtime {
    /// The realtime state and the receiving end of its subscribe queue.
    pub(crate) fn new(session: Arc<Session>) -> (Arc<Self>, mpsc::Receiver<String>) {
        let (subscribe_tx, rx) = mpsc::channel(SUBSCRIBE_QUEUE);
        let rt = Arc::new(Self {
            session,
            listeners: Mutex::new(HashMap::new()),
            confirmed: watch::channel(HashSet::new()).0,
            connected: AtomicBool::new(false),
            subscribe_tx,
        });
        (rt, rx)
    }

    /// Adds a listener and waits until the server confirms its channel,
    /// at most `timeout` ([`Error::Network`] then).
    pub(crate) async fn listen(
        &self,
        channel: String,
        name: Option<String>,
        timeout: Duration,
        max_age: Duration,
    ) -> Result<Listener> {
        let shared = Arc::new(ListenerShared::new(channel.clone(), name, max_age));
        if let Ok(mut map) = self.listeners.lock() {
            let list = map.entry(channel.clone()).or_default();
            list.retain(|w| w.upgrade().is_some_and(|l| !l.cancelled.load(Ordering::Relaxed)));
            list.push(Arc::downgrade(&shared));
        }
        let listener = Listener {
            shared,
            session: self.session.clone(),
        };
        let mut confirmed = self.confirmed.subscribe();
        if confirmed.borrow().contains(&channel) {
            return Ok(listener);
        }
        let wait = async {
            // When the queue is full or the socket is down, the next
            // connection subscribes every channel with listeners anyway.
            let _ = self.subscribe_tx.try_send(channel.clone());
            confirmed.wait_for(|ids| ids.contains(&channel)).await.is_ok()
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(true) => Ok(listener),
            Ok(false) => Err(Error::stopped()),
            Err(_) => Err(Error::Network(format!(
                "the server did not confirm the subscription within {timeout:?}"
            ))),
        }
    }

    /// Every channel that has a live listener.
    pub(crate) fn channels(&self) -> Vec<String> {
        let Ok(mut map) = self.listeners.lock() else {
            return Vec::new();
        };
        map.retain(|_, list| {
            list.retain(|w| w.upgrade().is_some_and(|l| !l.cancelled.load(Ordering::Relaxed)));
            !list.is_empty()
        });
        map.keys().cloned().collect()
    }

    /// Hands a `broadcast` event's argument to the listeners of its
    /// channel and name.
    pub(crate) fn deliver(&self, event: &Value) {
        let s = |k: &str| event.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(channel), Some(name)) = (s("channel"), s("name")) else {
            tracing::debug!("app SDK: a broadcast without channel or name: {event}");
            return;
        };
        let targets: Vec<Arc<ListenerShared>> = match self.listeners.lock() {
            Ok(map) => map
                .get(&channel)
                .into_iter()
                .flatten()
                .filter_map(Weak::upgrade)
                .filter(|l| l.name.as_ref().is_none_or(|n| *n == name) && !l.cancelled.load(Ordering::Relaxed))
                .collect(),
            Err(_) => return,
        };
        if targets.is_empty() {
            return;
        }
        let broadcast = Broadcast {
            id: s("id").unwrap_or_default(),
            channel,
            name,
            payload: event.get("payload").cloned().unwrap_or(Value::Null),
            session: self.session.clone(),
        };
        for l in targets {
            l.push(broadcast.clone());
        }
    }

    /// Marks ids confirmed by a `subscribed` event.
    pub(crate) fn confirm(&self, ids: &Value) {
        let ids: Vec<String> = match ids {
            Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Value::String(one) => vec![one.clone()],
            _ => return,
        };
        self.confirmed.send_modify(|set| set.extend(ids));
    }

    /// The connection ended: nothing is confirmed any more.
    pub(crate) fn disconnected(&self) {
        self.connected.store(false, Ordering::Relaxed);
        self.confirmed.send_modify(HashSet::clear);
    }
}
