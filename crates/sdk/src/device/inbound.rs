//! Cloud-to-device messages (WIRE C.5): listen on a host and port; each
//! connection's bytes, read until EOF or 5 s, are one message.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};

use super::{Event, EventBus};

/// How long one inbound connection may take to deliver its message.
pub const INBOUND_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest inbound message kept, in bytes; the rest is discarded.
pub const INBOUND_MAX_BYTES: usize = 64 * 1024;
/// How many received messages wait to be popped before the oldest is dropped.
pub const INBOUND_QUEUE_CAPACITY: usize = 1024;
/// How many inbound connections are read at once.
pub const INBOUND_MAX_CONNECTIONS: usize = 32;

/// A message pushed to the device.
///
/// ```
/// use thingstead::device::InboundMessage;
/// let m = InboundMessage { data: b"hi".to_vec(), peer: "127.0.0.1:1".parse().unwrap(), received_at: std::time::SystemTime::now() };
/// assert_eq!(m.text(), "hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// The bytes received.
    pub data: Vec<u8>,
    /// Who sent them.
    pub peer: SocketAddr,
    /// When the message was complete.
    pub received_at: SystemTime,
}

impl InboundMessage {
    /// The message as text (invalid UTF-8 replaced by U+FFFD).
    ///
    /// ```
    /// # use thingstead::device::InboundMessage;
    /// let m = InboundMessage { data: vec![0xff], peer: "127.0.0.1:1".parse().unwrap(), received_at: std::time::SystemTime::now() };
    /// assert_eq!(m.text(), "\u{fffd}");
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// The bounded queue of received messages.
#[derive(Debug, Default)]
pub(crate) struct InboundQueue {
    messages: Mutex<VecDeque<InboundMessage>>,
    arrived: Notify,
}

impl InboundQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<InboundMessage>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, message: InboundMessage) {
        let mut queue = self.lock();
        if queue.len() >= INBOUND_QUEUE_CAPACITY {
            queue.pop_front();
            tracing::warn!("inbound queue full: dropped the oldest unread message");
        }
        queue.push_back(message);
        drop(queue);
        self.arrived.notify_waiters();
        self.arrived.notify_one();
    }

    pub(crate) fn pop(&self) -> Option<InboundMessage> {
        self.lock().pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) async fn next(&self) -> InboundMessage {
        loop {
            let notified = self.arrived.notified();
            if let Some(m) = self.pop() {
                return m;
            }
            notified.await;
        }
    }
}

/// Accepts inbound connections until aborted.
pub(crate) async fn accept_loop(listener: TcpListener, queue: Arc<InboundQueue>, events: Arc<EventBus>) {
    let permits = Arc::new(Semaphore::new(INBOUND_MAX_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "inbound accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let queue = Arc::clone(&queue);
        let events = Arc::clone(&events);
        tokio::spawn(async move {
            let data = read_message(stream).await;
            drop(permit);
            if data.is_empty() {
                tracing::debug!(%peer, "inbound connection closed without data");
                return;
            }
            let message = InboundMessage {
                data,
                peer,
                received_at: SystemTime::now(),
            };
            tracing::info!(%peer, bytes = message.data.len(), "Received a message");
            queue.push(message.clone());
            events.broadcast(&Event::MessageReceived(message));
        });
    }
}

/// Reads until EOF, the size limit or the timeout.
async fn read_message(mut stream: TcpStream) -> Vec<u8> {
    let deadline = tokio::time::Instant::now() + INBOUND_READ_TIMEOUT;
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                let room = INBOUND_MAX_BYTES - data.len();
                data.extend_from_slice(&chunk[..n.min(room)]);
                if data.len() >= INBOUND_MAX_BYTES {
                    tracing::warn!("inbound message cut at {INBOUND_MAX_BYTES} bytes");
                    break;
                }
            }
        }
    }
    data
}

impl super::DeviceClient {
    /// Listens for cloud-to-device messages on `host:port` (port 0 picks a
    /// free port; the bound address is returned). Each connection's bytes,
    /// read until the sender closes or 5 s pass, are one message: it is
    /// queued (at most [`INBOUND_QUEUE_CAPACITY`], the oldest dropped when
    /// full) and broadcast as `message.received`. Empty connections are
    /// ignored.
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) -> Result<(), thingstead::device::DeviceError> {
    /// let addr = client.start_receiving("0.0.0.0", 4010).await?;
    /// let message = client.next_received().await;
    /// println!("{}", message.text());
    /// # Ok(()) }
    /// ```
    pub async fn start_receiving(&self, host: &str, port: u16) -> Result<SocketAddr, super::DeviceError> {
        if self.is_receiving() {
            return Err(super::DeviceError::AlreadyRunning("a receiver"));
        }
        let listener = TcpListener::bind((host, port))
            .await
            .map_err(|source| super::DeviceError::Bind {
                addr: format!("{host}:{port}"),
                source,
            })?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "listening for inbound messages");
        let handle = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&self.inner.inbound),
            Arc::clone(&self.inner.events),
        ));
        if let Some((old, _)) = super::client::lock(&self.inner.tasks).receiver.replace((handle, addr)) {
            old.abort();
        }
        Ok(addr)
    }

    /// Stops listening; received messages stay queued. Returns false when
    /// not listening.
    ///
    /// ```no_run
    /// # fn demo(client: thingstead::device::DeviceClient) {
    /// client.stop_receiving();
    /// # }
    /// ```
    pub fn stop_receiving(&self) -> bool {
        match super::client::lock(&self.inner.tasks).receiver.take() {
            Some((handle, _)) => {
                handle.abort();
                true
            }
            None => false,
        }
    }

    /// The address the receiver listens on, if it does.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert!(client.receiving_on().is_none());
    /// # }
    /// ```
    pub fn receiving_on(&self) -> Option<SocketAddr> {
        super::client::lock(&self.inner.tasks)
            .receiver
            .as_ref()
            .filter(|(h, _)| !h.is_finished())
            .map(|(_, a)| *a)
    }

    /// Whether the receiver is listening.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert!(!client.is_receiving());
    /// # }
    /// ```
    pub fn is_receiving(&self) -> bool {
        self.receiving_on().is_some()
    }

    /// Takes the oldest received message, if any (hologram's `popReceivedMessage`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// let client = DeviceClient::new(Credentials::default()).unwrap();
    /// assert!(client.pop_received().is_none());
    /// # }
    /// ```
    pub fn pop_received(&self) -> Option<InboundMessage> {
        self.inner.inbound.pop()
    }

    /// Waits for and takes the oldest received message.
    ///
    /// ```no_run
    /// # async fn demo(client: thingstead::device::DeviceClient) {
    /// let m = client.next_received().await;
    /// # }
    /// ```
    pub async fn next_received(&self) -> InboundMessage {
        self.inner.inbound.next().await
    }

    /// How many received messages wait to be popped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use thingstead::device::{Credentials, DeviceClient};
    /// assert_eq!(DeviceClient::new(Credentials::default()).unwrap().received_count(), 0);
    /// # }
    /// ```
    pub fn received_count(&self) -> usize {
        self.inner.inbound.len()
    }
}
