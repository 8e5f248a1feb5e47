//! `GET /api/1/csr/rdm/stream`: the messages stored for the caller's
//! organization from the moment the stream opened, as Server-Sent Events.
//!
//! Each stored message is one event: `event: message`, `id: <message id>`,
//! `data: <the record exactly as one item of GET /api/1/csr/rdm>`. The
//! optional `deviceid` narrows the stream to one device (the value the
//! list's filter takes). A comment line is sent every [`KEEP_ALIVE`] so
//! proxies and the idle timeout see bytes moving.
//!
//! Bounds: the stream reads the platform bus through one subscription, whose
//! queue is bounded; a client that reads too slowly loses the oldest events
//! and is told so with `event: gap`, `data: {"missed": N}`, and the stream
//! goes on. A node holds at most `http_limits.max_streams` streams and one
//! organization at most `http_limits.max_streams_per_org` of them (more get
//! 429). Every stream ends when the server shuts down, so a graceful
//! shutdown does not wait for clients to hang up. Open streams are in the
//! `thingstead_streams_open` gauge.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;
use thingstead_core::bus::subject::token;
use thingstead_core::bus::{BusEvent, Filter, Subscriber};
use thingstead_core::records::MessageRecord;
use tokio_util::sync::CancellationToken;

use super::auth::ApiKeyTenant;
use super::messages::record;
use crate::app::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::settings::HttpLimits;

/// How often a keep-alive comment is sent on a quiet stream.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Query parameters of the stream (`apikey` is read by the authentication).
#[derive(Debug, Deserialize)]
pub(crate) struct StreamParams {
    deviceid: Option<String>,
}

/// The open streams of one node: their limits, their count, and the signal
/// that ends them all at shutdown.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

struct Inner {
    max: usize,
    max_per_org: usize,
    open: Mutex<Open>,
    shutdown: CancellationToken,
    gauge: metrics::Gauge,
}

/// Streams open on the node, and per organization (only those with one).
#[derive(Default)]
struct Open {
    total: usize,
    per_org: HashMap<String, usize>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Node,
    Org,
}

impl Streams {
    /// Streams within `limits`, all ended when `shutdown` is cancelled.
    pub fn new(limits: &HttpLimits, shutdown: CancellationToken) -> Self {
        Self {
            inner: Arc::new(Inner {
                max: limits.max_streams,
                max_per_org: limits.max_streams_per_org,
                open: Mutex::new(Open::default()),
                shutdown,
                gauge: metrics::gauge!("thingstead_streams_open"),
            }),
        }
    }

    /// A place for one more stream of `org`, held until the slot drops.
    fn open(&self, org: &str) -> Result<StreamSlot, Refused> {
        let mut open = self.inner.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= self.inner.max {
            return Err(Refused::Node);
        }
        let of_org = open.per_org.get(org).copied().unwrap_or(0);
        if of_org >= self.inner.max_per_org {
            return Err(Refused::Org);
        }
        open.total += 1;
        open.per_org.insert(org.to_owned(), of_org + 1);
        self.inner.gauge.increment(1.0);
        Ok(StreamSlot {
            inner: self.inner.clone(),
            org: org.to_owned(),
        })
    }
}

/// One open stream's place in the limits; given back on drop.
struct StreamSlot {
    inner: Arc<Inner>,
    org: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.inner.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_org.get_mut(&self.org) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_org.remove(&self.org);
            }
        }
        self.inner.gauge.decrement(1.0);
    }
}

/// What a stream carries, before it is written as an event.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A stored message.
    Message(Arc<MessageRecord>),
    /// This many events were lost to a full queue.
    Gap(u64),
}

impl Item {
    fn into_event(self) -> Event {
        match self {
            Item::Message(m) => Event::default()
                .event("message")
                .id(m.id.to_string())
                .data(record(&m).to_string()),
            Item::Gap(missed) => Event::default()
                .event("gap")
                .data(json!({ "missed": missed }).to_string()),
        }
    }
}

/// The messages of `org` that `events` delivers, with gaps, until
/// `shutdown` or the bus closes. `slot` is held as long as the stream lives.
fn items(
    events: Subscriber,
    org: String,
    shutdown: CancellationToken,
    slot: Option<StreamSlot>,
) -> impl Stream<Item = Item> {
    futures::stream::unfold(
        (events, org, shutdown, slot),
        |(mut events, org, shutdown, slot)| async move {
            loop {
                let next = tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => return None,
                    next = events.recv() => next,
                };
                let item = match next {
                    // The filter is the tenant's; checked again all the same.
                    Ok(BusEvent::MessageStored(m)) if m.org == org => Item::Message(m),
                    Ok(_) => continue,
                    Err(thingstead_core::bus::RecvError::Lagged(n)) => Item::Gap(n),
                    Err(thingstead_core::bus::RecvError::Closed) => return None,
                };
                return Some((item, (events, org, shutdown, slot)));
            }
        },
    )
}

