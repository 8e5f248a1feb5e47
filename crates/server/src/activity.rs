//! What happened lately, for people reading the log at info: counters that
//! every part of the server bumps, a periodic one-line summary of them, and
//! a rate limiter for log lines a client can trigger (failed logins).
//!
//! Prometheus (`/metrics`) has the same facts as cumulative series; this is
//! the human view, and it costs one relaxed atomic add per event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Device result codes counted (`-1`..=`8`, as in hologram-python).
const CODES: usize = 10;

/// Counters since the last summary.
pub struct Activity {
    messages_stored: AtomicU64,
    frames_refused: [AtomicU64; CODES],
    api_unauthorized: AtomicU64,
    sms_sent: AtomicU64,
    sms_retried: AtomicU64,
    sms_failed: AtomicU64,
}

/// The process-wide counters.
pub static ACTIVITY: Activity = Activity::new();

impl Activity {
    const fn new() -> Self {
        Self {
            messages_stored: AtomicU64::new(0),
            frames_refused: [const { AtomicU64::new(0) }; CODES],
            api_unauthorized: AtomicU64::new(0),
            sms_sent: AtomicU64::new(0),
            sms_retried: AtomicU64::new(0),
            sms_failed: AtomicU64::new(0),
        }
    }

    /// A device message was committed.
    pub fn message_stored(&self) {
        self.messages_stored.fetch_add(1, Ordering::Relaxed);
    }

    /// A device frame was answered with `code` (0 counts as stored).
    pub fn frame_answered(&self, code: i32) {
        if code == 0 {
            self.message_stored();
        } else if let Some(c) = usize::try_from(code + 1).ok().and_then(|i| self.frames_refused.get(i)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An API request was refused for its credentials (401).
    pub fn api_unauthorized(&self) {
        self.api_unauthorized.fetch_add(1, Ordering::Relaxed);
    }

    /// An SMS attempt ended: sent, queued again for a retry, or failed for good.
    pub fn sms_outcome(&self, outcome: SmsOutcome) {
        let c = match outcome {
            SmsOutcome::Sent => &self.sms_sent,
            SmsOutcome::Retried => &self.sms_retried,
            SmsOutcome::Failed => &self.sms_failed,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the counters (resetting them) as one summary line, or `None`
    /// when nothing happened.
    pub fn take_summary(&self) -> Option<String> {
        let take = |c: &AtomicU64| c.swap(0, Ordering::Relaxed);
        let stored = take(&self.messages_stored);
        let refused: Vec<String> = self
            .frames_refused
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let n = take(c);
                (n > 0).then(|| format!("code {}: {n}", i as i64 - 1))
            })
            .collect();
        let unauthorized = take(&self.api_unauthorized);
        let (sent, retried, failed) = (take(&self.sms_sent), take(&self.sms_retried), take(&self.sms_failed));
        if stored == 0 && refused.is_empty() && unauthorized == 0 && sent + retried + failed == 0 {
            return None;
        }
        let refused = if refused.is_empty() {
            "none".to_owned()
        } else {
            refused.join(", ")
        };
        Some(format!(
            "messages stored: {stored}; frames refused: {refused}; API 401s: {unauthorized}; \
             SMS sent: {sent}, retried: {retried}, failed: {failed}"
        ))
    }
}

/// How an SMS attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsOutcome {
    /// The provider accepted it.
    Sent,
    /// It failed and is queued again.
    Retried,
    /// It failed for good.
    Failed,
}

/// Logs [`ACTIVITY`]'s summary at info every `interval` until cancelled.
pub async fn run_summary(interval: Duration, token: CancellationToken) {
    if interval.is_zero() {
        return;
    }
    // Counts from before the first tick belong to the first summary.
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = tokio::time::sleep(interval) => {}
        }
        if let Some(line) = ACTIVITY.take_summary() {
            tracing::info!(interval_secs = interval.as_secs(), "activity: {line}");
        }
    }
}

/// Lets a log line through at most once per period; counts what it held back.
///
/// For lines that clients can trigger (failed authentications): without a
/// bound, a client could fill the disk with our log.
pub struct LogLimiter {
    period_ms: u64,
    /// Milliseconds since `epoch` when a line was last let through, plus one
    /// (0: never).
    last: AtomicU64,
    suppressed: AtomicU64,
    epoch: std::sync::OnceLock<Instant>,
}

impl LogLimiter {
    /// A limiter letting one line through per `period`.
    pub const fn new(period: Duration) -> Self {
        Self {
            period_ms: period.as_millis() as u64,
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            epoch: std::sync::OnceLock::new(),
        }
    }

    /// `Some(n)` when a line may be logged now, `n` being how many were held
    /// back since the last one; `None` when this one is to be held back.
    pub fn allow(&self) -> Option<u64> {
        let epoch = *self.epoch.get_or_init(Instant::now);
        let now = epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < self.period_ms {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if self
            .last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.suppressed.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_lets_one_line_through_per_period() {
        let l = LogLimiter::new(Duration::from_millis(200));
        assert_eq!(l.allow(), Some(0));
        assert_eq!(l.allow(), None);
        assert_eq!(l.allow(), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(l.allow(), Some(2));
    }

    #[test]
    fn a_summary_counts_and_resets() {
        let a = Activity::new();
        assert_eq!(a.take_summary(), None);
        a.frame_answered(0);
        a.frame_answered(0);
        a.frame_answered(3);
        a.api_unauthorized();
        a.sms_outcome(SmsOutcome::Sent);
        let line = a.take_summary().unwrap();
        assert!(line.contains("messages stored: 2"), "{line}");
        assert!(line.contains("code 3: 1"), "{line}");
        assert!(line.contains("API 401s: 1"), "{line}");
        assert!(line.contains("SMS sent: 1"), "{line}");
        assert_eq!(a.take_summary(), None);
    }
}
