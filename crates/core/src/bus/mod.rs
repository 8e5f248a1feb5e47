//! The platform bus: everything that happens is published here after it is
//! stored; realtime faces, webhooks and workers subscribe.
//!
//! The local backend is a bounded in-process broadcast; a subscriber that
//! falls more than [`local::CAPACITY`] events behind loses the oldest ones
//! (counted in `thingstead_bus_dropped_total`). NATS comes later behind the
//! same trait.

pub mod local;

use std::sync::Arc;

use crate::records::MessageRecord;

/// An event on the bus.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BusEvent {
    /// A device message was committed.
    MessageStored(Arc<MessageRecord>),
    /// An SMS was queued in the outbox of `org`.
    SmsQueued {
        /// Organization name.
        org: String,
        /// Outbox id.
        id: i64,
    },
}

/// A subscription: receive events in order.
pub type BusSubscription = tokio::sync::broadcast::Receiver<BusEvent>;

/// The bus interface.
pub trait Bus: Send + Sync + 'static {
    /// Publishes an event to every current subscriber; never blocks.
    fn publish(&self, event: BusEvent);
    /// Subscribes to events published from now on.
    fn subscribe(&self) -> BusSubscription;
}
