//! The per-client event bus: `subscribe`, `unsubscribe`, `broadcast`.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use thingstead_proto::device::ResultCode;

use super::InboundMessage;

/// The names of the events a client broadcasts, as hologram-python names them.
///
/// ```
/// use thingstead::device::EventName;
/// assert_eq!(EventName::MessageReceived.as_str(), "message.received");
/// assert_eq!("network.connected".parse::<EventName>().unwrap(), EventName::NetworkConnected);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventName {
    /// `network.connected`
    NetworkConnected,
    /// `network.disconnected`
    NetworkDisconnected,
    /// `wifi.connected`
    WifiConnected,
    /// `wifi.disconnected`
    WifiDisconnected,
    /// `socket.connected`: a TCP connection to the server was opened.
    SocketConnected,
    /// `socket.closed`: that connection was closed.
    SocketClosed,
    /// `message.sent`: the server answered a message.
    MessageSent,
    /// `message.received`: an inbound message arrived.
    MessageReceived,
    /// `cellular.connected`: the modem registered on a cellular network.
    CellularConnected,
    /// `cellular.disconnected`: the modem lost its registration.
    CellularDisconnected,
    /// `sms.received`: the modem received an SMS.
    SmsReceived,
}

impl EventName {
    /// Every event name.
    pub const ALL: [EventName; 11] = [
        Self::NetworkConnected,
        Self::NetworkDisconnected,
        Self::WifiConnected,
        Self::WifiDisconnected,
        Self::SocketConnected,
        Self::SocketClosed,
        Self::MessageSent,
        Self::MessageReceived,
        Self::CellularConnected,
        Self::CellularDisconnected,
        Self::SmsReceived,
    ];

    /// The dotted name.
    ///
    /// ```
    /// assert_eq!(thingstead::device::EventName::SocketClosed.as_str(), "socket.closed");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NetworkConnected => "network.connected",
            Self::NetworkDisconnected => "network.disconnected",
            Self::WifiConnected => "wifi.connected",
            Self::WifiDisconnected => "wifi.disconnected",
            Self::SocketConnected => "socket.connected",
            Self::SocketClosed => "socket.closed",
            Self::MessageSent => "message.sent",
            Self::MessageReceived => "message.received",
            Self::CellularConnected => "cellular.connected",
            Self::CellularDisconnected => "cellular.disconnected",
            Self::SmsReceived => "sms.received",
        }
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown event name.
///
/// ```
/// assert!("network.lost".parse::<thingstead::device::EventName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event name {0:?}")]
pub struct UnknownEventName(pub String);

impl FromStr for EventName {
    type Err = UnknownEventName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| UnknownEventName(s.to_owned()))
    }
}

/// Something that happened on a client.
///
/// ```
/// use thingstead::device::{Event, EventName};
/// assert_eq!(Event::NetworkConnected.name(), EventName::NetworkConnected);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The network came up.
    NetworkConnected,
    /// The network went down.
    NetworkDisconnected,
    /// A Wi-Fi network was joined.
    WifiConnected,
    /// A Wi-Fi network was left.
    WifiDisconnected,
    /// A connection to the server was opened.
    SocketConnected,
    /// That connection was closed.
    SocketClosed,
    /// The server answered a message with this code.
    MessageSent(ResultCode),
    /// An inbound message arrived.
    MessageReceived(InboundMessage),
    /// The modem registered on a cellular network.
    CellularConnected,
    /// The modem lost its registration.
    CellularDisconnected,
    /// The modem received an SMS.
    SmsReceived(crate::device::ReceivedSms),
}

impl Event {
    /// The event's name.
    ///
    /// ```
    /// use thingstead::device::{Event, EventName};
    /// use thingstead_proto::device::ResultCode;
    /// assert_eq!(Event::MessageSent(ResultCode::Sent).name().as_str(), "message.sent");
    /// ```
    pub fn name(&self) -> EventName {
        match self {
            Self::NetworkConnected => EventName::NetworkConnected,
            Self::NetworkDisconnected => EventName::NetworkDisconnected,
            Self::WifiConnected => EventName::WifiConnected,
            Self::WifiDisconnected => EventName::WifiDisconnected,
            Self::SocketConnected => EventName::SocketConnected,
            Self::SocketClosed => EventName::SocketClosed,
            Self::MessageSent(_) => EventName::MessageSent,
            Self::MessageReceived(_) => EventName::MessageReceived,
            Self::CellularConnected => EventName::CellularConnected,
            Self::CellularDisconnected => EventName::CellularDisconnected,
            Self::SmsReceived(_) => EventName::SmsReceived,
        }
    }
}

/// A subscriber. Its identity is the `Arc`'s pointer: keep the `Arc` to
/// unsubscribe. Callbacks run on the task that broadcasts: keep them short.
pub type Callback = Arc<dyn Fn(&Event) + Send + Sync>;

/// A client's event bus. Each client has its own; nothing is process-global.
///
/// Subscribing the same callback (the same `Arc`) twice to one event keeps
/// one subscription, so it runs once per broadcast.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use thingstead::device::{Callback, Event, EventBus, EventName};
/// let bus = EventBus::default();
/// let hits = Arc::new(AtomicUsize::new(0));
/// let h = hits.clone();
/// let cb: Callback = Arc::new(move |_: &Event| { h.fetch_add(1, Ordering::SeqCst); });
/// bus.subscribe(EventName::NetworkConnected, cb.clone());
/// bus.subscribe(EventName::NetworkConnected, cb.clone());
/// bus.broadcast(&Event::NetworkConnected);
/// assert_eq!(hits.load(Ordering::SeqCst), 1);
/// assert!(bus.unsubscribe(EventName::NetworkConnected, &cb));
/// bus.broadcast(&Event::NetworkConnected);
/// assert_eq!(hits.load(Ordering::SeqCst), 1);
/// ```
#[derive(Default)]
pub struct EventBus {
    subscribers: Mutex<Vec<(EventName, Callback)>>,
}

