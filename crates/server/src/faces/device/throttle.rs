//! Failed device-key look-ups per source address: a token bucket.
//!
//! Each failure (unknown key, bad TOTP code) takes a token; tokens come back
//! at `auth_failures_per_sec` up to `auth_failure_burst`. While an address
//! has no token, every frame from it is refused with code 3 **without
//! checking its credentials** (no store look-up).
//!
//! Why unchecked: guessing is only slowed if a guess gets no answer. If a
//! throttled frame were still checked, a right guess would still be answered
//! 0 and the attacker would lose nothing by sending faster; delaying the
//! answer instead only costs them parallel connections. Refused unchecked, one
//! address tests at most `auth_failures_per_sec` keys per second (2 by
//! default, against about 4,000 before: 2,000 times slower). Devices behind
//! the same NAT as a guesser are unaffected when their key succeeded from
//! that address before (see `vouched.rs`); a device never seen there waits
//! until the guessing stops (tokens refill within seconds). Devices that only
//! send valid keys never take a token.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::bounded::{lock, make_room};
use super::source::source_key;

/// Most addresses tracked at once (about 40 bytes each).
const MAX_ADDRESSES: usize = 65_536;
/// How often buckets that have refilled are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Token buckets by source address.
pub(crate) struct AddressThrottle {
    per_sec: f64,
    burst: f64,
    state: Mutex<State>,
    /// Buckets held; 0 lets valid frames skip the lock altogether.
    tracked: AtomicUsize,
}

struct State {
    buckets: HashMap<IpAddr, Bucket>,
    swept: Instant,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Tokens now, counting the refill since `at`.
    fn tokens_at(&self, now: Instant, per_sec: f64, burst: f64) -> f64 {
        (self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * per_sec).min(burst)
    }
}

impl AddressThrottle {
    /// `per_sec` tokens back per second, `burst` at most.
    pub(crate) fn new(per_sec: f64, burst: u32) -> Self {
        Self {
            per_sec: if per_sec.is_finite() && per_sec > 0.0 {
                per_sec
            } else {
                0.0
            },
            burst: f64::from(burst),
            state: Mutex::new(State {
                buckets: HashMap::new(),
                swept: Instant::now(),
            }),
            tracked: AtomicUsize::new(0),
        }
    }

    /// True when `ip` has no token left: its frames are refused unchecked.
    pub(crate) fn is_throttled(&self, ip: IpAddr) -> bool {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.is_throttled_at(ip, Instant::now())
    }

    fn is_throttled_at(&self, ip: IpAddr, now: Instant) -> bool {
        let key = source_key(ip);
        let mut state = lock(&self.state);
        let Some(bucket) = state.buckets.get(&key) else {
            return false;
        };
        let tokens = bucket.tokens_at(now, self.per_sec, self.burst);
        if tokens >= self.burst {
            // Full again: the entry says nothing a missing one would not.
            state.buckets.remove(&key);
            self.tracked.store(state.buckets.len(), Ordering::Relaxed);
            return false;
        }
        tokens < 1.0
    }

    /// Takes a token for a failure from `ip`; true when `ip` is now throttled.
    pub(crate) fn failed(&self, ip: IpAddr) -> bool {
        self.failed_at(ip, Instant::now())
    }

    fn failed_at(&self, ip: IpAddr, now: Instant) -> bool {
        let (per_sec, burst) = (self.per_sec, self.burst);
        let full = |b: &Bucket| b.tokens_at(now, per_sec, burst) >= burst;
        let key = source_key(ip);
        let mut state = lock(&self.state);
        if now.saturating_duration_since(state.swept) >= SWEEP_EVERY {
            state.buckets.retain(|_, b| !full(b));
            state.swept = now;
        }
        if !state.buckets.contains_key(&key) {
            make_room(&mut state.buckets, MAX_ADDRESSES, full, |b| b.at);
        }
        let bucket = state.buckets.entry(key).or_insert(Bucket { tokens: burst, at: now });
        bucket.tokens = (bucket.tokens_at(now, per_sec, burst) - 1.0).max(0.0);
        bucket.at = now;
        let throttled = bucket.tokens < 1.0;
        self.tracked.store(state.buckets.len(), Ordering::Relaxed);
        throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_throttled_after_its_burst_and_recovers_at_the_rate() {
        let t = AddressThrottle::new(2.0, 3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!(!t.is_throttled_at(a, t0), "unknown addresses are not throttled");
        assert!(!t.failed_at(a, t0));
        assert!(!t.failed_at(a, t0));
        assert!(t.failed_at(a, t0), "the third failure empties a bucket of 3");
        assert!(t.is_throttled_at(a, t0));
        assert!(!t.is_throttled_at(b, t0), "other addresses are not affected");
        let later = t0 + Duration::from_millis(500);
        assert!(!t.is_throttled_at(a, later), "one token back after 1 / rate");
        assert!(t.failed_at(a, later), "and it is spent by the next failure");
        assert!(!t.is_throttled_at(a, t0 + Duration::from_secs(10)));
        assert_eq!(t.tracked.load(Ordering::Relaxed), 0, "a full bucket is forgotten");
    }

    #[test]
    fn the_map_stays_bounded_under_many_addresses() {
        let t = AddressThrottle::new(0.001, 1);
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 1000) {
            t.failed_at(IpAddr::V4(i.into()), now);
        }
        assert!(lock(&t.state).buckets.len() <= MAX_ADDRESSES);
    }
}
