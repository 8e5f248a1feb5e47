//! The platform bus: everything that happens is published here by the core
//! after it is stored; realtime faces, webhooks and workers subscribe.
//!
//! # Subjects
//!
//! Every event ([`BusEvent`]) has a tenant (its organization name) and a
//! subject of dot-separated tokens:
//!
//! | event | subject |
//! |---|---|
//! | device message stored | `thingstead.<tenant>.message.<device_uuid>` |
//! | SMS queued | `thingstead.<tenant>.sms.<id>.queued` |
//! | registry change | `thingstead.<tenant>.registry.<kind>.<id>.<created\|deleted\|updated>` |
//! | broadcast on a realtime channel | `thingstead.<tenant>.broadcast.<id>` |
//! | response to a broadcast | `thingstead.<tenant>.broadcast.<id>.response` |
//!
//! `<kind>` is `org`, `device`, `app`, `client`, `apikey`, `user`, or one of
//! the application platform's resources: `thing`, `experience`, `location`,
//! `feed`, `content`, `data` (a data item's id is `<group>:<key>`); an
//! organization's id is its name; `updated` is a device's TOTP seed rotated
//! or an organization's retention changed. Organization names
//! (`[a-z0-9][a-z0-9-]{0,62}`) are safe tokens; every other token that comes
//! from input is escaped by [`subject::token`] (bytes outside
//! `[A-Za-z0-9_-]` become `%XX`), so no input adds a level or a wildcard.
//!
//! Subscribers pass a [`Filter`]: one tenant or all, and a pattern below it
//! in NATS syntax (`*` one token, `>` the rest). Both backends match with
//! the same [`subject::matches`].
//!
//! # Backends and bounds
//!
//! - [`local::LocalBus`] (default): in process. A process that opens the
//!   store beside a running server (the admin CLI) forwards what it
//!   publishes to the server's `bus.sock` ([`socket`]).
//! - `nats::NatsBus` (feature `nats`): every node publishes to NATS and
//!   subscribes to `thingstead.>`; local subscribers filter.
//!
//! Publishing never waits long: it is bounded by a timeout and queues of
//! fixed size, and every event it gives up on is counted in
//! `thingstead_bus_dropped_total{reason}` (and in [`Bus::stats`]). Each
//! subscriber has a queue of [`local::CAPACITY`] events; one that falls
//! further behind loses the oldest, counted with reason `lagged`.
//!
//! Faces get [`Events`] from the platform: subscribe only. Only the core
//! publishes.

pub mod event;
pub mod local;
#[cfg(feature = "nats")]
pub mod nats;
pub mod socket;
mod stats;
pub mod subject;

use std::sync::Arc;

pub use event::{BusEvent, Change, RegistryChange, RegistryKind};
pub use stats::{BusStats, DropReason};
pub use subject::{Filter, FilterError};

pub(crate) use stats::Counters;

/// Why a bus could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The NATS server did not answer in time or refused us.
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect {
        /// Its address (credentials removed).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The local socket could not be set up.
    #[error("bus socket {path}: {source}")]
    Socket {
        /// The socket path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The bus interface: only the core holds it.
#[async_trait::async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes an event to every matching subscriber (on every node, for
    /// a distributed backend). Bounded: what it cannot deliver in time it
    /// drops and counts.
    async fn publish(&self, event: BusEvent);
    /// Subscribes to the events matching `filter` published from now on.
    fn subscribe(&self, filter: Filter) -> Subscriber;
    /// Drops and reconnects so far.
    fn stats(&self) -> BusStats;
    /// Waits (bounded) until what was published left this process.
    async fn flush(&self) {}
}

/// What [`Subscriber::recv`] may fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber fell behind and lost this many events (counted).
    #[error("lagged behind; {0} events lost")]
    Lagged(u64),
    /// The bus is gone.
    #[error("bus closed")]
    Closed,
}

/// An event, as fanned out in a process, with its subject made at most
/// once, when a subscriber's filter first needs it (a subscriber of
/// everything never does).
#[derive(Debug)]
pub(crate) struct Published {
    subject: std::sync::OnceLock<String>,
    event: BusEvent,
}

impl Published {
    fn subject(&self) -> &str {
        self.subject.get_or_init(|| self.event.subject())
    }
}

/// A subscription: the matching events, in order.
pub struct Subscriber {
    rx: tokio::sync::broadcast::Receiver<Arc<Published>>,
    filter: Filter,
    counters: Arc<Counters>,
}

impl Subscriber {
    /// The next matching event. `Lagged` when events were lost to a full
    /// queue (the next call goes on with the oldest one still queued).
    pub async fn recv(&mut self) -> Result<BusEvent, RecvError> {
        use tokio::sync::broadcast::error::RecvError as Broadcast;
        loop {
            match self.rx.recv().await {
                Ok(p) if self.filter.is_everything() || self.filter.matches(p.subject()) => {
                    return Ok(p.event.clone());
                }
                Ok(_) => {}
                Err(Broadcast::Lagged(n)) => {
                    self.counters.dropped(DropReason::Lagged, n);
                    return Err(RecvError::Lagged(n));
                }
                Err(Broadcast::Closed) => return Err(RecvError::Closed),
            }
        }
    }

    /// The filter of this subscription.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }
}

/// The in-process fan-out every backend delivers through.
#[derive(Clone)]
pub(crate) struct FanOut {
    tx: tokio::sync::broadcast::Sender<Arc<Published>>,
    counters: Arc<Counters>,
}

impl FanOut {
    pub(crate) fn new(capacity: usize, counters: Arc<Counters>) -> Self {
        Self {
            tx: tokio::sync::broadcast::channel(capacity.max(1)).0,
            counters,
        }
    }

    /// Hands an event to this process's subscribers; never blocks.
    pub(crate) fn deliver(&self, event: BusEvent) {
        let published = Published {
            subject: std::sync::OnceLock::new(),
            event,
        };
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.tx.send(Arc::new(published));
    }

    pub(crate) fn subscribe(&self, filter: Filter) -> Subscriber {
        Subscriber {
            rx: self.tx.subscribe(),
            filter,
            counters: self.counters.clone(),
        }
    }
}

/// The subscribe-only side of the bus, for faces and workers.
#[derive(Clone)]
pub struct Events {
    bus: Arc<dyn Bus>,
}

impl Events {
    pub(crate) fn new(bus: Arc<dyn Bus>) -> Self {
        Self { bus }
    }

    /// Subscribes to the events matching `filter` published from now on.
    pub fn subscribe(&self, filter: Filter) -> Subscriber {
        self.bus.subscribe(filter)
    }

    /// Drops and reconnects so far.
    pub fn stats(&self) -> BusStats {
        self.bus.stats()
    }
}