impl EventBus {
    fn lock(&self) -> MutexGuard<'_, Vec<(EventName, Callback)>> {
        // A panicking callback never runs under this lock, so the list is consistent.
        self.subscribers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Subscribes `callback` to `event`; returns false when it already was.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use thingstead::device::{Callback, EventBus, EventName};
    /// let bus = EventBus::default();
    /// let cb: Callback = Arc::new(|_| {});
    /// assert!(bus.subscribe(EventName::MessageSent, cb.clone()));
    /// assert!(!bus.subscribe(EventName::MessageSent, cb));
    /// ```
    pub fn subscribe(&self, event: EventName, callback: Callback) -> bool {
        let mut subs = self.lock();
        if subs
            .iter()
            .any(|(name, cb)| *name == event && Arc::ptr_eq(cb, &callback))
        {
            return false;
        }
        subs.push((event, callback));
        true
    }

    /// Removes `callback` from `event`; returns false when it was not subscribed.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use thingstead::device::{Callback, EventBus, EventName};
    /// let cb: Callback = Arc::new(|_| {});
    /// assert!(!EventBus::default().unsubscribe(EventName::MessageSent, &cb));
    /// ```
    pub fn unsubscribe(&self, event: EventName, callback: &Callback) -> bool {
        let mut subs = self.lock();
        let before = subs.len();
        subs.retain(|(name, cb)| !(*name == event && Arc::ptr_eq(cb, callback)));
        subs.len() != before
    }

    /// Runs every callback subscribed to the event's name, in subscription
    /// order. Callbacks may subscribe and unsubscribe: they run outside the lock.
    ///
    /// ```
    /// thingstead::device::EventBus::default().broadcast(&thingstead::device::Event::SocketClosed);
    /// ```
    pub fn broadcast(&self, event: &Event) {
        let name = event.name();
        let targets: Vec<Callback> = self
            .lock()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, cb)| Arc::clone(cb))
            .collect();
        for cb in targets {
            cb(event);
        }
    }

    /// How many callbacks are subscribed to `event`.
    ///
    /// ```
    /// use thingstead::device::{EventBus, EventName};
    /// assert_eq!(EventBus::default().subscriber_count(EventName::MessageReceived), 0);
    /// ```
    pub fn subscriber_count(&self, event: EventName) -> usize {
        self.lock().iter().filter(|(n, _)| *n == event).count()
    }
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBus")
            .field("subscriptions", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counter() -> (Arc<AtomicUsize>, Callback) {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        (
            hits,
            Arc::new(move |_: &Event| {
                h.fetch_add(1, Ordering::SeqCst);
            }),
        )
    }

    #[test]
    fn callbacks_run_only_for_their_event() {
        let bus = EventBus::default();
        let (a, cb_a) = counter();
        let (b, cb_b) = counter();
        bus.subscribe(EventName::NetworkConnected, cb_a.clone());
        bus.subscribe(EventName::NetworkDisconnected, cb_b);
        bus.broadcast(&Event::NetworkConnected);
        bus.broadcast(&Event::NetworkConnected);
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (2, 0));
        // The same callback on two events runs for each.
        bus.subscribe(EventName::SocketClosed, cb_a);
        bus.broadcast(&Event::SocketClosed);
        assert_eq!(a.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn twice_subscribed_runs_once_and_distinct_closures_both_run() {
        let bus = EventBus::default();
        let (a, cb_a) = counter();
        let (b, cb_b) = counter();
        assert!(bus.subscribe(EventName::MessageSent, cb_a.clone()));
        assert!(!bus.subscribe(EventName::MessageSent, cb_a.clone()));
        assert!(bus.subscribe(EventName::MessageSent, cb_b));
        bus.broadcast(&Event::MessageSent(ResultCode::Sent));
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (1, 1));
        assert!(bus.unsubscribe(EventName::MessageSent, &cb_a));
        assert!(!bus.unsubscribe(EventName::MessageSent, &cb_a));
        bus.broadcast(&Event::MessageSent(ResultCode::Sent));
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (1, 2));
    }

    #[test]
    fn buses_are_independent_and_callbacks_may_resubscribe() {
        let one = Arc::new(EventBus::default());
        let two = EventBus::default();
        let (hits, cb) = counter();
        one.subscribe(EventName::SocketConnected, cb.clone());
        two.broadcast(&Event::SocketConnected);
        assert_eq!(hits.load(Ordering::SeqCst), 0);
        // A callback that unsubscribes itself does not deadlock.
        let bus = one.clone();
        let cb2 = cb.clone();
        let selfish: Callback = Arc::new(move |_: &Event| {
            bus.unsubscribe(EventName::SocketConnected, &cb2);
        });
        one.subscribe(EventName::SocketConnected, selfish);
        one.broadcast(&Event::SocketConnected);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(one.subscriber_count(EventName::SocketConnected), 1);
    }

    #[test]
    fn every_name_round_trips() {
        for name in EventName::ALL {
            assert_eq!(name.as_str().parse::<EventName>().unwrap(), name);
        }
    }
}
