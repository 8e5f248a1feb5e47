//! The baseline for broadcast fan-out (issue 8 item 11): a bare socketioxide
//! server speaking the same wire as Thingstead's realtime face (WIRE.md B.4,
//! B.7) and nothing else.
//!
//! - `/socket.io/`: Engine.IO 4 over websocket (polling too, as the library
//!   serves it). `42["subscribe",[ids]]` joins one room per id and answers
//!   `42["subscribed",[ids]]`. The handler is registered in a connect
//!   middleware, so it is in place before `40` goes out (STACK.md).
//! - `POST /api/networks/current/broadcasts` with `{"channel","name","payload"}`
//!   emits `42["broadcast",{"id","channel","name","payload"}]` to the room and
//!   answers `[]` at once (no response collection).
//!
//! No authentication (any token, or none, is accepted), no bus, no storage.
//! The library's defaults unless a flag says otherwise, so the same binary is
//! the test bed for the per-connection memory knobs.
//!
//! Writes `{"http": "ADDR"}` to `--ready-file` (and stdout) once listening;
//! runs until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::routing::post;
use clap::Parser;
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef};
use socketioxide::handler::ConnectHandler;
use thingstead_bench::require_loopback;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser, Debug)]
#[command(about = "Bare socketioxide broadcast server: the fan-out baseline")]
struct Args {
    /// Listen address (loopback only; port 0 = ephemeral).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Write {"http": ADDR} here once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Tokio worker threads (default: one per core, like the real server).
    #[arg(long)]
    threads: Option<usize>,
    /// Engine.IO packets queued per connection before an emit fails
    /// (library default 128).
    #[arg(long)]
    max_buffer_size: Option<usize>,
    /// Websocket read buffer per connection, bytes (library default 4096).
    #[arg(long)]
    ws_read_buffer_size: Option<usize>,
    /// Server PING interval, seconds (library default 25).
    #[arg(long)]
    ping_interval_secs: Option<u64>,
    /// Serve websocket only (no polling transport).
    #[arg(long)]
    websocket_only: bool,
    /// Copy each request's URI and headers out of hyper's read buffer before
    /// socketioxide sees them (detaches them from the 8 KiB buffer).
    #[arg(long)]
    own_request_parts: bool,
}

#[derive(Deserialize)]
struct BroadcastBody {
    channel: String,
    name: String,
    #[serde(default)]
    payload: Value,
}

#[derive(Clone)]
struct AppState {
    io: SocketIo,
    next_id: Arc<AtomicU64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_loopback(args.addr)?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n);
    }
    rt.enable_all().build()?.block_on(serve(args))
}

/// Registers `subscribe` before the library sends `40`, so a client's first
/// event cannot arrive before its handler.
async fn register_handlers(socket: SocketRef) -> Result<(), std::convert::Infallible> {
    socket.on(
        "subscribe",
        |socket: SocketRef, Data(ids): Data<Vec<String>>| async move {
            socket.join(ids.clone());
            // A `Vec` goes out as one argument: `["subscribed",[ids]]`.
            let _ = socket.emit("subscribed", &ids);
        },
    );
    Ok(())
}

async fn on_connect(_socket: SocketRef) {}

async fn broadcast(State(state): State<AppState>, body: axum::Json<BroadcastBody>) -> (StatusCode, axum::Json<Value>) {
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    let BroadcastBody { channel, name, payload } = body.0;
    let event = json!({ "id": id.to_string(), "channel": channel, "name": name, "payload": payload });
    // Sockets whose queue is full are skipped by the library (their error is
    // reported here and ignored, as a counted drop would be).
    let _ = state.io.to(channel).emit("broadcast", &event).await;
    (StatusCode::OK, axum::Json(json!([])))
}

/// hyper parses the URI and header values as slices of the connection's
/// 8 KiB read buffer, and engineioxide keeps the request's parts for the
/// whole session (`Socket::req_parts`): every websocket then pins that
/// buffer. Owned copies of the URI and headers let it go after the upgrade.
async fn own_request_parts(req: Request) -> Request {
    let (mut parts, body) = req.into_parts();
    let mut headers = HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            headers.append(name.clone(), value);
        }
    }
    parts.headers = headers;
    if let Ok(uri) = Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let mut builder = SocketIo::builder();
    if let Some(n) = args.max_buffer_size {
        builder = builder.max_buffer_size(n);
    }
    if let Some(n) = args.ws_read_buffer_size {
        builder = builder.ws_read_buffer_size(n);
    }
    if let Some(secs) = args.ping_interval_secs {
        builder = builder.ping_interval(Duration::from_secs(secs));
    }
    if args.websocket_only {
        builder = builder.transports([socketioxide::TransportType::Websocket]);
    }
    let (layer, io) = builder.build_layer();
    io.ns("/", on_connect.with(register_handlers));

    let state = AppState {
        io,
        next_id: Arc::new(AtomicU64::new(1)),
    };
    let mut app = Router::new()
        .route("/api/networks/current/broadcasts", post(broadcast))
        .with_state(state)
        .layer(layer);
    if args.own_request_parts {
        app = app.layer(axum::middleware::map_request(own_request_parts));
    }

    // The same accept backlog as `thingstead serve` (4096).
    let socket = if args.addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(args.addr)?;
    let listener = socket.listen(4096)?;
    let ready = json!({ "http": listener.local_addr()?.to_string() }).to_string();
    if let Some(path) = &args.ready_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &ready)?;
        std::fs::rename(&tmp, path)?;
    }
    println!("{ready}");

    let mut term = signal(SignalKind::terminate())?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await?;
    Ok(())
}
