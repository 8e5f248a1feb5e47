//! The signal strengths sampled while connected, in a bounded window.

use std::collections::VecDeque;

/// How many signal samples are kept; past that the oldest is dropped.
pub const WIFI_SIGNAL_SAMPLES: usize = 120;

/// The last [`WIFI_SIGNAL_SAMPLES`] strengths (0-100).
#[derive(Debug, Default)]
pub(super) struct SignalSamples {
    samples: VecDeque<u8>,
}

impl SignalSamples {
    pub(super) fn push(&mut self, strength: u8) {
        if self.samples.len() >= WIFI_SIGNAL_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(strength);
    }

    pub(super) fn clear(&mut self) {
        self.samples.clear();
    }

    pub(super) fn average(&self) -> Option<f64> {
        if self.samples.is_empty() {
            return None;
        }
        let sum: u64 = self.samples.iter().map(|s| u64::from(*s)).sum();
        Some(sum as f64 / self.samples.len() as f64)
    }

    pub(super) fn max(&self) -> Option<u8> {
        self.samples.iter().copied().max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_bounded_and_averages_what_it_holds() {
        let mut s = SignalSamples::default();
        assert_eq!((s.average(), s.max()), (None, None));
        s.push(40);
        s.push(60);
        assert_eq!((s.average(), s.max()), (Some(50.0), Some(60)));
        for _ in 0..WIFI_SIGNAL_SAMPLES {
            s.push(10);
        }
        assert_eq!((s.average(), s.max()), (Some(10.0), Some(10)), "old samples dropped");
        s.clear();
        assert_eq!(s.max(), None);
    }
}
