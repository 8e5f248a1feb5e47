//! Accepts device connections: at most `max_connections` at once, and at
//! most `max_connections_per_ip` from one source address.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::DeviceFace;
use super::connection;
use crate::activity::LogLimiter;

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
            Ok((stream, peer)) => {
                // Over its address's cap: closed at once, never handed a task
                // (the global slot is reused for the next accept).
                let Some(slot) = face.slots.take(peer.ip()) else {
                    face.frames.over_address_cap.increment(1);
                    if let Some(held_back) = OVER_CAP_LOG.allow() {
                        tracing::info!(%peer, held_back, "device connection closed: too many open from this address");
                    }
                    drop(stream);
                    drop(permit);
                    continue;
                };
                let face = face.clone();
                tasks.spawn(async move {
                    connection::handle(stream, peer, &face).await;
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