/// Opens a stream of the caller's organization's messages.
pub(crate) async fn stream(
    State(s): State<AppState>,
    ApiKeyTenant(t): ApiKeyTenant,
    Query(p): Query<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let pattern = match p.deviceid.as_deref().filter(|d| !d.is_empty()) {
        Some(device) => format!("message.{}", token(device)),
        None => "message.>".to_owned(),
    };
    let filter = Filter::tenant(t.name(), &pattern)
        .map_err(|e| ApiError::from(thingstead_core::CoreError::Internal(e.to_string())))?;
    let org = t.name().as_str().to_owned();
    let slot = s.streams.open(&org).map_err(|refused| {
        let message = match refused {
            Refused::Node => "this node holds as many message streams as it may (http_limits.max_streams)",
            Refused::Org => {
                "this organization holds as many message streams as it may on this node (http_limits.max_streams_per_org)"
            }
        };
        ApiError::new(ErrorCode::TooManyRequests, message)
    })?;
    let events = s.platform.events().subscribe(filter);
    let shutdown = s.streams.inner.shutdown.clone();
    let events = futures::StreamExt::map(items(events, org, shutdown, Some(slot)), |i| {
        Ok::<_, Infallible>(i.into_event())
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use thingstead_core::bus::Bus;
    use thingstead_core::bus::local::LocalBus;
    use thingstead_core::ids::OrgName;

    use super::*;

    fn message(org: &str, id: i64) -> BusEvent {
        BusEvent::MessageStored(Arc::new(MessageRecord {
            id,
            org: org.into(),
            device_uuid: "0b9e0c1e-2f4b-4e36-9d7a-6a1c0f3c7b11".into(),
            topics: vec!["t".into()],
            payload: b"x".to_vec(),
            received_at: 5,
            peer: "127.0.0.1:1".into(),
            sdk: None,
            modem: None,
            idempotency_key: None,
        }))
    }

    fn id(item: Option<Item>) -> i64 {
        match item {
            Some(Item::Message(m)) => m.id,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_slow_stream_reports_the_gap_and_goes_on() {
        let bus = LocalBus::with_capacity(4);
        let acme = OrgName::parse("acme").unwrap();
        let sub = bus.subscribe(Filter::tenant(&acme, "message.>").unwrap());
        let stream = items(sub, "acme".into(), CancellationToken::new(), None);
        tokio::pin!(stream);
        for i in 0..10 {
            bus.publish(message("acme", i)).await;
        }
        assert_eq!(stream.next().await, Some(Item::Gap(6)));
        assert_eq!(id(stream.next().await), 6, "the newest are kept, in order");
        bus.publish(message("acme", 10)).await;
        for want in 7..=10 {
            assert_eq!(id(stream.next().await), want);
        }
    }

    #[tokio::test]
    async fn a_stream_ends_at_shutdown() {
        let bus = LocalBus::default();
        let shutdown = CancellationToken::new();
        let stream = items(
            bus.subscribe(Filter::everything()),
            "acme".into(),
            shutdown.clone(),
            None,
        );
        tokio::pin!(stream);
        bus.publish(message("acme", 1)).await;
        shutdown.cancel();
        let end = tokio::time::timeout(Duration::from_secs(1), stream.next()).await;
        assert_eq!(end.unwrap(), None, "ended, even with an event queued");
    }

    #[test]
    fn the_limits_count_per_node_and_per_org_and_free_on_drop() {
        let limits = HttpLimits {
            max_streams: 3,
            max_streams_per_org: 2,
            ..HttpLimits::default()
        };
        let streams = Streams::new(&limits, CancellationToken::new());
        let a1 = streams.open("a").unwrap();
        let _a2 = streams.open("a").unwrap();
        assert_eq!(streams.open("a").err(), Some(Refused::Org));
        let _b1 = streams.open("b").unwrap();
        assert_eq!(streams.open("c").err(), Some(Refused::Node));
        drop(a1);
        let _a3 = streams.open("a").unwrap();
        assert_eq!(streams.open("a").err(), Some(Refused::Node));
    }

    #[test]
    fn a_gap_and_a_message_are_written_as_named_events() {
        let gap = format!("{:?}", Item::Gap(3).into_event());
        assert!(gap.contains("gap") && gap.contains(r#"{\"missed\":3}"#), "{gap}");
    }
}
