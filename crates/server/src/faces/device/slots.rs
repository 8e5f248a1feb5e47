//! Connections per source address: past `max_connections_per_ip` a new
//! connection is closed at once, so one address cannot fill the listener
//! with idle connections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::bounded::lock;
use super::source::source_key;

/// Open connections by source address. An entry exists only while that
/// address has a connection open, so the map is bounded by the listener's
/// own connection cap.
pub(crate) struct AddressSlots {
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in its address's count, given back on drop.
pub(crate) struct Slot {
    slots: Arc<AddressSlots>,
    key: IpAddr,
}

impl AddressSlots {
    /// At most `cap` (at least 1) open connections per address.
    pub(crate) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `ip`, or `None` when that address
    /// already holds its cap.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let key = source_key(ip);
        let mut open = lock(&self.open);
        let n = open.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        lock(&self.open).len()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(&self.slots.open);
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_cap_and_gets_slots_back() {
        let slots = AddressSlots::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = slots.take(a).unwrap();
        let _s2 = slots.take(a).unwrap();
        assert!(slots.take(a).is_none(), "third connection from one address");
        assert!(slots.take(b).is_some(), "another address is not affected");
        drop(s1);
        let s3 = slots.take(a);
        assert!(s3.is_some(), "a slot comes back when a connection ends");
        drop(s3);
        drop(_s2);
        assert_eq!(slots.tracked(), 0, "no entry outlives its connections");
    }
}
