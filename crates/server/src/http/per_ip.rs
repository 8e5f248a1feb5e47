//! Connections held open per source address: a client over its share is
//! turned away at once instead of taking every slot of the listener.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open connections per source address, capped.
#[derive(Clone)]
pub struct PerAddressLimit {
    max: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddressLimit {
    /// At most `max` (at least 1) connections per address.
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            open: Arc::default(),
        }
    }

    /// A slot for one more connection from `ip`, or `None` when it already
    /// holds `max`. The slot is given back when dropped.
    pub fn try_acquire(&self, ip: IpAddr) -> Option<AddressSlot> {
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            ip,
            open: self.open.clone(),
        })
    }

    /// Addresses holding at least one connection (for tests).
    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.open.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// One connection's share of its address's cap.
pub struct AddressSlot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_share_and_gives_it_back() {
        let limit = PerAddressLimit::new(2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let a1 = limit.try_acquire(a).unwrap();
        let _a2 = limit.try_acquire(a).unwrap();
        assert!(
            limit.try_acquire(a).is_none(),
            "a third from the same address is refused"
        );
        // The IPv4-mapped IPv6 form is the same address.
        assert!(limit.try_acquire("::ffff:127.0.0.1".parse().unwrap()).is_none());
        let b1 = limit.try_acquire(b).unwrap();
        drop(a1);
        assert!(limit.try_acquire(a).is_some());
        drop(b1);
        assert_eq!(limit.addresses(), 1, "an address with no connection is forgotten");
    }
}
