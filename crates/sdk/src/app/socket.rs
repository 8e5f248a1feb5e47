//! The realtime connection: one websocket per instance speaking Engine.IO 4
//! (WIRE.md B.7), reconnecting with backoff, re-authenticating and
//! resubscribing every channel with listeners.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use thingstead_proto::engineio::{Packet, SocketIoPacket};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::error::{Error, Result};
use super::realtime::Realtime;

/// The first pause before reconnecting.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between two connection attempts.
pub const MAX_RECONNECT_BACKOFF: Duration = Duration::from_secs(5);
/// The time limit of the websocket handshake and of the socket.io connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Silence tolerated when the server announced no ping timings.
const DEFAULT_SILENCE: Duration = Duration::from_secs(45);
/// The largest websocket message accepted from the server.
const MAX_MESSAGE: usize = 16 << 20;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs until the instance stops.
pub(crate) async fn run(rt: Arc<Realtime>, mut subscribe_rx: mpsc::Receiver<String>) {
    let mut stopped = rt.session.stopped_signal();
    let mut backoff = FIRST_BACKOFF;
    let mut refresh_first = false;
    loop {
        if rt.session.is_stopped() {
            return;
        }
        let outcome = tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            o = connection(&rt, &mut subscribe_rx, refresh_first) => o,
        };
        let was_connected = rt.connected.load(Ordering::Relaxed);
        rt.disconnected();
        match outcome {
            Ok(()) => tracing::debug!("app SDK: realtime connection closed"),
            Err(Refused(e)) => {
                tracing::debug!("app SDK: realtime connection refused, re-authenticating: {e}");
                refresh_first = true;
            }
            Err(Failed(e)) => tracing::debug!("app SDK: realtime connection failed: {e}"),
        }
        if was_connected {
            backoff = FIRST_BACKOFF;
        }
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_RECONNECT_BACKOFF);
    }
}

/// Why a connection ended badly.
enum Ended {
    /// The server refused the token: refresh it before the next attempt.
    Refused(String),
    /// Anything else.
    Failed(Error),
}
use Ended::{Failed, Refused};

impl From<Error> for Ended {
    fn from(e: Error) -> Self {
        Failed(e)
    }
}

/// One connection, from the handshake until it ends.
async fn connection(
    rt: &Realtime,
    subscribe_rx: &mut mpsc::Receiver<String>,
    refresh_first: bool,
) -> Result<(), Ended> {
    let session = &rt.session;
    let mut auth = session.auth().await?;
    if refresh_first {
        auth = session.refresh(&auth.token).await?;
    }
    let url = socket_url(session.http.host(), &auth.token)?;
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (mut ws, _) = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_tls_with_config(
            url,
            Some(config),
            false,
            Some(tokio_tungstenite::Connector::Rustls(session.http.tls().clone())),
        ),
    )
    .await
    .map_err(|_| Error::Network("websocket handshake timed out".into()))?
    .map_err(|e| match e {
        tokio_tungstenite::tungstenite::Error::Http(r) if r.status().as_u16() == 401 => Refused("HTTP 401".into()),
        e => Failed(Error::network(e)),
    })?;

    // OPEN, then our CONNECT, then the server's CONNECT answer.
    let silence = match tokio::time::timeout(CONNECT_TIMEOUT, next_packet(&mut ws)).await {
        Ok(Ok(Some(Packet::Open(json)))) => silence_of(&json),
        Ok(Ok(other)) => return Err(Failed(Error::Network(format!("expected OPEN, got {other:?}")))),
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Err(Failed(Error::Network("no OPEN packet".into()))),
    };
    send(&mut ws, &SocketIoPacket::Connect(None).to_engineio()).await?;
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        let packet = tokio::time::timeout_at(deadline, next_packet(&mut ws))
            .await
            .map_err(|_| Error::Network("no socket.io CONNECT answer".into()))??;
        match packet {
            Some(Packet::Ping(data)) => send(&mut ws, &Packet::Pong(data)).await?,
            Some(Packet::Message(text)) => match SocketIoPacket::parse(&text) {
                Ok(SocketIoPacket::Connect(_)) => break,
                Ok(SocketIoPacket::ConnectError { message }) => return Err(Refused(message)),
                _ => {}
            },
            None | Some(Packet::Close) => return Err(Failed(Error::Network("closed during connect".into()))),
            Some(_) => {}
        }
    }
    rt.connected.store(true, Ordering::Relaxed);
    let channels = rt.channels();
    if !channels.is_empty() {
        send(&mut ws, &subscribe(channels)).await?;
    }
    let mut auth_changes = session.auth_changes();
    auth_changes.mark_unchanged();
    loop {
        tokio::select! {
            packet = tokio::time::timeout(silence, next_packet(&mut ws)) => {
                let packet = packet.map_err(|_| Error::Network("the server went silent".into()))??;
                match packet {
                    Some(Packet::Ping(data)) => send(&mut ws, &Packet::Pong(data)).await?,
                    Some(Packet::Message(text)) => match SocketIoPacket::parse(&text) {
                        Ok(SocketIoPacket::Event { name, args, .. }) => event(rt, &name, &args),
                        Ok(SocketIoPacket::Disconnect) => return Ok(()),
                        Ok(_) => {}
                        Err(e) => tracing::debug!("app SDK: unreadable socket.io packet: {e}"),
                    },
                    None | Some(Packet::Close) => return Ok(()),
                    Some(_) => {}
                }
            }
            id = subscribe_rx.recv() => {
                let Some(id) = id else { return Ok(()) };
                let mut ids = vec![id];
                while let Ok(more) = subscribe_rx.try_recv() {
                    ids.push(more);
                }
                send(&mut ws, &subscribe(ids)).await?;
            }
            changed = auth_changes.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                // A new auth payload: reconnect with the new token.
                let _ = ws.close(None).await;
                return Ok(());
            }
        }
    }
}

