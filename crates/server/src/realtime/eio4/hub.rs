//! The rooms of this node's Engine.IO 4 websocket connections: which
//! connection queues a broadcast goes to. A delivery is one encoded frame,
//! cloned (a reference count) into each member's queue with `try_send`:
//! a full queue drops the frame for that member only.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A frame queued for one connection: the text of an Engine.IO packet,
/// shared by every connection it goes to.
pub(super) type Frame = Utf8Bytes;

/// Rooms and the queues of their members.
#[derive(Default)]
pub(crate) struct Hub {
    next_id: AtomicU64,
    closed: AtomicBool,
    rooms: RwLock<HashMap<String, HashMap<u64, mpsc::Sender<Frame>>>>,
    /// Every connection (subscribed or not), so that closing the hub ends
    /// them all: their queue's last sender goes away.
    all: RwLock<HashMap<u64, mpsc::Sender<Frame>>>,
}

/// What one delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivered {
    /// Queued.
    pub(crate) sent: usize,
    /// Dropped: the member's queue was full (it stopped reading).
    pub(crate) full: usize,
    /// Dropped: the member was closing.
    pub(crate) closed: usize,
}

/// A connection's membership; leaves every room when dropped.
pub(super) struct Member<'a> {
    hub: &'a Hub,
    id: u64,
    rooms: Vec<String>,
}

impl Hub {
    /// Registers a connection whose queue is `tx` (the hub keeps the only
    /// senders, so the queue closes when the hub does); `None` once the
    /// hub is closed (the node is shutting down).
    pub(super) fn enter(&self, tx: mpsc::Sender<Frame>) -> Option<Member<'_>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut all = self.all.write().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        all.insert(id, tx);
        Some(Member {
            hub: self,
            id,
            rooms: Vec::new(),
        })
    }

    /// Queues `frame` for every member of `room`, without waiting.
    pub(crate) fn deliver(&self, room: &str, frame: &Frame) -> Delivered {
        let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
        let mut delivered = Delivered::default();
        for tx in rooms.get(room).into_iter().flat_map(HashMap::values) {
            match tx.try_send(frame.clone()) {
                Ok(()) => delivered.sent += 1,
                Err(mpsc::error::TrySendError::Full(_)) => delivered.full += 1,
                Err(mpsc::error::TrySendError::Closed(_)) => delivered.closed += 1,
            }
        }
        delivered
    }

    /// Whether `room` has any member here (skip encoding when not).
    pub(crate) fn has_room(&self, room: &str) -> bool {
        self.rooms.read().unwrap_or_else(|e| e.into_inner()).contains_key(room)
    }

    /// Ends every connection (their queues close) and admits no more.
    pub(crate) fn close(&self) {
        let mut all = self.all.write().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, Ordering::Release);
        all.clear();
        self.rooms.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Member<'_> {
    /// The rooms this connection is in.
    pub(super) fn rooms(&self) -> &[String] {
        &self.rooms
    }

    /// Joins `rooms` (callers pass only rooms it is not in yet).
    pub(super) fn join(&mut self, rooms: Vec<String>) {
        if rooms.is_empty() {
            return;
        }
        let all = self.hub.all.read().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = all.get(&self.id) else {
            return; // the hub closed
        };
        let mut map = self.hub.rooms.write().unwrap_or_else(|e| e.into_inner());
        for room in rooms {
            map.entry(room.clone()).or_default().insert(self.id, tx.clone());
            self.rooms.push(room);
        }
    }
}

impl Drop for Member<'_> {
    fn drop(&mut self) {
        if !self.rooms.is_empty() {
            let mut map = self.hub.rooms.write().unwrap_or_else(|e| e.into_inner());
            for room in &self.rooms {
                if let Some(members) = map.get_mut(room) {
                    members.remove(&self.id);
                    if members.is_empty() {
                        map.remove(room);
                    }
                }
            }
        }
        self.hub.all.write().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_for_its_member_only_and_leaving_empties_the_room() {
        let hub = Hub::default();
        let (fast_tx, mut fast_rx) = mpsc::channel(4);
        let (slow_tx, _slow_rx) = mpsc::channel(1);
        let mut fast = hub.enter(fast_tx).expect("open");
        let mut slow = hub.enter(slow_tx).expect("open");
        fast.join(vec!["r".into()]);
        slow.join(vec!["r".into()]);
        let frame = Frame::from("42[\"broadcast\",{}]");
        assert_eq!(hub.deliver("r", &frame).sent, 2);
        let second = hub.deliver("r", &frame);
        assert_eq!((second.sent, second.full), (1, 1));
        assert_eq!(fast_rx.try_recv().ok().as_deref(), Some("42[\"broadcast\",{}]"));
        assert_eq!(hub.deliver("other", &frame), Delivered::default());
        drop(fast);
        drop(slow);
        assert!(!hub.has_room("r"));
    }

    #[test]
    fn closing_ends_every_queue_and_refuses_newcomers() {
        let hub = Hub::default();
        let (tx, mut rx) = mpsc::channel(1);
        let mut member = hub.enter(tx).expect("open");
        member.join(vec!["r".into()]);
        hub.close();
        assert!(!hub.has_room("r"));
        assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
        member.join(vec!["s".into()]);
        assert!(!hub.has_room("s"), "no joining after close");
        drop(member);
        let (tx2, _rx2) = mpsc::channel(1);
        assert!(hub.enter(tx2).is_none());
    }
}
