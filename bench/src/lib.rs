//! Shared pieces of the Thingstead benchmarks: latency summaries and the
//! loopback-only guard the load generators apply to every target.

use std::net::SocketAddr;

pub mod http1;

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

/// Decodes standard base64 (with or without `=` padding); `None` on any
/// other character. Enough for the benchmarks to read message payloads back
/// without another dependency.
///
/// ```
/// use thingstead_bench::base64_decode;
/// assert_eq!(base64_decode("bXNnLTE=").as_deref(), Some(&b"msg-1"[..]));
/// assert_eq!(base64_decode("bXNnLTE").as_deref(), Some(&b"msg-1"[..]));
/// assert_eq!(base64_decode("bXN*"), None);
/// ```
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().take_while(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
