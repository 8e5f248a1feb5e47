//! One Engine.IO 4 websocket connection, from OPEN to close, in ONE task:
//! it reads the client's packets, writes its queue, and keeps the
//! heartbeat with one timer. Nothing else is allocated per connection but
//! the websocket's buffers, the queue and the session.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use thingstead_proto::engineio::{Packet, SocketIoPacket};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::hub::{Frame, Hub, Member};
use crate::realtime::RealtimeState;
use crate::realtime::connect::{self, Session};
use crate::realtime::subscribe;

/// Frames written before one flush, when several are queued.
const WRITE_BATCH: usize = 16;

/// Why a connection ended (logged at debug level).
#[derive(Debug)]
enum End {
    ClientLeft,
    PingTimeout,
    WriteTimeout,
    Protocol(&'static str),
    Refused,
    ServerClosing,
    Io,
}

/// A connection's websocket.
type Ws<S> = WebSocketStream<S>;

/// Serves one upgraded connection. `query_token` is the `token` query
/// parameter of the upgrade request, if any.
pub(super) async fn run<S>(mut ws: Ws<S>, state: RealtimeState, hub: Arc<Hub>, query_token: Option<String>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let end = serve(&mut ws, &state, &hub, query_token).await;
    tracing::debug!(?end, "engine.io 4 websocket connection ended");
    let close = match end {
        End::ServerClosing => Some(CloseFrame {
            code: CloseCode::Away,
            reason: "server shutting down".into(),
        }),
        End::Protocol(why) => Some(CloseFrame {
            code: CloseCode::Policy,
            reason: why.into(),
        }),
        _ => None,
    };
    let goodbye = async {
        let _ = ws.close(close).await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), goodbye).await;
}

async fn serve<S>(ws: &mut Ws<S>, state: &RealtimeState, hub: &Hub, query_token: Option<String>) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let settings = &state.settings;
    let write_timeout = Duration::from_millis(settings.ping_timeout_ms.max(1));
    let open = json!({
        "sid": crate::realtime::eio4::new_sid(),
        "upgrades": [],
        "pingInterval": settings.ping_interval_ms,
        "pingTimeout": settings.ping_timeout_ms,
        "maxPayload": crate::realtime::engine_max_payload(settings),
    });
    if let Err(end) = write_one(ws, Packet::Open(open.to_string()).encode(), write_timeout).await {
        return end;
    }

    // The socket.io CONNECT, within the connect timeout.
    let deadline = Instant::now() + Duration::from_millis(settings.connect_timeout_ms);
    let auth = match tokio::time::timeout_at(deadline, read_packet(ws)).await {
        Err(_) => return End::Protocol("no socket.io CONNECT in time"),
        Ok(Err(end)) => return end,
        Ok(Ok(Packet::Message(data))) => match SocketIoPacket::parse(&data) {
            Ok(SocketIoPacket::Connect(auth)) => auth.map(Value::Object),
            Ok(_) => return End::Protocol("expected a socket.io CONNECT"),
            Err(_) => {
                let refusal = SocketIoPacket::connect_error("Invalid namespace")
                    .to_engineio()
                    .encode();
                let _ = write_one(ws, refusal, write_timeout).await;
                return End::Refused;
            }
        },
        Ok(Ok(Packet::Close)) => return End::ClientLeft,
        Ok(Ok(_)) => return End::Protocol("expected a socket.io CONNECT"),
    };
    let token = connect::auth_token(auth.as_ref()).or(query_token);
    let session = match connect::admit(state, None, token).await {
        Ok(session) => session,
        Err(refused) => {
            let refusal = SocketIoPacket::connect_error(refused.to_string())
                .to_engineio()
                .encode();
            let _ = write_one(ws, refusal, write_timeout).await;
            return End::Refused;
        }
    };

    let (tx, mut rx) = mpsc::channel::<Frame>(settings.queue_packets.max(1));
    let Some(mut member) = hub.enter(tx) else {
        return End::ServerClosing;
    };
    let connected = SocketIoPacket::connected(&crate::realtime::eio4::new_sid())
        .to_engineio()
        .encode();
    if let Err(end) = write_one(ws, connected, write_timeout).await {
        return end;
    }
    established(ws, state, &session, &mut member, &mut rx, write_timeout).await
}

