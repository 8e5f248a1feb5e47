//! The modem's TCP sockets: real connections from the test machine.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use super::Control;

/// SARA-R4 has 7 sockets (0-6).
const MAX_SOCKETS: u8 = 7;

#[derive(Debug, Default)]
struct Socket {
    writer: Option<OwnedWriteHalf>,
    pending: Vec<u8>,
    reader: Option<tokio::task::JoinHandle<()>>,
}

/// The open sockets.
#[derive(Debug, Default)]
pub(crate) struct Sockets {
    open: HashMap<u8, Socket>,
}

impl Sockets {
    /// `+USOCR`: a new socket id, if one is free.
    pub fn create(&mut self) -> Option<u8> {
        let id = (0..MAX_SOCKETS).find(|id| !self.open.contains_key(id))?;
        self.open.insert(id, Socket::default());
        Some(id)
    }

    /// `+USOCO`: connects socket `id` to a loopback address.
    pub async fn connect(
        &mut self,
        id: u8,
        host: &str,
        port: u16,
        events: &mpsc::UnboundedSender<Control>,
    ) -> Result<(), &'static str> {
        let socket = self.open.get_mut(&id).ok_or("no such socket")?;
        let addr: std::net::IpAddr = host.parse().map_err(|_| "not an IP address")?;
        if !addr.is_loopback() {
            return Err("the simulator only connects to loopback");
        }
        let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect((addr, port)))
            .await
            .map_err(|_| "connect timed out")?
            .map_err(|_| "connection refused")?;
        let (mut read, write) = stream.into_split();
        let events = events.clone();
        socket.writer = Some(write);
        socket.reader = Some(tokio::spawn(async move {
            let mut chunk = [0u8; 1024];
            loop {
                match read.read(&mut chunk).await {
                    Ok(0) | Err(_) => {
                        let _ = events.send(Control::SocketClosed { socket: id });
                        return;
                    }
                    Ok(n) => {
                        let _ = events.send(Control::SocketData {
                            socket: id,
                            bytes: chunk[..n].to_vec(),
                        });
                    }
                }
            }
        }));
        Ok(())
    }

    /// `+USOWR`: writes to socket `id`.
    pub async fn write(&mut self, id: u8, bytes: &[u8]) -> Result<(), &'static str> {
        let writer = self
            .open
            .get_mut(&id)
            .and_then(|s| s.writer.as_mut())
            .ok_or("socket not connected")?;
        writer.write_all(bytes).await.map_err(|_| "write failed")
    }

    /// Data arrived on `id`; the total now waiting.
    pub fn arrived(&mut self, id: u8, bytes: &[u8]) -> Option<usize> {
        let socket = self.open.get_mut(&id)?;
        socket.pending.extend_from_slice(bytes);
        Some(socket.pending.len())
    }

    /// `+USORD`: takes up to `max` waiting bytes.
    pub fn read(&mut self, id: u8, max: usize) -> Option<Vec<u8>> {
        let socket = self.open.get_mut(&id)?;
        let n = socket.pending.len().min(max);
        Some(socket.pending.drain(..n).collect())
    }

    /// The peer closed `id`: no more writes; what waits can still be read.
    pub fn peer_closed(&mut self, id: u8) -> bool {
        match self.open.get_mut(&id) {
            Some(socket) => {
                socket.writer = None;
                true
            }
            None => false,
        }
    }

    /// `+USOCL`, or the network going away: closes `id`.
    pub fn close(&mut self, id: u8) -> bool {
        match self.open.remove(&id) {
            Some(socket) => {
                if let Some(reader) = socket.reader {
                    reader.abort();
                }
                true
            }
            None => false,
        }
    }

    /// The ids of every open socket.
    pub fn ids(&self) -> Vec<u8> {
        let mut ids: Vec<u8> = self.open.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}
