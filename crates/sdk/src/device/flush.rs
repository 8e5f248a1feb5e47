//! Sending the offline buffer when the network is connected, and the task
//! that follows the network's events.

use std::sync::{Arc, Mutex};

use thingstead_proto::device::ResultCode;
use tokio::sync::broadcast::error::RecvError;

use super::client::lock;
use super::send::parse_topics;
use super::{BufferError, DeviceClient, DeviceError, Event, Mode, OfflineBuffer, SendOutcome};

/// The log line for each buffered message the server accepted.
pub const FLUSHED_MESSAGE_LOG: &str = "A buffered message has been sent since an active connection is established";

/// What one flush of the offline buffer did.
///
/// ```
/// let r = thingstead::device::FlushReport::default();
/// assert_eq!((r.sent, r.refused, r.remaining), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Messages the server accepted (and that were deleted from the buffer).
    pub sent: usize,
    /// Messages the server refused for good (bad key, bad topic...): logged
    /// as warnings and deleted, since resending them cannot succeed.
    pub refused: usize,
    /// Messages still waiting (network down, server unreachable, or an
    /// answer that may be temporary: internal error or no readable reply).
    pub remaining: usize,
}

/// Whether a code means "try again later" rather than "never".
fn is_temporary(code: ResultCode) -> bool {
    matches!(code, ResultCode::Internal | ResultCode::Unknown)
}

