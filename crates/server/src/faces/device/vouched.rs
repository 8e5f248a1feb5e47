//! Credentials that have proven themselves from an address.
//!
//! The address throttle refuses frames unchecked once an address has used up
//! its failures, which is what stops a guesser. A real device behind the same
//! NAT must not pay for it: a credential that already succeeded from an
//! address is remembered (as a keyed 64-bit fingerprint, never the key) and
//! is checked even while that address is throttled. A guess cannot be in the
//! set, since only successes enter it; a fingerprint collision would only buy
//! a guess an ordinary store check, not acceptance.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use super::bounded::{lock, make_room};
use super::source::source_key;

/// Addresses remembered at once.
const MAX_ADDRESSES: usize = 65_536;
/// Credentials remembered per address (a NAT with more devices keeps the most recent).
const PER_ADDRESS: usize = 64;

/// Fingerprints of credentials that succeeded, by source address.
pub(crate) struct Vouched {
    keys: RandomState,
    by_address: Mutex<HashMap<IpAddr, Entry>>,
}

struct Entry {
    fingerprints: Vec<u64>,
    at: Instant,
}

impl Vouched {
    pub(crate) fn new() -> Self {
        Self {
            keys: RandomState::new(),
            by_address: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers that `credential` succeeded from `ip`.
    pub(crate) fn succeeded(&self, ip: IpAddr, credential: &str) {
        let fingerprint = self.keys.hash_one(credential);
        let now = Instant::now();
        let mut map = lock(&self.by_address);
        let key = source_key(ip);
        if let Some(entry) = map.get_mut(&key) {
            entry.at = now;
            if let Some(i) = entry.fingerprints.iter().position(|f| *f == fingerprint) {
                // Most recent last: the oldest goes first when the list is full.
                let f = entry.fingerprints.remove(i);
                entry.fingerprints.push(f);
            } else {
                if entry.fingerprints.len() >= PER_ADDRESS {
                    entry.fingerprints.remove(0);
                }
                entry.fingerprints.push(fingerprint);
            }
            return;
        }
        make_room(&mut map, MAX_ADDRESSES, |_| false, |e| e.at);
        map.insert(
            key,
            Entry {
                fingerprints: vec![fingerprint],
                at: now,
            },
        );
    }

    /// True when `credential` succeeded from `ip` before.
    pub(crate) fn knows(&self, ip: IpAddr, credential: &str) -> bool {
        let fingerprint = self.keys.hash_one(credential);
        lock(&self.by_address)
            .get(&source_key(ip))
            .is_some_and(|e| e.fingerprints.contains(&fingerprint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credentials_that_succeeded_from_an_address_are_known_there() {
        let v = Vouched::new();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        v.succeeded(a, "abcd1234");
        assert!(v.knows(a, "abcd1234"));
        assert!(!v.knows(a, "abcd1235"));
        assert!(!v.knows(b, "abcd1234"));
    }

    #[test]
    fn an_address_keeps_its_most_recent_credentials() {
        let v = Vouched::new();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..=PER_ADDRESS {
            v.succeeded(a, &format!("key{i}"));
        }
        assert!(!v.knows(a, "key0"), "the oldest is forgotten");
        assert!(v.knows(a, &format!("key{PER_ADDRESS}")));
    }
}
