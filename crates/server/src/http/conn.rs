//! One HTTP connection's socket: closed when no bytes move for the idle
//! timeout (a slow body or a client that stops reading), counted in
//! `thingstead_open_connections`, and holding its slots (one of
//! `max_connections`, one of its address's `max_connections_per_ip`) until
//! it is dropped. The deadline for the request head is hyper's (see
//! [`super::serve`]): an idle timer that restarts on every byte cannot bound
//! a client that trickles a header line now and then.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

use super::per_ip::AddressSlot;
use crate::telemetry::ConnectionGuard;

/// What a connection holds while it is open.
pub struct Slots {
    /// In `thingstead_open_connections`.
    pub gauge: ConnectionGuard,
    /// One of `max_connections`.
    pub global: OwnedSemaphorePermit,
    /// One of its address's `max_connections_per_ip`.
    pub address: AddressSlot,
}

/// One HTTP connection.
pub struct BoundedStream {
    inner: TcpStream,
    /// Read before hyper got the socket (after a PROXY header): served first.
    read: Vec<u8>,
    idle: Duration,
    /// When bytes last moved.
    active: Instant,
    deadline: Pin<Box<Sleep>>,
    _slots: Slots,
}

impl BoundedStream {
    /// Wraps an accepted socket.
    pub fn new(inner: TcpStream, idle: Duration, slots: Slots) -> Self {
        Self {
            inner,
            read: Vec::new(),
            idle,
            active: Instant::now(),
            deadline: Box::pin(tokio::time::sleep(idle)),
            _slots: slots,
        }
    }

    /// `read` was read from the socket already: it comes before its bytes.
    pub fn with_read(mut self, read: Vec<u8>) -> Self {
        self.read = read;
        self
    }

    /// Bytes moved: the idle timeout restarts. Only the instant is kept;
    /// the timer is moved when it fires ([`Self::expired`]), not on every
    /// read and write of a busy connection.
    fn touch(&mut self) {
        self.active = Instant::now();
    }

    /// Whether no bytes moved for the idle timeout (registering `cx` to
    /// be woken when it may have passed).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.deadline.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.active + self.idle;
            if due <= Instant::now() {
                return true;
            }
            // Bytes moved since the timer was set: it waits the rest.
            self.deadline.as_mut().reset(due);
        }
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "HTTP connection idle timeout")
}

impl AsyncRead for BoundedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if !self.read.is_empty() && buf.remaining() > 0 {
            let n = self.read.len().min(buf.remaining());
            buf.put_slice(&self.read[..n]);
            self.read.drain(..n);
            return Poll::Ready(Ok(()));
        }
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

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                self.touch();
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
