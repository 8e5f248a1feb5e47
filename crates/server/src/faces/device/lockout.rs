//! TOTP lock-out per device: three codes are valid at any moment, so
//! without a bound on attempts a forged frame is a matter of time.
//!
//! After [`LOCK_AFTER`] consecutive failures for one device uuid, its TOTP
//! frames are refused (code 3) without being checked for a back-off that
//! starts at 1 s and doubles with each further failure, up to 15 min. A
//! success forgets the device. This is per node, a cache that is correct to
//! lose: the map is capped, and forgets first what says nothing (unlocked
//! and quiet for an hour), then the devices touched longest ago.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::bounded::{lock, make_room};

/// Consecutive failures that lock a device out.
pub(crate) const LOCK_AFTER: u32 = 10;
/// The first lock-out.
const FIRST_LOCK: Duration = Duration::from_secs(1);
/// The longest lock-out.
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// An unlocked device untouched this long is forgotten first when the map is full.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Most devices tracked at once (a uuid is at most 64 bytes).
const MAX_DEVICES: usize = 16_384;

/// Failure counts and lock-outs by device uuid.
pub(crate) struct TotpLockout {
    devices: Mutex<HashMap<String, Entry>>,
    /// Devices held; 0 lets frames skip the lock altogether.
    tracked: AtomicUsize,
}

struct Entry {
    failures: u32,
    until: Option<Instant>,
    touched: Instant,
}

impl TotpLockout {
    pub(crate) fn new() -> Self {
        Self {
            devices: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    /// True while `uuid` is locked out: its frame is refused unchecked.
    pub(crate) fn is_locked(&self, uuid: &str) -> bool {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.is_locked_at(uuid, Instant::now())
    }

    fn is_locked_at(&self, uuid: &str, now: Instant) -> bool {
        let mut devices = lock(&self.devices);
        let Some(e) = devices.get_mut(uuid) else {
            return false;
        };
        let locked = e.until.is_some_and(|u| now < u);
        if locked {
            // A device under attack stays young, so floods of other uuids do not evict it.
            e.touched = now;
        }
        locked
    }

    /// Counts a failure for `uuid`; `Some(lock)` when it locks the device out.
    pub(crate) fn failed(&self, uuid: &str) -> Option<Duration> {
        self.failed_at(uuid, Instant::now())
    }

    fn failed_at(&self, uuid: &str, now: Instant) -> Option<Duration> {
        let mut devices = lock(&self.devices);
        if !devices.contains_key(uuid) {
            let quiet = |e: &Entry| {
                e.until.is_none_or(|u| u <= now) && now.saturating_duration_since(e.touched) >= FORGET_AFTER
            };
            make_room(&mut devices, MAX_DEVICES, quiet, |e| e.touched);
        }
        let e = devices.entry(uuid.to_owned()).or_insert(Entry {
            failures: 0,
            until: None,
            touched: now,
        });
        e.failures = e.failures.saturating_add(1);
        e.touched = now;
        let locked = (e.failures >= LOCK_AFTER).then(|| {
            let d = backoff(e.failures);
            e.until = Some(now + d);
            d
        });
        self.tracked.store(devices.len(), Ordering::Relaxed);
        locked
    }

    /// A success: the device starts over.
    pub(crate) fn succeeded(&self, uuid: &str) {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut devices = lock(&self.devices);
        devices.remove(uuid);
        self.tracked.store(devices.len(), Ordering::Relaxed);
    }
}

/// The lock-out after `failures` consecutive failures (`>= LOCK_AFTER`).
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(LOCK_AFTER).min(20);
    FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_lock_a_device_out_with_a_doubling_backoff() {
        let l = TotpLockout::new();
        let t0 = Instant::now();
        for _ in 0..LOCK_AFTER - 1 {
            assert_eq!(l.failed_at("dev", t0), None);
        }
        assert!(!l.is_locked_at("dev", t0));
        assert_eq!(l.failed_at("dev", t0), Some(Duration::from_secs(1)));
        assert!(l.is_locked_at("dev", t0));
        assert!(!l.is_locked_at("other", t0), "other devices are not affected");
        let t1 = t0 + Duration::from_millis(1001);
        assert!(!l.is_locked_at("dev", t1), "the lock-out ends");
        assert_eq!(l.failed_at("dev", t1), Some(Duration::from_secs(2)), "and doubles");
        l.succeeded("dev");
        assert!(!l.is_locked_at("dev", t1));
        assert_eq!(l.failed_at("dev", t1), None, "a success resets the count");
    }

    #[test]
    fn the_backoff_is_capped_at_15_minutes() {
        assert_eq!(backoff(LOCK_AFTER), Duration::from_secs(1));
        assert_eq!(backoff(LOCK_AFTER + 3), Duration::from_secs(8));
        assert_eq!(backoff(LOCK_AFTER + 10), LONGEST_LOCK);
        assert_eq!(backoff(u32::MAX), LONGEST_LOCK);
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_a_device_under_attack() {
        let l = TotpLockout::new();
        let t0 = Instant::now();
        for _ in 0..LOCK_AFTER {
            l.failed_at("target", t0);
        }
        for i in 0..(MAX_DEVICES + 100) {
            let now = t0 + Duration::from_micros(i as u64 + 1);
            assert!(l.is_locked_at("target", now));
            l.failed_at(&format!("junk-{i}"), now);
        }
        assert!(lock(&l.devices).len() <= MAX_DEVICES);
        assert!(l.is_locked_at("target", t0 + Duration::from_millis(500)));
    }
}
