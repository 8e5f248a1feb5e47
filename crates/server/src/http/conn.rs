//! HTTP connections: at most `max_connections` at once (more wait in the
//! accept backlog), counted in `thingstead_open_connections`, and closed
//! when no bytes move for the idle timeout (hyper as axum runs it has no
//! timer, so nothing else bounds a slow or idle client).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::telemetry::{ConnectionGuard, ListenerMetrics};

/// The HTTP listener.
pub struct BoundedListener {
    inner: TcpListener,
    idle: Duration,
    slots: Arc<Semaphore>,
    metrics: ListenerMetrics,
}

impl BoundedListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener, idle: Duration, max_connections: usize) -> Self {
        Self {
            inner,
            idle,
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            metrics: ListenerMetrics::new("http"),
        }
    }
}

impl axum::serve::Listener for BoundedListener {
    type Io = BoundedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so acquiring only waits for a free slot.
        let slot = loop {
            match self.slots.clone().acquire_owned().await {
                Ok(slot) => break slot,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let stream = BoundedStream {
            inner: io,
            idle: self.idle,
            deadline: Box::pin(tokio::time::sleep(self.idle)),
            _guard: self.metrics.connection(),
            _slot: slot,
        };
        (stream, addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One HTTP connection.
pub struct BoundedStream {
    inner: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _guard: ConnectionGuard,
    _slot: OwnedSemaphorePermit,
}

impl BoundedStream {
    fn touch(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "HTTP connection idle timeout")
}

impl AsyncRead for BoundedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                self.touch();
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for BoundedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                self.touch();
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
