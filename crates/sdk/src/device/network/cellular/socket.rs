//! TCP sockets through the modem (u-blox `+USOCR`, `+USOCO`, `+USOWR`,
//! `+USORD`, `+USOCL`, in hex mode): the device's traffic carried by the
//! modem's own IP stack.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use thingstead_proto::at::{Arg, Command};
use tokio::sync::Notify;

use super::{Cellular, CellularError};
use crate::device::modem::AtEngineError;

/// The most bytes one `+USOWR`/`+USORD` carries (the manual's limit in hex mode).
const MAX_CHUNK: usize = 512;

#[derive(Debug, Default)]
struct SocketState {
    waiting: usize,
    closed: bool,
}

#[derive(Debug)]
struct Entry {
    state: Mutex<SocketState>,
    notify: Notify,
}

/// The modem's open sockets, as the unsolicited codes report them.
#[derive(Debug, Default)]
pub(super) struct Registry {
    sockets: Mutex<HashMap<u8, Arc<Entry>>>,
}

impl Registry {
    fn map(&self) -> MutexGuard<'_, HashMap<u8, Arc<Entry>>> {
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, id: u8) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            state: Mutex::new(SocketState::default()),
            notify: Notify::new(),
        });
        self.map().insert(id, entry.clone());
        entry
    }

    pub(super) fn remove(&self, id: u8) {
        if let Some(entry) = self.map().remove(&id) {
            entry.close();
        }
    }

    pub(super) fn ids(&self) -> Vec<u8> {
        self.map().keys().copied().collect()
    }

    pub(super) fn data_waiting(&self, id: u8, length: usize) {
        if let Some(entry) = self.map().get(&id) {
            entry.lock().waiting = length;
            entry.notify.notify_waiters();
            entry.notify.notify_one();
        }
    }

    pub(super) fn peer_closed(&self, id: u8) {
        if let Some(entry) = self.map().get(&id) {
            entry.close();
        }
    }

    pub(super) fn close_all(&self) {
        for (_, entry) in self.map().drain() {
            entry.close();
        }
    }
}

impl Entry {
    fn lock(&self) -> MutexGuard<'_, SocketState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
        self.notify.notify_one();
    }
}

/// A TCP connection through the modem.
#[derive(Debug)]
pub struct ModemSocket {
    modem: Cellular,
    id: u8,
    entry: Arc<Entry>,
}

pub(super) async fn connect(modem: &Cellular, host: IpAddr, port: u16) -> Result<ModemSocket, CellularError> {
    let timeout = modem.options.network_timeout;
    let created = modem
        .engine
        .run(Command::set("+USOCR", vec![Arg::Int(6)]), timeout)
        .await?;
    let id = created
        .info("+USOCR")
        .and_then(|i| i.int(0))
        .and_then(|id| u8::try_from(id).ok())
        .ok_or_else(|| CellularError::Unexpected("+USOCR without a socket id".into()))?;
    let entry = modem.shared.sockets.add(id);
    let socket = ModemSocket {
        modem: modem.clone(),
        id,
        entry,
    };
    let connect = Command::set(
        "+USOCO",
        vec![
            Arg::Int(i64::from(id)),
            Arg::Str(host.to_string()),
            Arg::Int(i64::from(port)),
        ],
    );
    if let Err(e) = modem.engine.run(connect, timeout).await {
        let _ = socket.close().await;
        return Err(e.into());
    }
    Ok(socket)
}

impl ModemSocket {
    /// The modem's id of this socket.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// Writes all of `bytes`.
    pub async fn write_all(&self, bytes: &[u8]) -> Result<(), CellularError> {
        for chunk in bytes.chunks(MAX_CHUNK) {
            let command = Command::set(
                "+USOWR",
                vec![
                    Arg::Int(i64::from(self.id)),
                    Arg::Int(chunk.len() as i64),
                    Arg::Str(hex::encode_upper(chunk)),
                ],
            );
            self.modem
                .engine
                .run(command, self.modem.options.network_timeout)
                .await?;
        }
        Ok(())
    }

    /// Reads what has arrived, waiting at most `timeout` for something;
    /// an empty result means the peer closed the connection.
    pub async fn read(&self, timeout: Duration) -> Result<Vec<u8>, CellularError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.entry.notify.notified();
            let (waiting, closed) = {
                let state = self.entry.lock();
                (state.waiting, state.closed)
            };
            if waiting > 0 || closed {
                let bytes = self.fetch(waiting.clamp(1, MAX_CHUNK)).await?;
                if !bytes.is_empty() || closed {
                    return Ok(bytes);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(AtEngineError::Timeout {
                    command: format!("a read on socket {}", self.id),
                    timeout,
                }
                .into());
            }
        }
    }

    /// `+USORD`: up to `max` waiting bytes.
    async fn fetch(&self, max: usize) -> Result<Vec<u8>, CellularError> {
        let command = Command::set("+USORD", vec![Arg::Int(i64::from(self.id)), Arg::Int(max as i64)]);
        let answer = match self.modem.run(command).await {
            Ok(answer) => answer,
            // A socket the modem already dropped has nothing more.
            Err(_) if self.entry.lock().closed => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let info = answer
            .info("+USORD")
            .ok_or_else(|| CellularError::Unexpected("+USORD without data".into()))?;
        let data = info.str(2).unwrap_or_default();
        let bytes = hex::decode(data).map_err(|_| CellularError::Unexpected("+USORD data is not hex".into()))?;
        let mut state = self.entry.lock();
        state.waiting = state.waiting.saturating_sub(bytes.len());
        Ok(bytes)
    }

    /// Closes the connection (`+USOCL`).
    pub async fn close(self) -> Result<(), CellularError> {
        let was_open = !self.entry.lock().closed;
        self.modem.shared.sockets.remove(self.id);
        if was_open {
            self.modem
                .run(Command::set("+USOCL", vec![Arg::Int(i64::from(self.id))]))
                .await?;
        }
        Ok(())
    }
}

/// One exchange with the server through a modem socket (see
/// [`Network::carry`](crate::device::Network::carry)). `host` is an IP
/// address or a name the device's resolver knows.
pub(super) async fn exchange(
    modem: &Cellular,
    host: &str,
    port: u16,
    frame: &[u8],
    timeouts: crate::device::Timeouts,
) -> Result<Vec<u8>, CellularError> {
    let ip = match host.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .map(|a| a.ip())
            .ok_or_else(|| CellularError::Unexpected(format!("cannot resolve {host}")))?,
    };
    let socket = tokio::time::timeout(timeouts.connect, connect(modem, ip, port))
        .await
        .map_err(|_| CellularError::Unexpected(format!("connecting to {host}:{port} through the modem timed out")))??;
    let written = match tokio::time::timeout(timeouts.write, socket.write_all(frame)).await {
        Ok(written) => written,
        Err(_) => Err(CellularError::Unexpected("writing through the modem timed out".into())),
    };
    if let Err(e) = written {
        let _ = socket.close().await;
        return Err(e);
    }
    // The reply: until the server closes, the most a reply may be, or the deadline.
    let deadline = tokio::time::Instant::now() + timeouts.read;
    let mut reply = Vec::new();
    while reply.len() < crate::device::transport::MAX_REPLY {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.read(left).await {
            Ok(chunk) if chunk.is_empty() => break,
            Ok(chunk) => reply.extend(chunk),
            Err(_) => break,
        }
    }
    reply.truncate(crate::device::transport::MAX_REPLY);
    let _ = socket.close().await;
    Ok(reply)
}
