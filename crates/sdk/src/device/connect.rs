//! Bringing a down network up before a send: one attempt shared by every
//! concurrent sender, bounded by a timeout, and a growing pause after each
//! failure during which sends do not try again.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::DeviceClient;
use super::client::lock;

/// How long one connect attempt made by a send may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The pause after the first failed connect attempt, by default.
pub const DEFAULT_MIN_BACKOFF: Duration = Duration::from_secs(5);

/// The longest pause between failed connect attempts, by default.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a send does when it finds the network down.
///
/// By default it calls [`Network::connect`](super::Network::connect) first
/// (at most [`DEFAULT_CONNECT_TIMEOUT`]), sends when that worked, and
/// otherwise buffers the message (with an offline buffer) or fails with
/// [`DeviceError::NetworkDown`](super::DeviceError::NetworkDown) (without
/// one). Senders that find the network down at the same time share one
/// attempt. After a failed attempt, sends do not try again for
/// `min_backoff`; each further failure doubles that pause, up to
/// `max_backoff`. While paused, a send buffers (or fails) at once. The pause
/// ends when an attempt succeeds or the network reports `network.connected`
/// by itself (which also flushes the buffer). A send waits for the network
/// at most twice `timeout`: once for an attempt already under way, once for
/// its own.
///
/// ```
/// use std::time::Duration;
/// use thingstead::device::ConnectPolicy;
/// let policy = ConnectPolicy::default()
///     .with_timeout(Duration::from_secs(10))
///     .with_backoff(Duration::from_secs(2), Duration::from_secs(60));
/// assert_eq!(policy.backoff_after(1), Duration::from_secs(2));
/// assert_eq!(policy.backoff_after(3), Duration::from_secs(8));
/// assert_eq!(policy.backoff_after(30), Duration::from_secs(60));
/// assert!(!ConnectPolicy::never().connect_on_send);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectPolicy {
    /// Whether a send that finds the network down tries to connect it
    /// (true by default; false leaves the network to the application).
    pub connect_on_send: bool,
    /// How long one attempt may take before it counts as failed.
    pub timeout: Duration,
    /// The pause after the first failed attempt.
    pub min_backoff: Duration,
    /// The longest pause, however many attempts failed.
    pub max_backoff: Duration,
}

impl Default for ConnectPolicy {
    fn default() -> Self {
        Self {
            connect_on_send: true,
            timeout: DEFAULT_CONNECT_TIMEOUT,
            min_backoff: DEFAULT_MIN_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
        }
    }
}

impl ConnectPolicy {
    /// Sends never connect the network: a down network means buffer (or
    /// [`DeviceError::NetworkDown`](super::DeviceError::NetworkDown)) at once.
    ///
    /// ```
    /// assert!(!thingstead::device::ConnectPolicy::never().connect_on_send);
    /// ```
    pub fn never() -> Self {
        Self {
            connect_on_send: false,
            ..Self::default()
        }
    }

    /// The same policy with another attempt timeout.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let p = thingstead::device::ConnectPolicy::default().with_timeout(Duration::from_secs(5));
    /// assert_eq!(p.timeout, Duration::from_secs(5));
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same policy with other pauses (`max` is raised to `min` when
    /// smaller).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let p = thingstead::device::ConnectPolicy::default().with_backoff(Duration::from_secs(9), Duration::from_secs(1));
    /// assert_eq!(p.max_backoff, Duration::from_secs(9));
    /// ```
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// The pause after `failures` consecutive failed attempts:
    /// `min_backoff × 2^(failures − 1)`, at most `max_backoff` (zero for
    /// no failure).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let p = thingstead::device::ConnectPolicy::default();
    /// assert_eq!(p.backoff_after(0), Duration::ZERO);
    /// assert_eq!(p.backoff_after(2), Duration::from_secs(10));
    /// ```
    pub fn backoff_after(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(failures - 1).unwrap_or(u32::MAX);
        self.min_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// The consecutive failures and when the next attempt may start.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
}

/// One client's connect attempts.
#[derive(Debug, Default)]
pub(crate) struct Connector {
    /// Held for the whole of an attempt, so that concurrent senders wait
    /// for it (bounded) instead of starting their own.
    flight: tokio::sync::Mutex<()>,
    backoff: Mutex<Backoff>,
}

impl Connector {
    /// Forgets past failures: the next send that finds the network down
    /// tries at once.
    pub(crate) fn reset(&self) {
        *lock(&self.backoff) = Backoff::default();
    }

    fn backing_off(&self) -> bool {
        lock(&self.backoff).retry_at.is_some_and(|at| Instant::now() < at)
    }

    /// Records a failure; returns the pause before the next attempt.
    fn failed(&self, policy: &ConnectPolicy) -> Duration {
        let mut backoff = lock(&self.backoff);
        backoff.failures = backoff.failures.saturating_add(1);
        let pause = policy.backoff_after(backoff.failures);
        backoff.retry_at = Some(Instant::now() + pause);
        pause
    }
}

impl DeviceClient {
    /// Whether the network is connected, after trying to connect it when it
    /// was down (see [`ConnectPolicy`]). Waits at most about twice the
    /// policy's timeout: once for an attempt already under way, once for
    /// its own.
    pub(crate) async fn connect_for_send(&self) -> bool {
        let network = self.network();
        if network.is_connected() {
            return true;
        }
        let policy = self.inner.connect_policy;
        let connector = &self.inner.connector;
        if !policy.connect_on_send || connector.backing_off() {
            return false;
        }
        let Ok(_flight) = tokio::time::timeout(policy.timeout, connector.flight.lock()).await else {
            return network.is_connected();
        };
        // The attempt this sender waited for may have settled it.
        if network.is_connected() {
            return true;
        }
        if connector.backing_off() {
            return false;
        }
        match tokio::time::timeout(policy.timeout, network.connect()).await {
            Ok(Ok(())) => {
                connector.reset();
                tracing::info!("the network was down: connected it before sending");
                true
            }
            Ok(Err(e)) => {
                let pause = connector.failed(&policy);
                tracing::info!(error = %e, retry_in = ?pause, "the network is down and did not connect");
                false
            }
            Err(_) => {
                let pause = connector.failed(&policy);
                tracing::warn!(timeout = ?policy.timeout, retry_in = ?pause, "connecting the network timed out");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_without_overflow() {
        let p = ConnectPolicy::default().with_backoff(Duration::from_secs(1), Duration::from_secs(10));
        let pauses: Vec<u64> = (0..7).map(|n| p.backoff_after(n).as_secs()).collect();
        assert_eq!(pauses, [0, 1, 2, 4, 8, 10, 10]);
        assert_eq!(p.backoff_after(u32::MAX), Duration::from_secs(10));
        let huge = ConnectPolicy::default().with_backoff(Duration::MAX, Duration::MAX);
        assert_eq!(huge.backoff_after(40), Duration::MAX);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_pauses_attempts_and_a_reset_ends_the_pause() {
        let connector = Connector::default();
        let policy = ConnectPolicy::default().with_backoff(Duration::from_secs(5), Duration::from_secs(60));
        assert!(!connector.backing_off());
        assert_eq!(connector.failed(&policy), Duration::from_secs(5));
        assert!(connector.backing_off());
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(!connector.backing_off());
        assert_eq!(connector.failed(&policy), Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(connector.backing_off(), "the second pause is longer");
        connector.reset();
        assert!(!connector.backing_off());
        assert_eq!(
            connector.failed(&policy),
            Duration::from_secs(5),
            "counting starts over"
        );
    }
}