fn event(rt: &Realtime, name: &str, args: &[Value]) {
    match (name, args.first()) {
        ("subscribed", Some(ids)) => rt.confirm(ids),
        ("broadcast", Some(b)) => rt.deliver(b),
        _ => {}
    }
}

fn subscribe(ids: Vec<String>) -> Packet {
    SocketIoPacket::event("subscribe", vec![json!(ids)]).to_engineio()
}

/// The next Engine.IO packet; `None` when the socket closed.
async fn next_packet(ws: &mut Ws) -> Result<Option<Packet>> {
    loop {
        match ws.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(Error::network(e)),
            Some(Ok(Message::Text(text))) => {
                return Packet::parse(text.as_str())
                    .map(Some)
                    .map_err(|e| Error::Network(format!("bad Engine.IO packet: {e}")));
            }
            Some(Ok(Message::Close(_))) => return Ok(None),
            Some(Ok(_)) => {}
        }
    }
}

async fn send(ws: &mut Ws, packet: &Packet) -> Result<()> {
    tokio::time::timeout(CONNECT_TIMEOUT, ws.send(Message::text(packet.encode())))
        .await
        .map_err(|_| Error::Network("websocket write timed out".into()))?
        .map_err(Error::network)
}

/// How long the server may stay silent: its ping interval plus its ping
/// timeout (from the OPEN packet), plus a margin.
fn silence_of(open: &str) -> Duration {
    let v: Value = serde_json::from_str(open).unwrap_or(Value::Null);
    match (v["pingInterval"].as_u64(), v["pingTimeout"].as_u64()) {
        (Some(i), Some(t)) => Duration::from_millis(i + t) + Duration::from_secs(1),
        _ => DEFAULT_SILENCE,
    }
}

/// `ws://host/socket.io/?EIO=4&transport=websocket&token=TOKEN`, or
/// `wss://` for an `https://` host.
fn socket_url(host: &str, token: &str) -> Result<String> {
    let (scheme, rest) = if let Some(rest) = host.strip_prefix("http://") {
        ("ws", rest)
    } else if let Some(rest) = host.strip_prefix("https://") {
        ("wss", rest)
    } else {
        return Err(Error::Runtime(format!("not an http URL: {host}")));
    };
    Ok(format!(
        "{scheme}://{rest}/socket.io/?EIO=4&transport=websocket&token={}",
        super::http::quote_path(token)
    ))
}
