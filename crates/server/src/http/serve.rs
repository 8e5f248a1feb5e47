//! The HTTP accept loop: each connection is served by hyper with a deadline
//! for every request head (`http_limits.head_timeout_secs`, keep-alive
//! requests included: hyper starts it whenever it waits for a head), within
//! `max_connections` (more wait in the accept backlog) and
//! `max_connections_per_ip` (more are closed at once). On shutdown it stops
//! accepting, lets in-flight requests finish and closes idle connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::conn::{BoundedStream, Slots};
use super::per_ip::PerAddressLimit;
use crate::activity::LogLimiter;
use crate::settings::HttpLimits;
use crate::telemetry::ListenerMetrics;

/// One line per period about connections turned away for their address.
static REFUSED_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Serves `router` on `listener` until `token` is cancelled, then drains.
pub async fn serve(listener: TcpListener, router: Router, limits: &HttpLimits, token: CancellationToken) {
    let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = PerAddressLimit::new(limits.max_connections_per_ip);
    let metrics = ListenerMetrics::new("http");
    let refused = metrics::counter!("thingstead_connections_refused_total", "listener" => "http", "reason" => "per_ip");
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.head_timeout_secs.max(1)));
    let connections = TaskTracker::new();

    loop {
        let slot = tokio::select! {
            _ = token.cancelled() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
        };
        let (stream, peer) = tokio::select! {
            _ = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e, &token).await;
                    continue;
                }
            },
        };
        let Some(address) = per_address.try_acquire(peer.ip()) else {
            refused.increment(1);
            if let Some(held_back) = REFUSED_LOG.allow() {
                tracing::info!(
                    peer = %peer.ip(),
                    held_back,
                    "HTTP connection closed at once: its address holds http_limits.max_connections_per_ip connections"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let slots = Slots {
            gauge: metrics.connection(),
            global: slot,
            address,
        };
        let io = BoundedStream::new(stream, idle, slots);
        connections.spawn(serve_connection(
            builder.clone(),
            io,
            peer,
            router.clone(),
            token.clone(),
        ));
    }

    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Serves one connection; on shutdown, finishes the request in flight (if
/// any) and closes.
async fn serve_connection(
    builder: http1::Builder,
    io: BoundedStream,
    peer: SocketAddr,
    router: Router,
    token: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        tower::ServiceExt::oneshot(router.clone(), req)
    });
    let conn = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = token.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Timeouts, resets, malformed heads: the client's doing, not ours.
        tracing::debug!(peer = %peer, error = %e, "HTTP connection ended with an error");
    }
}

/// Accept errors: a connection that died in the backlog is skipped; others
/// (out of file descriptors...) are logged and retried after a pause.
async fn accept_failed(e: std::io::Error, token: &CancellationToken) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "HTTP accept failed; retrying in 1 s");
    tokio::select! {
        _ = token.cancelled() => {}
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
}
