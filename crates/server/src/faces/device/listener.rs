//! Accepts device connections: at most `max_connections` at once, and at
//! most `max_connections_per_ip` from one source address. Behind a trusted
//! load balancer the source address is the client's, from the connection's
//! PROXY header ([`crate::proxy_header`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::DeviceFace;
use super::connection;
use super::slots::Slot;
use crate::activity::LogLimiter;
use crate::proxy_header;

/// One line per period about connections closed for their address's cap.
static OVER_CAP_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Serves the device listener until `token` is cancelled; connections in
/// flight are tracked by `tasks` so shutdown can wait for them.
pub async fn serve(listener: TcpListener, face: DeviceFace, token: CancellationToken, tasks: TaskTracker) {
    let permits = Arc::new(Semaphore::new(face.settings.max_connections));
    loop {
        // Take a slot before accepting: past the global cap, connections wait
        // in the backlog. One address holds at most its own cap of slots, and
        // a connection that sends nothing gives its slot back after
        // `first_byte_timeout_ms`, so idle connections cannot starve others.
        let permit = tokio::select! {
            _ = token.cancelled() => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let accepted = tokio::select! {
            _ = token.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) if face.proxies.trusts(peer.ip()) => {
                // A balancer: the address that counts is in the header, read
                // in the connection's task within the first-byte deadline.
                let face = face.clone();
                tasks.spawn(proxied(stream, peer, face, permit));
            }
            Ok((stream, peer)) => {
                // Over its address's cap: closed at once, never handed a task
                // (the global slot is reused for the next accept).
                let Some(slot) = take_slot(&face, peer) else {
                    drop(stream);
                    drop(permit);
                    continue;
                };
                let face = face.clone();
                tasks.spawn(async move {
                    connection::handle(stream, peer, Vec::new(), &face).await;
                    drop(slot);
                    drop(permit);
                });
            }
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "device accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::info!("device listener stopped accepting");
}

/// A connection from a trusted balancer: its PROXY header first, then the
/// frame, counted against the client's address.
async fn proxied(mut stream: TcpStream, balancer: SocketAddr, face: DeviceFace, permit: OwnedSemaphorePermit) {
    let wait = face.settings.first_byte_timeout_ms.min(face.settings.idle_timeout_ms);
    let deadline = Instant::now() + Duration::from_millis(wait);
    let Some(header) = proxy_header::read_trusted(&mut stream, balancer, deadline, "device_tcp").await else {
        return;
    };
    if let Some(slot) = take_slot(&face, header.client) {
        connection::handle(stream, header.client, header.rest, &face).await;
        drop(slot);
    }
    drop(permit);
}

/// A slot for a connection from `client`, or `None` (counted, logged at a
/// bounded rate) when its address holds its cap.
fn take_slot(face: &DeviceFace, client: SocketAddr) -> Option<Slot> {
    let slot = face.slots.take(client.ip());
    if slot.is_none() {
        face.frames.over_address_cap.increment(1);
        if let Some(held_back) = OVER_CAP_LOG.allow() {
            tracing::info!(peer = %client, held_back, "device connection closed: too many open from this address");
        }
    }
    slot
}
