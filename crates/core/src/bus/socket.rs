//! `bus.sock`: how a process that opened the embedded store beside a
//! running server (the admin CLI) tells that server what it published.
//!
//! The server binds a Unix datagram socket (mode 0600, in the 0700 data
//! dir); other processes send each event as one JSON datagram of at most
//! [`MAX_DATAGRAM`] bytes, without blocking (a missing socket or a full
//! queue drops the event; a full queue is counted). The server parses every
//! datagram strictly ([`BusEvent::from_wire`]) and republishes it on its
//! local bus; anything else is dropped and counted.

use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;

use super::{BusError, BusEvent, Counters, DropReason, FanOut};

/// The largest datagram sent or accepted.
pub const MAX_DATAGRAM: usize = 64 * 1024;

/// The sending side: non-blocking, best effort.
pub(crate) struct Forwarder {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Forwarder {
    pub(crate) fn new(path: PathBuf) -> Option<Self> {
        let socket = UnixDatagram::unbound()
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .inspect_err(|e| tracing::warn!(error = %e, "cannot make a socket to forward bus events"))
            .ok()?;
        Some(Self { socket, path })
    }

    pub(crate) fn send(&self, event: &BusEvent, counters: &Counters) {
        let bytes = event.to_wire();
        if bytes.len() > MAX_DATAGRAM {
            counters.dropped(DropReason::TooLarge, 1);
            return;
        }
        match self.socket.send_to(&bytes, &self.path) {
            Ok(_) => {}
            // No server is running: nobody to tell.
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => counters.dropped(DropReason::ForwardFull, 1),
            Err(e) => {
                tracing::debug!(error = %e, path = %self.path.display(), "bus event not forwarded");
                counters.dropped(DropReason::Error, 1);
            }
        }
    }
}

/// The server's side: stops and removes the socket when dropped.
pub struct SocketListener {
    task: tokio::task::JoinHandle<()>,
    path: PathBuf,
}

impl SocketListener {
    pub(crate) fn bind(path: PathBuf, fan: FanOut, counters: Arc<Counters>) -> Result<Self, BusError> {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let err = |source| BusError::Socket {
            path: path.display().to_string(),
            source,
        };
        // A socket left by a server that died; the caller holds the data dir lock.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
            std::fs::remove_file(&path).map_err(err)?;
        }
        let socket = tokio::net::UnixDatagram::bind(&path).map_err(err)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        let task = tokio::spawn(receive(socket, fan, counters));
        Ok(Self { task, path })
    }
}

impl Drop for SocketListener {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn receive(socket: tokio::net::UnixDatagram, fan: FanOut, counters: Arc<Counters>) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut warned = false;
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "bus socket receive failed; admin changes are no longer relayed");
                return;
            }
        };
        if n > MAX_DATAGRAM {
            counters.dropped(DropReason::TooLarge, 1);
            continue;
        }
        match BusEvent::from_wire(&buf[..n], None) {
            Ok(event) => fan.deliver(event),
            Err(e) => {
                counters.dropped(DropReason::Invalid, 1);
                if !warned {
                    tracing::warn!(error = %e, "invalid event on the bus socket dropped (further ones are only counted)");
                    warned = true;
                }
            }
        }
    }
}
