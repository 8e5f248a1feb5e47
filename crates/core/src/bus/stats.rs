//! Bus counters: events dropped by reason, reconnects.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an event was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DropReason {
    /// A subscriber fell behind and lost the oldest events.
    Lagged,
    /// Publishing did not finish within its timeout.
    Timeout,
    /// The NATS connection was down.
    Disconnected,
    /// The event was larger than the transport allows.
    TooLarge,
    /// Something arrived that is not a valid event.
    Invalid,
    /// The server's `bus.sock` queue was full.
    ForwardFull,
    /// NATS dropped messages for a slow subscription.
    SlowConsumer,
    /// The transport failed otherwise.
    Error,
}

const REASONS: [DropReason; 8] = [
    DropReason::Lagged,
    DropReason::Timeout,
    DropReason::Disconnected,
    DropReason::TooLarge,
    DropReason::Invalid,
    DropReason::ForwardFull,
    DropReason::SlowConsumer,
    DropReason::Error,
];

impl DropReason {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lagged => "lagged",
            Self::Timeout => "timeout",
            Self::Disconnected => "disconnected",
            Self::TooLarge => "too_large",
            Self::Invalid => "invalid",
            Self::ForwardFull => "forward_full",
            Self::SlowConsumer => "slow_consumer",
            Self::Error => "error",
        }
    }
}

/// A bus's counters so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Events dropped, by reason label.
    pub dropped: BTreeMap<&'static str, u64>,
    /// Times the bus reconnected to NATS.
    pub reconnects: u64,
}

impl BusStats {
    /// Events dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(reason.as_str()).copied().unwrap_or(0)
    }
}

/// The live counters of one bus (also exported as metrics).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    dropped: [AtomicU64; REASONS.len()],
    reconnects: AtomicU64,
}

impl Counters {
    pub(crate) fn dropped(&self, reason: DropReason, n: u64) {
        self.dropped[reason as usize].fetch_add(n, Ordering::Relaxed);
        metrics::counter!("thingstead_bus_dropped_total", "reason" => reason.as_str()).increment(n);
    }

    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn reconnected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("thingstead_bus_reconnects_total").increment(1);
    }

    pub(crate) fn snapshot(&self) -> BusStats {
        BusStats {
            dropped: REASONS
                .iter()
                .map(|r| (r.as_str(), self.dropped[*r as usize].load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }
}
