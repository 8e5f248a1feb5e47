//! The in-process bus.

use super::{Bus, BusEvent, BusSubscription};

/// Events a subscriber may fall behind before it loses the oldest.
pub const CAPACITY: usize = 4096;

/// A bus inside one process.
pub struct LocalBus {
    tx: tokio::sync::broadcast::Sender<BusEvent>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self {
            tx: tokio::sync::broadcast::channel(CAPACITY).0,
        }
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: BusEvent) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> BusSubscription {
        self.tx.subscribe()
    }
}
