//! Shared pieces of the Thingstead benchmarks: latency summaries and the
//! loopback-only guard the load generators apply to every target.

use std::net::SocketAddr;

/// Percentile `p` (0..=100) of sorted samples, nearest-rank; `None` when empty.
///
/// ```
/// use thingstead_bench::percentile;
/// let v: Vec<u32> = (1..=100).collect();
/// assert_eq!(percentile(&v, 50.0), Some(50));
/// assert_eq!(percentile(&v, 99.0), Some(99));
/// assert_eq!(percentile(&[], 50.0), None);
/// ```
pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Refuses anything but a loopback address: the benchmarks load this machine only.
///
/// ```
/// use thingstead_bench::require_loopback;
/// assert!(require_loopback("127.0.0.1:9999".parse().unwrap()).is_ok());
/// assert!(require_loopback("10.0.0.1:9999".parse().unwrap()).is_err());
/// ```
pub fn require_loopback(addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        anyhow::bail!("refusing to load {addr}: the benchmarks target loopback (127.0.0.0/8) only")
    }
}
