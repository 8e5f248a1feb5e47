//! Sending the same message periodically.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use super::client::lock;
use super::send::parse_topics;
use super::{DeviceClient, DeviceError};

/// The shortest period of [`DeviceClient::start_periodic`].
pub const MIN_PERIODIC_INTERVAL: Duration = Duration::from_secs(1);

impl DeviceClient {
    /// Sends `data` with `topics` now and then every `interval` (at least
    /// one second) until [`DeviceClient::stop_periodic`] or the client is
    /// dropped. One periodic send per client. Each result is logged and
    /// broadcast as `message.sent`. With TOTP authentication a send waits
    /// for an unused 30-second step, so the effective period is at least 30 s.
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) -> Result<(), thingstead::device::DeviceError> {
    /// client.start_periodic(std::time::Duration::from_secs(60), "alive", &["heartbeat"])?;
    /// assert!(client.is_periodic_running());
    /// client.stop_periodic();
    /// # Ok(()) }
    /// ```
    pub fn start_periodic(&self, interval: Duration, data: &str, topics: &[&str]) -> Result<(), DeviceError> {
        if interval < MIN_PERIODIC_INTERVAL {
            return Err(DeviceError::IntervalTooShort);
        }
        parse_topics(topics)?;
        let mut tasks = lock(&self.inner.tasks);
        if tasks.periodic.as_ref().is_some_and(|h| !h.is_finished()) {
            return Err(DeviceError::AlreadyRunning("a periodic send"));
        }
        let weak = Arc::downgrade(&self.inner);
        let data = data.to_owned();
        let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
        tasks.periodic = Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let client = DeviceClient { inner };
                let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
                match client.send_message(&data, &topics).await {
                    Ok(outcome) => tracing::info!(code = outcome.code(), "periodic message: {}", outcome.description()),
                    Err(e) => tracing::warn!(error = %e, "periodic message not sent"),
                }
            }
        }));
        Ok(())
    }

    /// Stops the periodic send; returns false when none was running.
    ///
    /// ```no_run
    /// # fn demo(client: thingstead::device::DeviceClient) {
    /// client.stop_periodic();
    /// # }
    /// ```
    pub fn stop_periodic(&self) -> bool {
        match lock(&self.inner.tasks).periodic.take() {
            Some(handle) => {
                let running = !handle.is_finished();
                handle.abort();
                running
            }
            None => false,
        }
    }

    /// Whether a periodic send is running.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert!(!client.is_periodic_running());
    /// # }
    /// ```
    pub fn is_periodic_running(&self) -> bool {
        lock(&self.inner.tasks)
            .periodic
            .as_ref()
            .is_some_and(|h| !h.is_finished())
    }
}
