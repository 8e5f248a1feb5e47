//! Keeps a per-address or per-device map bounded: clients can name
//! arbitrary addresses and uuids, so each map has a cap and, when full,
//! forgets first what is safe to forget, then what was touched longest ago.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Makes room for one more entry in `map` when it holds `cap` or more:
/// drops the entries `forgettable` says carry no information, and if that
/// leaves the map over three quarters full, the least recently `touched`
/// down to three quarters (so a full scan is paid once per `cap / 4`
/// inserts, not on each).
pub(crate) fn make_room<K: Eq + Hash, V>(
    map: &mut HashMap<K, V>,
    cap: usize,
    forgettable: impl Fn(&V) -> bool,
    touched: impl Fn(&V) -> Instant,
) {
    if map.len() < cap {
        return;
    }
    map.retain(|_, v| !forgettable(v));
    let target = cap - cap / 4;
    if map.len() <= target {
        return;
    }
    let excess = map.len() - target;
    let mut times: Vec<Instant> = map.values().map(&touched).collect();
    let (_, cutoff, _) = times.select_nth_unstable(excess - 1);
    let cutoff = *cutoff;
    map.retain(|_, v| touched(v) > cutoff);
}

/// Locks `m`, carrying on after a panic elsewhere (the maps hold counters
/// that stay consistent at every step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_full_map_forgets_the_forgettable_then_the_oldest() {
        let t0 = Instant::now();
        let mut m: HashMap<u32, (bool, Instant)> = HashMap::new();
        for i in 0..8 {
            m.insert(i, (false, t0 + Duration::from_secs(u64::from(i))));
        }
        make_room(&mut m, 9, |v| v.0, |v| v.1);
        assert_eq!(m.len(), 8, "room left: nothing dropped");
        m.insert(8, (true, t0));
        make_room(&mut m, 9, |v| v.0, |v| v.1);
        assert!(!m.contains_key(&8), "the forgettable entry goes first");
        let mut keys: Vec<u32> = m.keys().copied().collect();
        keys.sort_unstable();
        assert_eq!(keys, [1, 2, 3, 4, 5, 6, 7], "then the oldest, down to 3/4 of the cap");
    }
}