impl DeviceClient {
    /// Runs a closure on the buffer on tokio's blocking pool.
    pub(crate) async fn with_buffer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut OfflineBuffer) -> Result<T, BufferError> + Send + 'static,
    ) -> Result<T, DeviceError> {
        let Some(buffer) = self.inner.buffer.clone() else {
            return Err(DeviceError::Unsupported("this client has no offline buffer"));
        };
        on_buffer(&buffer, f).await
    }

    /// How many messages wait in the offline buffer (0 without one).
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) {
    /// println!("{} waiting", client.buffered_count().await.unwrap());
    /// # }
    /// ```
    pub async fn buffered_count(&self) -> Result<usize, DeviceError> {
        if self.inner.buffer.is_none() {
            return Ok(0);
        }
        self.with_buffer(|b| Ok(b.len())).await
    }

    /// Sends the buffered messages in order while the network is connected.
    /// Each entry is deleted only after the server's success reply, and
    /// each is logged as "A buffered message has been sent since an active
    /// connection is established". This runs by itself on
    /// `network.connected` and when the client starts; call it to retry
    /// sooner. Called while the network is down and messages wait, it
    /// first tries to connect the network as a send does (see
    /// [`ConnectPolicy`](super::ConnectPolicy)).
    ///
    /// An answer that may be temporary (internal error, no readable reply)
    /// stops the flush and keeps the entry for the next flush. Each entry
    /// is sent with an idempotency key that survives restarts, so when the
    /// server had stored it but the reply was lost, the resend is answered
    /// with success and not stored twice (on a Thingstead server; a Raw-mode
    /// peer gets the frame unchanged and may see it twice).
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) -> Result<(), thingstead::device::DeviceError> {
    /// let report = client.flush_buffer().await?;
    /// println!("sent {}, {} left", report.sent, report.remaining);
    /// # Ok(()) }
    /// ```
    pub async fn flush_buffer(&self) -> Result<FlushReport, DeviceError> {
        let Some(buffer) = self.inner.buffer.clone() else {
            return Ok(FlushReport::default());
        };
        if !self.network().is_connected() && on_buffer(&buffer, |b| Ok(b.len())).await? > 0 {
            self.connect_for_send().await;
        }
        let _order = self.inner.send_lock.lock().await;
        self.flush_locked(&buffer).await
    }

    /// The flush itself; the caller holds the send lock.
    pub(crate) async fn flush_locked(&self, buffer: &Arc<Mutex<OfflineBuffer>>) -> Result<FlushReport, DeviceError> {
        let mut report = FlushReport::default();
        let dir = lock(buffer).dir().display().to_string();
        while self.network().is_connected() {
            let Some((id, message, key)) =
                on_buffer(buffer, |b| Ok(b.front()?.map(|(id, m)| (id, m, b.idempotency_key(id))))).await?
            else {
                break;
            };
            let settings = self.settings();
            let outcome = match parse_topics(&message.topics) {
                // The key makes a resend harmless when a reply was lost after the server stored it.
                Ok(topics) => self.deliver_message(&settings, &topics, &message.data, Some(key)).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(outcome) if outcome.is_success() || settings.mode == Mode::Raw => {
                    on_buffer(buffer, move |b| b.remove(id)).await?;
                    tracing::info!(buffer = %dir, "{FLUSHED_MESSAGE_LOG}");
                    report.sent += 1;
                }
                Ok(SendOutcome::Answered { code, .. }) if !is_temporary(code) => {
                    tracing::warn!(%code, "the server refused a buffered message: deleted");
                    on_buffer(buffer, move |b| b.remove(id)).await?;
                    report.refused += 1;
                }
                Err(DeviceError::InvalidTopic { topic, .. }) => {
                    tracing::warn!(topic, "a buffered message has an invalid topic: deleted");
                    on_buffer(buffer, move |b| b.remove(id)).await?;
                    report.refused += 1;
                }
                Ok(outcome) => {
                    tracing::warn!(code = outcome.code(), "buffered message not accepted yet; will retry");
                    break;
                }
                Err(e) if e.is_not_delivered() => {
                    tracing::info!(error = %e, "server unreachable; buffered messages wait");
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        report.remaining = on_buffer(buffer, |b| Ok(b.len())).await?;
        let mut total = lock(&self.inner.flushed);
        total.sent += report.sent;
        total.refused += report.refused;
        total.remaining = report.remaining;
        Ok(report)
    }

    /// What every flush of this client sent and refused since it was
    /// built, whether it ran by itself (at start, on `network.connected`)
    /// or was called; `remaining` is as the last flush left it.
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) {
    /// let total = client.flushed_total();
    /// println!("{} buffered messages sent since the start", total.sent);
    /// # }
    /// ```
    pub fn flushed_total(&self) -> FlushReport {
        *lock(&self.inner.flushed)
    }

    /// (Re)starts the task that follows the network: it re-broadcasts the
    /// network's events on this client's bus and flushes the buffer on
    /// `network.connected` (and once at start when connected).
    pub(crate) fn start_watcher(&self) {
        let network = self.network();
        let mut events = network.events();
        let weak = Arc::downgrade(&self.inner);
        let handle = tokio::spawn(async move {
            let flush = |weak: &std::sync::Weak<super::client::Inner>| {
                let weak = weak.clone();
                async move {
                    let Some(inner) = weak.upgrade() else { return };
                    let client = DeviceClient { inner };
                    if client.inner.buffer.is_none() {
                        return;
                    }
                    if let Err(e) = client.flush_buffer().await {
                        tracing::warn!(error = %e, "flushing the offline buffer failed");
                    }
                }
            };
            if network.is_connected() {
                flush(&weak).await;
            }
            loop {
                match events.recv().await {
                    Ok(event) => {
                        let Some(inner) = weak.upgrade() else { return };
                        inner.events.broadcast(&event);
                        if event == Event::NetworkConnected {
                            // Up by itself: the next outage starts without a pause.
                            inner.connector.reset();
                        }
                        drop(inner);
                        if event == Event::NetworkConnected {
                            flush(&weak).await;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "missed network events; re-reading the state");
                        if network.is_connected() {
                            if let Some(inner) = weak.upgrade() {
                                inner.connector.reset();
                            }
                            flush(&weak).await;
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        if let Some(old) = lock(&self.inner.tasks).watcher.replace(handle) {
            old.abort();
        }
    }
}

async fn on_buffer<T: Send + 'static>(
    buffer: &Arc<Mutex<OfflineBuffer>>,
    f: impl FnOnce(&mut OfflineBuffer) -> Result<T, BufferError> + Send + 'static,
) -> Result<T, DeviceError> {
    let buffer = Arc::clone(buffer);
    tokio::task::spawn_blocking(move || f(&mut lock(&buffer)))
        .await
        .map_err(|e| {
            DeviceError::Buffer(BufferError::Io {
                path: String::new(),
                source: std::io::Error::other(e),
            })
        })?
        .map_err(DeviceError::from)
}
