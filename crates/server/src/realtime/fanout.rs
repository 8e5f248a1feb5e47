//! Bus → sockets: one bus subscription per node, delivering to both kinds
//! of connection (socketioxide's rooms and [`Hub`]'s). Each event that delivers
//! something to a channel somebody on this node listens on
//! ([`thingstead_core::channels::delivery_to`]) is encoded ONCE as
//! `42["broadcast",{..}]` and written to the queue of every socket in the
//! channel's room, without waiting: a socket whose queue is full (it stopped
//! reading) loses this broadcast, counted in
//! `thingstead_realtime_dropped_total`, and no other socket waits for it.

use std::time::Duration;

use std::sync::Arc;

use socketioxide::{BroadcastError, SocketIo};
use thingstead_core::bus::{Events, Filter, RecvError};
use thingstead_core::channels;
use thingstead_proto::engineio::SocketIoPacket;
use tokio_util::sync::CancellationToken;

use super::eio4::hub::Hub;
use super::limits::{ConnectionLimits, DROPPED_COUNTER};
use crate::activity::LogLimiter;

static LAG_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Delivers until `token` is cancelled or the bus closes, then closes
/// every socket.io connection of this node.
pub(super) async fn run(
    io: SocketIo,
    hub: Arc<Hub>,
    open: Arc<ConnectionLimits>,
    events: Events,
    token: CancellationToken,
) {
    let mut bus = events.subscribe(Filter::everything());
    let full = metrics::counter!(DROPPED_COUNTER, "reason" => "queue_full");
    let closed = metrics::counter!(DROPPED_COUNTER, "reason" => "closed");
    loop {
        let event = tokio::select! {
            _ = token.cancelled() => break,
            event = bus.recv() => event,
        };
        let event = match event {
            Ok(event) => event,
            Err(RecvError::Lagged(n)) => {
                if let Some(held_back) = LAG_LOG.allow() {
                    tracing::warn!(lost = n, held_back, "realtime fan-out fell behind the bus; events lost");
                }
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        // Nothing is built for a channel nobody on this node listens on,
        // nor looked up for an organization with no connection here.
        if !open.has_open(event.tenant()) {
            continue;
        }
        let (mut hub_listens, mut io_listens) = (false, false);
        let Some(delivery) = channels::delivery_to(&event, |channel| {
            hub_listens = hub.has_room(channel);
            io_listens = !io.to(channel.to_owned()).sockets().is_empty();
            hub_listens || io_listens
        }) else {
            continue;
        };
        let json = delivery.to_json();
        if hub_listens {
            let frame = SocketIoPacket::event("broadcast", vec![json.clone()])
                .to_engineio()
                .encode();
            let done = hub.deliver(&delivery.channel, &frame.into());
            full.increment(done.full as u64);
            closed.increment(done.closed as u64);
        }
        if !io_listens {
            continue;
        }
        match io.to(delivery.channel.clone()).emit("broadcast", &json).await {
            Ok(()) => {}
            Err(BroadcastError::Socket(errors)) => {
                for e in errors {
                    match e {
                        socketioxide::SocketError::InternalChannelFull => full.increment(1),
                        _ => closed.increment(1),
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "broadcast not delivered"),
        }
    }
    hub.close();
    io.close().await;
}
