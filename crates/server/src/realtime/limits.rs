//! Connection slots: at most `realtime.max_connections` socket.io
//! connections on this node and `realtime.max_connections_per_org` per
//! organization; and the realtime metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::settings::RealtimeSettings;

/// Gauge of the authenticated socket.io connections of this node.
pub const CONNECTIONS_GAUGE: &str = "thingstead_realtime_connections";
/// Counter of broadcasts not written to a connection because its queue was
/// full (it stopped reading) or it was closing.
pub const DROPPED_COUNTER: &str = "thingstead_realtime_dropped_total";

/// Open connections, in all and per organization.
pub(super) struct ConnectionLimits {
    max: usize,
    max_per_org: usize,
    open: Mutex<Open>,
    gauge: metrics::Gauge,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_org: HashMap<String, usize>,
}

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Full {
    /// The node holds `max_connections`.
    Node,
    /// The organization holds `max_connections_per_org`.
    Organization,
}

/// One open connection; released when dropped.
pub(super) struct ConnectionSlot {
    limits: Arc<ConnectionLimits>,
    org: String,
}

impl ConnectionLimits {
    pub(super) fn new(settings: &RealtimeSettings) -> Self {
        Self {
            max: settings.max_connections,
            max_per_org: settings.max_connections_per_org,
            open: Mutex::default(),
            gauge: metrics::gauge!(CONNECTIONS_GAUGE),
        }
    }

    /// A slot for a connection of `org`, if both limits allow one.
    pub(super) fn acquire(self: &Arc<Self>, org: &str) -> Result<ConnectionSlot, Full> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max {
            return Err(Full::Node);
        }
        let of_org = open.per_org.get(org).copied().unwrap_or(0);
        if of_org >= self.max_per_org {
            return Err(Full::Organization);
        }
        open.total += 1;
        open.per_org.insert(org.to_owned(), of_org + 1);
        self.gauge.increment(1.0);
        Ok(ConnectionSlot {
            limits: self.clone(),
            org: org.to_owned(),
        })
    }

    /// Whether `org` has a connection open on this node: the fan-out
    /// skips the events of every other organization, since a connection
    /// listens only on its own organization's channels.
    pub(super) fn has_open(&self, org: &str) -> bool {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.per_org.contains_key(org)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_org.get_mut(&self.org) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_org.remove(&self.org);
            }
        }
        self.limits.gauge.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_per_node_and_per_organization_and_come_back() {
        let settings = RealtimeSettings {
            max_connections: 3,
            max_connections_per_org: 2,
            ..RealtimeSettings::default()
        };
        let limits = Arc::new(ConnectionLimits::new(&settings));
        let a1 = limits.acquire("a").expect("a1");
        let _a2 = limits.acquire("a").expect("a2");
        assert_eq!(limits.acquire("a").err(), Some(Full::Organization));
        let _b1 = limits.acquire("b").expect("b1");
        assert_eq!(limits.acquire("c").err(), Some(Full::Node));
        drop(a1);
        assert!(limits.acquire("a").is_ok(), "a released slot is usable again");
    }
}
