//! Device ingest load generator, hologram-python style: one TCP connection
//! per message. Each message: connect, write one csrpsk frame
//! `{"k": KEY, "m": "\u0001agnostic-0.9.1", "t": ["bench"], "d": "msg-N"}\r\r`,
//! read the reply until the server closes, check it is `[0,0]`. The ack
//! latency is connect start to reply complete (EOF).
//!
//! Bounded: `--duration` (at most 600 s) and/or `--count`; loopback targets
//! only. Prints one JSON object on stdout.
//!
//! Several nodes: `--addr A,B,C` (or `--addr` repeated) sends message N to
//! address N mod 3, so the load is spread evenly over the nodes of a cluster;
//! `acked_per_addr` in the output says how many each acknowledged.
//!
//! Ephemeral ports: the server closes first, so TIME_WAIT sits on the server
//! side and the client's ports are free again at once. Should the client
//! still run out of ports, `--source-ips N` spreads connections over
//! 127.0.0.1 ..= 127.0.0.N (bind before connect, with
//! `IP_BIND_ADDRESS_NO_PORT` so the port is still chosen per 4-tuple).
//! SO_LINGER 0 is deliberately never used: an abortive close can drop the
//! reply.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use thingstead_bench::{percentile, require_loopback};
use thingstead_proto::device::{DeviceFrame, DeviceKey, MessageFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::time::{Instant, timeout};

/// Longest run accepted, in seconds.
const MAX_DURATION_S: f64 = 600.0;
/// Largest reply kept; a correct one is five bytes.
const MAX_REPLY: usize = 4096;

#[derive(Parser, Debug)]
#[command(about = "One-connection-per-message load generator for the device TCP protocol")]
struct Args {
    /// Device TCP address(es) (loopback only); several, comma-separated or
    /// repeated, are used round-robin per message.
    #[arg(long, required = true, value_delimiter = ',')]
    addr: Vec<SocketAddr>,
    /// The device key (8 characters).
    #[arg(long)]
    key: String,
    /// Concurrent simulated devices (connections in flight).
    #[arg(long, short = 'c', default_value_t = 1)]
    concurrency: usize,
    /// Stop starting new messages after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Stop after this many messages in total.
    #[arg(long)]
    count: Option<u64>,
    /// Per-message timeout (connect to reply complete), in ms.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Spread client source addresses over 127.0.0.1 ..= 127.0.0.N.
    #[arg(long, default_value_t = 1)]
    source_ips: u8,
    /// Tokio worker threads of the generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A label copied into the JSON output.
    #[arg(long, default_value = "")]
    label: String,
    /// Topic sent with every message.
    #[arg(long, default_value = "bench")]
    topic: String,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// Acknowledged messages per target (index into `--addr`).
    acked_per_addr: Vec<u64>,
    errors: BTreeMap<&'static str, u64>,
    bad_replies: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for addr in &args.addr {
        require_loopback(*addr)?;
    }
    anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    anyhow::ensure!(args.threads >= 1, "--threads must be at least 1");
    anyhow::ensure!(
        args.source_ips >= 1 && args.source_ips <= 254,
        "--source-ips must be 1..=254"
    );
    let duration = match (args.duration, args.count) {
        (None, None) => anyhow::bail!("give --duration SECS and/or --count N"),
        (Some(d), _) if !(d > 0.0 && d <= MAX_DURATION_S) => {
            anyhow::bail!("--duration must be in (0, {MAX_DURATION_S}] seconds")
        }
        (d, _) => Duration::from_secs_f64(d.unwrap_or(MAX_DURATION_S)),
    };
    let key = DeviceKey::parse(&args.key).map_err(|_| anyhow::anyhow!("--key is not a device key"))?;
    let topic = args
        .topic
        .parse()
        .map_err(|_| anyhow::anyhow!("--topic is not a valid topic"))?;
    let template = MessageFrame {
        key,
        metadata: Some("\u{1}agnostic-0.9.1".into()),
        topics: vec![topic],
        data: String::new(),
        idempotency_key: None,
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()?;
    let args = Arc::new(args);
    let next = Arc::new(AtomicU64::new(0));
    let (tallies, elapsed) = rt.block_on(async {
        let start = Instant::now();
        let deadline = start + duration;
        let workers: Vec<_> = (0..args.concurrency)
            .map(|_| {
                let args = args.clone();
                let next = next.clone();
                let template = template.clone();
                tokio::spawn(worker(args, next, template, deadline))
            })
            .collect();
        let mut tallies = Vec::with_capacity(workers.len());
        for w in workers {
            tallies.push(w.await.context("worker panicked")?);
        }
        anyhow::Ok((tallies, start.elapsed()))
    })?;

    let mut latencies: Vec<u32> = Vec::new();
    let mut errors: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut bad_replies: Vec<String> = Vec::new();
    let mut acked_per_addr = vec![0u64; args.addr.len()];
    for t in tallies {
        latencies.extend(t.latencies_us);
        for (total, n) in acked_per_addr.iter_mut().zip(&t.acked_per_addr) {
            *total += n;
        }
        for (k, v) in t.errors {
            *errors.entry(k).or_default() += v;
        }
        for r in t.bad_replies {
            if bad_replies.len() < 5 && !bad_replies.contains(&r) {
                bad_replies.push(r);
            }
        }
    }
    latencies.sort_unstable();
    let acked = latencies.len() as u64;
    let error_total: u64 = errors.values().sum();
    let secs = elapsed.as_secs_f64();
    let ms = |p: f64| percentile(&latencies, p).map(|us| f64::from(us) / 1000.0);
    let out = serde_json::json!({
        "label": args.label,
        "addr": args.addr.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        "nodes": args.addr.len(),
        "acked_per_addr": acked_per_addr,
        "concurrency": args.concurrency,
        "threads": args.threads,
        "source_ips": args.source_ips,
        "elapsed_s": secs,
        "attempted": acked + error_total,
        "acked": acked,
        "msgs_per_s": acked as f64 / secs,
        "p50_ms": ms(50.0),
        "p99_ms": ms(99.0),
        "max_ms": ms(100.0),
        "errors": error_total,
        "error_kinds": errors,
        "bad_reply_samples": bad_replies,
    });
    println!("{out}");
    Ok(())
}

async fn worker(args: Arc<Args>, next: Arc<AtomicU64>, template: MessageFrame, deadline: Instant) -> Tally {
    let mut tally = Tally {
        acked_per_addr: vec![0; args.addr.len()],
        ..Tally::default()
    };
    let per_message = Duration::from_millis(args.timeout_ms);
    let mut reply = Vec::with_capacity(16);
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        if args.count.is_some_and(|c| n >= c) {
            break;
        }
        let mut frame = template.clone();
        frame.data = format!("msg-{n}");
        let bytes = DeviceFrame::Message(frame).encode();
        let source =
            (args.source_ips > 1).then(|| Ipv4Addr::new(127, 0, 0, 1 + (n % u64::from(args.source_ips)) as u8));
        let target = (n % args.addr.len() as u64) as usize;
        reply.clear();
        let started = Instant::now();
        match timeout(per_message, one_message(args.addr[target], source, &bytes, &mut reply)).await {
            Err(_) => *tally.errors.entry("timeout").or_default() += 1,
            Ok(Err(stage)) => *tally.errors.entry(stage).or_default() += 1,
            Ok(Ok(())) if reply == b"[0,0]" => {
                let us = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                tally.latencies_us.push(us);
                tally.acked_per_addr[target] += 1;
            }
            Ok(Ok(())) => {
                *tally.errors.entry("bad_reply").or_default() += 1;
                if tally.bad_replies.len() < 5 {
                    tally.bad_replies.push(String::from_utf8_lossy(&reply).into_owned());
                }
            }
        }
    }
    tally
}

/// One connection, one frame, the whole reply; `Err` names the failing stage.
async fn one_message(
    addr: SocketAddr,
    source: Option<Ipv4Addr>,
    frame: &[u8],
    reply: &mut Vec<u8>,
) -> Result<(), &'static str> {
    let socket = TcpSocket::new_v4().map_err(|_| "socket")?;
    if let Some(ip) = source {
        bind_no_port(&socket, ip).map_err(|_| "bind")?;
    }
    let mut stream = socket.connect(addr).await.map_err(|_| "connect")?;
    let _ = stream.set_nodelay(true);
    stream.write_all(frame).await.map_err(|_| "write")?;
    let mut chunk = [0u8; 64];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => return Ok(()),
            Ok(n) if reply.len() + n <= MAX_REPLY => reply.extend_from_slice(&chunk[..n]),
            Ok(_) => return Err("reply_too_long"),
            Err(_) => return Err("read"),
        }
    }
}

/// Binds the source address only; the port is picked at connect time per
/// 4-tuple (`IP_BIND_ADDRESS_NO_PORT`), so binding does not shrink the
/// ephemeral port space.
fn bind_no_port(socket: &TcpSocket, ip: Ipv4Addr) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket fd and a pointer to a live c_int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    socket.bind(SocketAddr::V4(SocketAddrV4::new(ip, 0)))
}
