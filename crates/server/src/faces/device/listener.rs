//! Accepts device connections, at most `max_connections` at once.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::DeviceFace;
use super::connection;

/// Serves the device listener until `token` is cancelled; connections in
/// flight are tracked by `tasks` so shutdown can wait for them.
pub async fn serve(listener: TcpListener, face: DeviceFace, token: CancellationToken, tasks: TaskTracker) {
    let permits = Arc::new(Semaphore::new(face.settings.max_connections));
    loop {
        // Take a slot before accepting: past the cap, connections wait in the backlog.
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
                let face = face.clone();
                tasks.spawn(async move {
                    connection::handle(stream, peer, &face).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!(error = %e, "device accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    tracing::info!("device listener stopped accepting");
}
