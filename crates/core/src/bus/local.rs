//! The in-process bus, optionally forwarding to a running server's
//! `bus.sock`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::socket::{Forwarder, SocketListener};
use super::{Bus, BusError, BusEvent, BusStats, Counters, FanOut, Filter, Subscriber};

/// Events a subscriber may fall behind before it loses the oldest.
pub const CAPACITY: usize = 4096;

/// A bus inside one process.
pub struct LocalBus {
    fan: FanOut,
    counters: Arc<Counters>,
    forward: Option<Forwarder>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl LocalBus {
    /// A bus whose subscribers may each fall `capacity` events behind.
    pub fn with_capacity(capacity: usize) -> Self {
        let counters = Arc::new(Counters::default());
        Self {
            fan: FanOut::new(capacity, counters.clone()),
            counters,
            forward: None,
        }
    }

    /// A bus that also forwards every event it publishes to the server
    /// listening on `socket` (best effort: no server, nothing sent).
    pub fn forwarding_to(socket: &Path) -> Self {
        Self {
            forward: Forwarder::new(socket.to_owned()),
            ..Self::default()
        }
    }

    /// Listens on `socket` (mode 0600) for events other processes forward,
    /// and delivers them to this bus's subscribers. Stops (and removes the
    /// socket) when the returned listener is dropped.
    pub fn listen(&self, socket: PathBuf) -> Result<SocketListener, BusError> {
        SocketListener::bind(socket, self.fan.clone(), self.counters.clone())
    }
}

#[async_trait::async_trait]
impl Bus for LocalBus {
    async fn publish(&self, event: BusEvent) {
        if let Some(f) = &self.forward {
            f.send(&event, &self.counters);
        }
        self.fan.deliver(event);
    }

    fn subscribe(&self, filter: Filter) -> Subscriber {
        self.fan.subscribe(filter)
    }

    fn stats(&self) -> BusStats {
        self.counters.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::{DropReason, RecvError};
    use crate::ids::OrgName;

    fn sms(org: &str, id: i64) -> BusEvent {
        BusEvent::SmsQueued { org: org.into(), id }
    }

    #[tokio::test]
    async fn a_subscriber_gets_its_tenants_events_and_not_anothers() {
        let bus = LocalBus::default();
        let acme = OrgName::parse("acme").unwrap();
        let other = OrgName::parse("other").unwrap();
        let mut mine = bus.subscribe(Filter::tenant(&acme, "sms.*.queued").unwrap());
        let mut theirs = bus.subscribe(Filter::tenant(&other, ">").unwrap());
        bus.publish(sms("acme", 1)).await;
        assert_eq!(mine.recv().await.unwrap(), sms("acme", 1));
        bus.publish(sms("other", 2)).await;
        assert_eq!(theirs.recv().await.unwrap(), sms("other", 2), "acme's event skipped");
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), mine.recv()).await;
        assert!(nothing.is_err(), "acme's subscriber saw another tenant's event");
    }

    #[tokio::test]
    async fn a_lagging_subscriber_loses_the_oldest_and_it_is_counted() {
        let bus = LocalBus::with_capacity(4);
        let mut slow = bus.subscribe(Filter::everything());
        for id in 0..10 {
            bus.publish(sms("acme", id)).await;
        }
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(6)));
        assert_eq!(slow.recv().await.unwrap(), sms("acme", 6), "the newest are kept");
        assert_eq!(bus.stats().dropped(DropReason::Lagged), 6);
    }

    #[tokio::test]
    async fn events_forwarded_through_the_socket_reach_the_listening_bus() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bus.sock");
        let server = LocalBus::default();
        let _listener = server.listen(path.clone()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let mut sub = server.subscribe(Filter::everything());
        let admin = LocalBus::forwarding_to(&path);
        admin.publish(sms("acme", 9)).await;
        let got = tokio::time::timeout(std::time::Duration::from_secs(2), sub.recv()).await;
        assert_eq!(got.unwrap().unwrap(), sms("acme", 9));

        // Garbage and oversized datagrams are dropped and counted, and the listener goes on.
        let raw = std::os::unix::net::UnixDatagram::unbound().unwrap();
        raw.send_to(b"{\"type\":\"sms_queued\",\"data\":{\"org\":\"../x\",\"id\":1}}", &path)
            .unwrap();
        raw.send_to(&vec![b' '; crate::bus::socket::MAX_DATAGRAM + 1], &path)
            .unwrap();
        admin.publish(sms("acme", 10)).await;
        let got = tokio::time::timeout(std::time::Duration::from_secs(2), sub.recv()).await;
        assert_eq!(got.unwrap().unwrap(), sms("acme", 10));
        assert_eq!(server.stats().dropped(DropReason::Invalid), 1);
        assert_eq!(server.stats().dropped(DropReason::TooLarge), 1);

        // No server listening is not an error.
        let lonely = LocalBus::forwarding_to(&dir.path().join("missing.sock"));
        lonely.publish(sms("acme", 11)).await;
        assert_eq!(lonely.stats(), BusStats::default());
    }
}
