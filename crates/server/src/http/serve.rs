//! The HTTP accept loop: each connection is served by hyper with a deadline
//! for every request head (`http_limits.head_timeout_secs`, keep-alive
//! requests included: hyper starts it whenever it waits for a head), within
//! `max_connections` (more wait in the accept backlog) and
//! `max_connections_per_ip` (more are closed at once). On shutdown it stops
//! accepting, lets in-flight requests finish and closes idle connections.
//!
//! A connection from a trusted load balancer begins with a PROXY header
//! ([`crate::proxy_header`]), read before hyper gets the socket and within
//! the head timeout: the client address in it is the one counted against
//! `max_connections_per_ip` and handed to handlers as `ConnectInfo`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::conn::{BoundedStream, Slots};
use super::per_ip::PerAddressLimit;
use crate::activity::LogLimiter;
use crate::proxy_header::{self, TrustedProxies};
use crate::settings::HttpLimits;
use crate::telemetry::ListenerMetrics;

/// One line per period about connections turned away for their address.
static REFUSED_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// What every connection of the listener shares.
#[derive(Clone)]
struct Shared {
    builder: http1::Builder,
    router: Router,
    token: CancellationToken,
    idle: Duration,
    head: Duration,
    per_address: PerAddressLimit,
    metrics: ListenerMetrics,
    refused: metrics::Counter,
}

/// Serves `router` on `listener` until `token` is cancelled, then drains.
/// Connections from `proxies` begin with a PROXY header.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &HttpLimits,
    proxies: TrustedProxies,
    token: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let head = Duration::from_secs(limits.head_timeout_secs.max(1));
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(head);
    let shared = Shared {
        builder,
        router,
        token: token.clone(),
        idle: Duration::from_secs(limits.idle_timeout_secs.max(1)),
        head,
        per_address: PerAddressLimit::new(limits.max_connections_per_ip),
        metrics: ListenerMetrics::new("http"),
        refused: metrics::counter!("thingstead_connections_refused_total", "listener" => "http", "reason" => "per_ip"),
    };
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
        if proxies.trusts(peer.ip()) {
            // A balancer: the address that counts is in the header, read in
            // the connection's task.
            connections.spawn(proxied(shared.clone(), stream, peer, slot));
            continue;
        }
        // Over its address's cap: closed at once, never handed a task.
        if let Some(io) = admit(&shared, stream, peer, slot, Vec::new()) {
            connections.spawn(serve_connection(shared.clone(), io, peer));
        }
    }

    drop(listener);
    connections.close();
    connections.wait().await;
}

/// A connection from a trusted balancer: its PROXY header within the head
/// timeout, then HTTP, counted against the client's address.
async fn proxied(shared: Shared, mut stream: TcpStream, balancer: SocketAddr, slot: OwnedSemaphorePermit) {
    let deadline = Instant::now() + shared.head;
    let header = tokio::select! {
        header = proxy_header::read_trusted(&mut stream, balancer, deadline, "http") => header,
        _ = shared.token.cancelled() => None,
    };
    let Some(header) = header else { return };
    if let Some(io) = admit(&shared, stream, header.client, slot, header.rest) {
        serve_connection(shared, io, header.client).await;
    }
}

/// The connection from `client`, holding its slots, or `None` (counted,
/// logged at a bounded rate) when that address holds its cap.
fn admit(
    shared: &Shared,
    stream: TcpStream,
    client: SocketAddr,
    global: OwnedSemaphorePermit,
    read: Vec<u8>,
) -> Option<BoundedStream> {
    let Some(address) = shared.per_address.try_acquire(client.ip()) else {
        shared.refused.increment(1);
        if let Some(held_back) = REFUSED_LOG.allow() {
            tracing::info!(
                peer = %client.ip(),
                held_back,
                "HTTP connection closed at once: its address holds http_limits.max_connections_per_ip connections"
            );
        }
        return None;
    };
    let _ = stream.set_nodelay(true);
    let slots = Slots {
        gauge: shared.metrics.connection(),
        global,
        address,
    };
    Some(BoundedStream::new(stream, shared.idle, slots).with_read(read))
}

/// Serves one connection from `peer` (the client's address); on shutdown,
/// finishes the request in flight (if any) and closes.
async fn serve_connection(shared: Shared, io: BoundedStream, peer: SocketAddr) {
    let Shared {
        builder, router, token, ..
    } = shared;
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
