//! The ceiling for device ingest: an acknowledge-only TCP server with the
//! device protocol's framing and nothing else. Per connection it reads until
//! a whole frame is there (the codec's own [`check`], 64 KiB limit), replies
//! `[0,0]`, shuts the write side down and closes, as the real server does;
//! no parsing (unless `--parse`), no authentication, no storage.
//!
//! Writes `{"device_tcp": "ADDR"}` to `--ready-file` (and stdout) once
//! listening; runs until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use thingstead_bench::require_loopback;
use thingstead_proto::device::{DEFAULT_MAX_FRAME, DeviceFrame, check};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, timeout, timeout_at};

/// Same bounds as the real server's defaults.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Parser, Debug)]
#[command(about = "Acknowledge-only device TCP server: the ingest ceiling")]
struct Args {
    /// Listen address (loopback only; port 0 = ephemeral).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Write {"device_tcp": ADDR} here once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Tokio worker threads (default: one per core, like the real server).
    #[arg(long)]
    threads: Option<usize>,
    /// Also parse the frame (JSON) before acknowledging.
    #[arg(long)]
    parse: bool,
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

async fn serve(args: Args) -> anyhow::Result<()> {
    // The same accept backlog as `thingstead serve` (4096), so both face the same kernel queue.
    let socket = if args.addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(args.addr)?;
    let listener: TcpListener = socket.listen(4096)?;
    let ready = serde_json::json!({ "device_tcp": listener.local_addr()?.to_string() }).to_string();
    if let Some(path) = &args.ready_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &ready)?;
        std::fs::rename(&tmp, path)?;
    }
    println!("{ready}");
    let mut term = signal(SignalKind::terminate())?;
    let parse = args.parse;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(handle(stream, parse));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
    Ok(())
}

async fn handle(mut stream: TcpStream, parse: bool) {
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + IDLE_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = vec![0u8; 16 * 1024];
    let len = loop {
        match check(&buf, DEFAULT_MAX_FRAME) {
            Ok(Some(len)) => break len,
            Err(_) => break buf.len(),
            Ok(None) => {}
        }
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) if buf.is_empty() => return,
            Ok(Ok(0)) => break buf.len(),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) | Err(_) => return,
        }
    };
    let reply: &[u8] = if !parse || DeviceFrame::parse(&buf[..len]).is_ok() {
        b"[0,0]"
    } else {
        b"[2,0]"
    };
    let _ = timeout(WRITE_TIMEOUT, async {
        stream.write_all(reply).await?;
        stream.shutdown().await
    })
    .await;
}