/// The connected phase: queue → socket, socket → `subscribe`, heartbeat.
async fn established<S>(
    ws: &mut Ws<S>,
    state: &RealtimeState,
    session: &Session,
    member: &mut Member<'_>,
    rx: &mut mpsc::Receiver<Frame>,
    write_timeout: Duration,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let interval = Duration::from_millis(state.settings.ping_interval_ms.max(1));
    let pong_within = Duration::from_millis(state.settings.ping_timeout_ms.max(1));
    // One timer: the next PING while no PONG is owed, the PONG's deadline
    // while one is.
    let timer = tokio::time::sleep(interval);
    tokio::pin!(timer);
    let mut owed_pong = false;
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(frame) = frame else { return End::ServerClosing };
                if let Err(end) = write_queued(ws, frame, rx, write_timeout).await {
                    return end;
                }
            }
            inbound = ws.next() => {
                let packet = match inbound {
                    None => return End::ClientLeft,
                    Some(Err(_)) => return End::Io,
                    Some(Ok(Message::Text(text))) => match Packet::parse(text.as_str()) {
                        Ok(packet) => packet,
                        Err(_) => return End::Protocol("not an engine.io packet"),
                    },
                    Some(Ok(Message::Close(_))) => return End::ClientLeft,
                    Some(Ok(Message::Binary(_))) => return End::Protocol("binary packets are not supported"),
                    Some(Ok(_)) => continue, // websocket ping/pong: tungstenite answers
                };
                match packet {
                    Packet::Pong(_) if owed_pong => {
                        owed_pong = false;
                        timer.as_mut().reset(Instant::now() + interval);
                    }
                    Packet::Close => return End::ClientLeft,
                    Packet::Message(data) => match SocketIoPacket::parse(&data) {
                        Ok(SocketIoPacket::Event { name, args, ack }) if name == "subscribe" => {
                            let args = Value::Array(args);
                            let granted = subscribe::grant(state, &session.principal, args, member.rooms());
                            member.join(granted.join);
                            // `subscribed` as on every transport; an ack too when asked for.
                            let accepted = json!(granted.accepted);
                            let mut answer = SocketIoPacket::event("subscribed", vec![accepted.clone()]).to_engineio().encode();
                            if let Some(id) = ack {
                                let ack = SocketIoPacket::Ack { id, args: vec![accepted] };
                                if let Err(end) = write_one(ws, ack.to_engineio().encode(), write_timeout).await {
                                    return end;
                                }
                            }
                            if let Err(end) = write_one(ws, std::mem::take(&mut answer), write_timeout).await {
                                return end;
                            }
                        }
                        Ok(SocketIoPacket::Disconnect) => return End::ClientLeft,
                        Ok(_) => {} // other events are not ours to answer
                        Err(_) => return End::Protocol("not a socket.io packet"),
                    },
                    _ => {}
                }
            }
            () = &mut timer => {
                if owed_pong {
                    return End::PingTimeout;
                }
                if let Err(end) = write_one(ws, Packet::Ping(String::new()).encode(), write_timeout).await {
                    return end;
                }
                owed_pong = true;
                timer.as_mut().reset(Instant::now() + pong_within);
            }
        }
    }
}

/// Writes `first` and whatever else is queued (up to [`WRITE_BATCH`]),
/// then flushes once. A client that does not take them within
/// `write_timeout` is closed.
async fn write_queued<S>(
    ws: &mut Ws<S>,
    first: Frame,
    rx: &mut mpsc::Receiver<Frame>,
    write_timeout: Duration,
) -> Result<(), End>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let write = async {
        ws.feed(Message::Text(first)).await?;
        for _ in 1..WRITE_BATCH {
            match rx.try_recv() {
                Ok(frame) => ws.feed(Message::Text(frame)).await?,
                Err(_) => break,
            }
        }
        ws.flush().await
    };
    bounded(write, write_timeout).await
}

/// Runs a write, closing the connection (`WriteTimeout`) when the client
/// does not take it within `limit`. The timer is armed only when the write
/// cannot finish at once (the socket buffer is full): most writes finish
/// in their first poll, and a timer per delivery would cost every
/// connection a timer-wheel entry per broadcast.
async fn bounded<F>(write: F, limit: Duration) -> Result<(), End>
where
    F: std::future::Future<Output = Result<(), tokio_tungstenite::tungstenite::Error>>,
{
    tokio::pin!(write);
    let result = match futures::poll!(write.as_mut()) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => match tokio::time::timeout(limit, write).await {
            Ok(result) => result,
            Err(_) => return Err(End::WriteTimeout),
        },
    };
    result.map_err(|_| End::Io)
}

/// Writes one packet now.
async fn write_one<S>(ws: &mut Ws<S>, text: String, write_timeout: Duration) -> Result<(), End>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    bounded(ws.send(Message::Text(text.into())), write_timeout).await
}

/// The next Engine.IO packet of the client (before CONNECT).
async fn read_packet<S>(ws: &mut Ws<S>) -> Result<Packet, End>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match ws.next().await {
            None => return Err(End::ClientLeft),
            Some(Err(_)) => return Err(End::Io),
            Some(Ok(Message::Text(text))) => {
                return Packet::parse(text.as_str()).map_err(|_| End::Protocol("not an engine.io packet"));
            }
            Some(Ok(Message::Close(_))) => return Err(End::ClientLeft),
            Some(Ok(Message::Binary(_))) => return Err(End::Protocol("binary packets are not supported")),
            Some(Ok(_)) => continue,
        }
    }
}
