//! The NATS bus: events published on any node reach subscribers on every
//! node.
//!
//! Each node publishes every event on its subject and subscribes to
//! `thingstead.>`; what arrives is parsed strictly and handed to the node's
//! local subscribers, which filter. The connection is made with `no_echo`:
//! a node delivers its own events to its subscribers directly, so they keep
//! flowing in one node while NATS is away.
//!
//! Bounds: connecting at start must succeed within the timeout given (a
//! clear error otherwise). Publishing waits at most [`PUBLISH_TIMEOUT`] for
//! room in the client's queue and never for an acknowledgement. While the
//! client knows it is disconnected, events are **dropped and counted**
//! (`thingstead_bus_dropped_total{reason="disconnected"}`), not buffered;
//! the few in flight when a connection breaks may be lost. The client
//! reconnects forever (backing off up to 2 s) and re-subscribes; each
//! reconnect counts in `thingstead_bus_reconnects_total`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::connection::State;
use futures::StreamExt;

use super::{Bus, BusError, BusEvent, BusStats, Counters, DropReason, FanOut, Filter, Subscriber};

/// The longest a publish waits for room in the client's queue.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_millis(100);
/// The subject every node subscribes to.
pub const ALL: &str = "thingstead.>";
/// Largest event accepted from NATS.
const MAX_EVENT: usize = 1024 * 1024;

/// A bus over a NATS connection.
pub struct NatsBus {
    client: async_nats::Client,
    fan: FanOut,
    counters: Arc<Counters>,
    reader: tokio::task::JoinHandle<()>,
}

/// `url` without credentials, for messages.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}****{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

impl NatsBus {
    /// Connects to `url` (`nats://host:port`, several comma-separated) and
    /// subscribes; fails if that does not happen within `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, BusError> {
        let counters = Arc::new(Counters::default());
        let fan = FanOut::new(super::local::CAPACITY, counters.clone());
        let err = |reason: String| BusError::Connect {
            url: shown(url),
            reason,
        };
        let lost = Arc::new(AtomicBool::new(false));
        let options = async_nats::ConnectOptions::new()
            .no_echo()
            .name("thingstead")
            .connection_timeout(timeout)
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| Duration::from_millis((attempts as u64 * 100).min(2_000)))
            .event_callback({
                let counters = counters.clone();
                move |event| {
                    match event {
                        async_nats::Event::Disconnected => {
                            lost.store(true, Ordering::Relaxed);
                            tracing::warn!("NATS connection lost; bus events are dropped until it is back");
                        }
                        async_nats::Event::Connected => {
                            if lost.swap(false, Ordering::Relaxed) {
                                counters.reconnected();
                                tracing::info!("NATS connection back; bus events flow again");
                            }
                        }
                        async_nats::Event::SlowConsumer(_) => counters.dropped(DropReason::SlowConsumer, 1),
                        other => tracing::debug!(event = %other, "NATS event"),
                    }
                    async {}
                }
            });
        let connected = tokio::time::timeout(timeout, async {
            let client = options.connect(url).await.map_err(|e| err(e.to_string()))?;
            let sub = client.subscribe(ALL).await.map_err(|e| err(e.to_string()))?;
            // A round trip, so the server has the subscription before we
            // return: a request nobody answers gets "no responders" back
            // once the server processed what this connection sent before it.
            let _ = client.request("_thingstead.ping", Vec::new().into()).await;
            Ok::<_, BusError>((client, sub))
        })
        .await
        .map_err(|_| err(format!("no connection within {timeout:?}")))?;
        let (client, sub) = connected?;
        let reader = tokio::spawn(read(sub, fan.clone(), counters.clone()));
        Ok(Self {
            client,
            fan,
            counters,
            reader,
        })
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read(mut sub: async_nats::Subscriber, fan: FanOut, counters: Arc<Counters>) {
    let mut warned = false;
    while let Some(msg) = sub.next().await {
        if msg.payload.len() > MAX_EVENT {
            counters.dropped(DropReason::TooLarge, 1);
            continue;
        }
        match BusEvent::from_wire(&msg.payload, Some(msg.subject.as_str())) {
            Ok(event) => fan.deliver(event),
            Err(e) => {
                counters.dropped(DropReason::Invalid, 1);
                if !warned {
                    tracing::warn!(error = %e, subject = %msg.subject, "invalid event from NATS dropped (further ones are only counted)");
                    warned = true;
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Bus for NatsBus {
    async fn publish(&self, event: BusEvent) {
        let subject = event.subject();
        let payload = event.to_wire();
        self.fan.deliver(event);
        if self.client.connection_state() != State::Connected {
            self.counters.dropped(DropReason::Disconnected, 1);
            return;
        }
        match tokio::time::timeout(PUBLISH_TIMEOUT, self.client.publish(subject, payload.into())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "bus event not published to NATS");
                self.counters.dropped(DropReason::Error, 1);
            }
            Err(_) => self.counters.dropped(DropReason::Timeout, 1),
        }
    }

    fn subscribe(&self, filter: Filter) -> Subscriber {
        self.fan.subscribe(filter)
    }

    fn stats(&self) -> BusStats {
        self.counters.snapshot()
    }

    async fn flush(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.client.flush()).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_are_not_shown() {
        assert_eq!(super::shown("nats://u:pw@h:4222"), "nats://****@h:4222");
        assert_eq!(super::shown("nats://h:4222"), "nats://h:4222");
    }
}
