//! Broadcast fan-out load generator (issue 8 item 11).
//!
//! Opens `--connections` websocket clients speaking Engine.IO 4 / Socket.IO 5
//! as WIRE.md B.7 says (`/socket.io/?EIO=4&transport=websocket&token=T`,
//! `0{..}`, `40` → `40{sid}`, `42["subscribe",[id]]` → `42["subscribed",..]`,
//! PING `2` answered with `3`), all subscribed to one channel, and then:
//!
//! 1. **Idle memory.** The server's VmRSS (`/proc/PID/status`) before the
//!    first connection and after every client is subscribed and idle for
//!    `--settle-ms`: KiB per idle connection.
//! 2. **Latency** (paced): `--broadcasts` broadcasts posted one at a time
//!    (`POST /api/networks/current/broadcasts?timeout=0`), each carrying its
//!    send time taken just before the POST; the next one goes out when every
//!    listener has received the previous one. Latency is receipt time minus
//!    send time, over every (broadcast, listener) pair; "last" is the time
//!    until the slowest listener of each broadcast had it.
//! 3. **Throughput**: `--burst` broadcasts posted as fast as `P` concurrent
//!    posters can (for each `P` in `--posters`), timed until every listener
//!    has every one of them: broadcasts/s (and deliveries/s = that × N).
//! 4. **A stalled subscriber.** One more client, with a 4 KiB receive buffer,
//!    subscribes to the channel and to a second one that only it listens to,
//!    then stops reading its socket. `--filler` 16 KiB broadcasts on the
//!    second channel fill its socket buffers and its server-side queue; then
//!    run 2 is repeated with it present. Afterwards its socket is drained to
//!    show what the server kept for it (dropped, or closed it).
//!
//! Prints one JSON line. Loopback only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use thingstead_bench::{percentile, require_loopback};
use thingstead_proto::channel::ChannelId;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

type Ws = WebSocketStream<TcpStream>;

/// Bound on every single step of a client's handshake.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// Size of each filler broadcast sent to the stalled client's own channel.
const FILLER_BYTES: usize = 16 * 1024;
/// Broadcasts before the measured runs, not reported.
const WARMUP: usize = 5;

#[derive(Parser, Debug)]
#[command(about = "Broadcast fan-out load generator (socket.io over websocket)")]
struct Args {
    /// The server's HTTP address (socket.io and the broadcasts API).
    #[arg(long)]
    http: SocketAddr,
    /// The server's process id, for its RSS.
    #[arg(long)]
    pid: Option<u32>,
    /// Bearer token for the POSTs and the `token` query of every socket.
    #[arg(long, default_value = "bench")]
    token: String,
    /// Organization of the channel ids (`["ORG","fanout",0,0]`).
    #[arg(long, default_value = "bench")]
    org: String,
    /// Subscribed listeners.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Broadcasts per paced latency run.
    #[arg(long, default_value_t = 100)]
    broadcasts: usize,
    /// Broadcasts per throughput run.
    #[arg(long, default_value_t = 100)]
    burst: usize,
    /// Concurrent posters of the throughput runs, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    posters: Vec<usize>,
    /// Padding in each broadcast's payload, bytes.
    #[arg(long, default_value_t = 256)]
    payload_bytes: usize,
    /// Skip the stalled-subscriber run.
    #[arg(long)]
    no_stall: bool,
    /// 16 KiB filler broadcasts sent to the stalled subscriber alone (the
    /// default, 8 MiB, is more than loopback's largest socket buffers, 4 MiB).
    #[arg(long, default_value_t = 512)]
    filler: usize,
    /// Idle time after the last subscription before the RSS is read, ms.
    #[arg(long, default_value_t = 3000)]
    settle_ms: u64,
    /// Handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// Spread client source addresses over 127.0.0.1..=N.
    #[arg(long, default_value_t = 1)]
    source_ips: u8,
    /// Longest wait for one broadcast to reach every listener, ms.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Tokio worker threads of the generator (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// A label copied into the JSON output.
    #[arg(long, default_value = "")]
    label: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_loopback(args.http)?;
    anyhow::ensure!(args.connections >= 1, "--connections must be at least 1");
    anyhow::ensure!(
        args.source_ips >= 1 && args.source_ips <= 254,
        "--source-ips must be 1..=254"
    );
    anyhow::ensure!(args.posters.iter().all(|&p| p >= 1), "--posters must be at least 1");
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n);
    }
    let out = rt.enable_all().build()?.block_on(run(args))?;
    println!("{out}");
    Ok(())
}

/// Microseconds since this process's first call; every timestamp compared
/// comes from this one clock.
fn now_us() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// VmRSS of a process in KiB.
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Deliveries per broadcast sequence number, and a wake-up for the one
/// waiter when a broadcast has reached every live listener.
struct Tally {
    delivered: Vec<AtomicU32>,
    alive: AtomicUsize,
    done: Notify,
}

impl Tally {
    fn hit(&self, seq: usize) {
        if let Some(c) = self.delivered.get(seq) {
            let n = c.fetch_add(1, Ordering::AcqRel) as usize + 1;
            if n >= self.alive.load(Ordering::Acquire) {
                self.done.notify_one();
            }
        }
    }

    fn gone(&self) {
        self.alive.fetch_sub(1, Ordering::AcqRel);
        self.done.notify_one();
    }

    /// Waits until `seq` has reached every live listener; the deliveries
    /// missing at the deadline otherwise.
    async fn wait_all(&self, seq: usize, deadline: tokio::time::Instant) -> usize {
        loop {
            let got = self.delivered[seq].load(Ordering::Acquire) as usize;
            let want = self.alive.load(Ordering::Acquire);
            if got >= want {
                return 0;
            }
            if tokio::time::timeout_at(deadline, self.done.notified()).await.is_err() {
                return want.saturating_sub(self.delivered[seq].load(Ordering::Acquire) as usize);
            }
        }
    }
}

/// What one listener saw: (sequence number, latency in µs) per broadcast.
struct Samples {
    got: Vec<(u32, u32)>,
    closed_early: bool,
}

/// Finds `"key":<digits>` in a frame; enough for the fields this generator writes.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits: &str = &text[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

async fn connect_tcp(http: SocketAddr, source: Option<Ipv4Addr>, rcvbuf: Option<u32>) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        bind_no_port(&socket, ip)?;
        socket.bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
    }
    if let Some(n) = rcvbuf {
        socket.set_recv_buffer_size(n)?;
    }
    let tcp = timeout(STEP_TIMEOUT, socket.connect(http))
        .await
        .context("connect timed out")??;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// Lets the kernel pick the source port per 4-tuple (`IP_BIND_ADDRESS_NO_PORT`).
fn bind_no_port(socket: &TcpSocket, _ip: Ipv4Addr) -> std::io::Result<()> {
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
    Ok(())
}

/// Next text frame, answering PINGs on the way.
async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        let msg = timeout(STEP_TIMEOUT, ws.next()).await.context("read timed out")?;
        match msg {
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => ws.send(Message::text("3")).await?,
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => bail!("closed by the server"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// Connects and subscribes one client to `channels` (WIRE.md B.7).
async fn open_subscribed(
    http: SocketAddr,
    source: Option<Ipv4Addr>,
    token: &str,
    channels: &[String],
    rcvbuf: Option<u32>,
) -> anyhow::Result<Ws> {
    let tcp = connect_tcp(http, source, rcvbuf).await?;
    let url = format!("ws://{http}/socket.io/?EIO=4&transport=websocket&token={token}");
    // Small buffers: ten thousand clients share this process.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) = timeout(STEP_TIMEOUT, client_async_with_config(url, tcp, Some(config)))
        .await
        .context("websocket upgrade timed out")??;
    let open = next_text(&mut ws).await?;
    anyhow::ensure!(open.starts_with('0'), "expected the OPEN packet, got {open:.80}");
    ws.send(Message::text("40")).await?;
    loop {
        let t = next_text(&mut ws).await?;
        if t.starts_with("40") {
            break;
        }
        anyhow::ensure!(!t.starts_with("44"), "connect refused: {t:.200}");
    }
    ws.send(Message::text(format!("42{}", json!(["subscribe", channels]))))
        .await?;
    loop {
        let t = next_text(&mut ws).await?;
        if t.starts_with("42[\"subscribed\"") {
            return Ok(ws);
        }
    }
}

/// Reads broadcasts until told to stop; records each one's latency.
async fn listen(mut ws: Ws, tally: Arc<Tally>, mut stop: watch::Receiver<bool>) -> Samples {
    let mut got = Vec::new();
    let mut closed_early = false;
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if t == "2" {
                        if ws.send(Message::text("3")).await.is_err() {
                            closed_early = true;
                            break;
                        }
                    } else if t.starts_with("42[\"broadcast\"") {
                        let now = now_us();
                        if let (Some(seq), Some(sent)) = (number_after(t, "\"bench_seq\":"), number_after(t, "\"bench_t\":")) {
                            got.push((seq as u32, now.saturating_sub(sent).min(u64::from(u32::MAX)) as u32));
                            tally.hit(seq as usize);
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    closed_early = true;
                    break;
                }
                Some(Ok(_)) => {}
            }
        }
    }
    if closed_early {
        tally.gone();
    } else {
        let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
    }
    Samples { got, closed_early }
}

struct Poster {
    client: reqwest::Client,
    url: String,
    token: String,
    errors: AtomicUsize,
}

impl Poster {
    /// One broadcast; its send time is taken just before the POST.
    async fn post(&self, channel: &str, seq: usize, pad: &str) {
        let body = json!({
            "channel": channel,
            "name": "bench",
            "payload": { "bench_seq": seq, "bench_t": now_us(), "pad": pad },
        });
        let ok = match self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
        {
            Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
            Err(_) => false,
        };
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// p50/p99/max in ms of latencies (µs) of the broadcasts in `seqs`, over
/// every (broadcast, listener) pair, and over each broadcast's last listener.
fn summarize(all: &[Samples], seqs: std::ops::Range<usize>, missing: usize) -> Value {
    let mut lat: Vec<u32> = Vec::new();
    let mut last = vec![0u32; seqs.len()];
    for s in all {
        for &(seq, us) in &s.got {
            let seq = seq as usize;
            if seqs.contains(&seq) {
                lat.push(us);
                let l = &mut last[seq - seqs.start];
                *l = (*l).max(us);
            }
        }
    }
    lat.sort_unstable();
    last.sort_unstable();
    let ms = |v: &[u32], p: f64| percentile(v, p).map(|us| (f64::from(us) / 10.0).round() / 100.0);
    json!({
        "broadcasts": seqs.len(),
        "deliveries": lat.len(),
        "missing": missing,
        "p50_ms": ms(&lat, 50.0),
        "p99_ms": ms(&lat, 99.0),
        "max_ms": ms(&lat, 100.0),
        "last_p50_ms": ms(&last, 50.0),
        "last_p99_ms": ms(&last, 99.0),
    })
}

async fn run(args: Args) -> anyhow::Result<Value> {
    now_us();
    let channel = ChannelId::new(&args.org, "fanout", false, false).encode();
    let stall_channel = ChannelId::new(&args.org, "fanout-stall", false, false).encode();
    let pad = "x".repeat(args.payload_bytes);
    let filler_pad = "f".repeat(FILLER_BYTES);
    let runs_total = WARMUP + 2 * args.broadcasts + args.posters.len() * args.burst;
    let tally = Arc::new(Tally {
        delivered: (0..runs_total).map(|_| AtomicU32::new(0)).collect(),
        alive: AtomicUsize::new(0),
        done: Notify::new(),
    });
    let per_broadcast = Duration::from_millis(args.timeout_ms);
    let source = |i: usize| {
        (args.source_ips > 1).then(|| Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(args.source_ips)) as u8))
    };

    // 1. Idle memory.
    let rss_before = rss_kib(args.pid);
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let started = Instant::now();
    let mut handshakes = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let gate = gate.clone();
        let token = args.token.clone();
        let channels = vec![channel.clone()];
        let http = args.http;
        let src = source(i);
        handshakes.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            open_subscribed(http, src, &token, &channels, None)
                .await
                .map_err(|e| e.to_string())
                .ok()
        }));
    }
    let mut listeners = Vec::with_capacity(args.connections);
    let mut connect_errors = 0usize;
    for h in handshakes {
        match h.await.ok().flatten() {
            Some(ws) => {
                tally.alive.fetch_add(1, Ordering::AcqRel);
                listeners.push(ws);
            }
            None => connect_errors += 1,
        }
    }
    let connect_s = started.elapsed().as_secs_f64();
    let connected = listeners.len();
    if connected == 0 {
        bail!("no client could connect and subscribe ({connect_errors} errors)");
    }
    let tasks: Vec<_> = listeners
        .into_iter()
        .map(|ws| tokio::spawn(listen(ws, tally.clone(), stop_rx.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(args.settle_ms)).await;
    let rss_idle = rss_kib(args.pid);

    let poster = Arc::new(Poster {
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
        url: format!("http://{}/api/networks/current/broadcasts?timeout=0", args.http),
        token: args.token.clone(),
        errors: AtomicUsize::new(0),
    });

    // 2. Latency, paced; warm-up first.
    let mut seq = 0usize;
    let paced = |from: usize, count: usize| {
        let poster = poster.clone();
        let tally = tally.clone();
        let channel = channel.clone();
        let pad = pad.clone();
        async move {
            let mut missing = 0;
            for s in from..from + count {
                poster.post(&channel, s, &pad).await;
                missing += tally.wait_all(s, tokio::time::Instant::now() + per_broadcast).await;
            }
            missing
        }
    };
    paced(seq, WARMUP).await;
    seq += WARMUP;
    let plain_range = seq..seq + args.broadcasts;
    let plain_missing = paced(seq, args.broadcasts).await;
    seq += args.broadcasts;

    // 3. Throughput.
    let mut burst_runs = Vec::new();
    for &posters in &args.posters {
        let range = seq..seq + args.burst;
        seq += args.burst;
        let next = Arc::new(AtomicUsize::new(range.start));
        let t0 = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..posters {
            let (poster, next, channel, pad, end) =
                (poster.clone(), next.clone(), channel.clone(), pad.clone(), range.end);
            workers.push(tokio::spawn(async move {
                loop {
                    let s = next.fetch_add(1, Ordering::Relaxed);
                    if s >= end {
                        break;
                    }
                    poster.post(&channel, s, &pad).await;
                }
            }));
        }
        for w in workers {
            let _ = w.await;
        }
        let posted_s = t0.elapsed().as_secs_f64();
        let deadline = tokio::time::Instant::now() + per_broadcast;
        let mut missing = 0;
        for s in range.clone() {
            missing += tally.wait_all(s, deadline).await;
        }
        let secs = t0.elapsed().as_secs_f64();
        burst_runs.push((posters, range, missing, posted_s, secs));
    }

    // 4. The same paced run with a stalled subscriber present.
    let mut stall = Value::Null;
    let mut stalled_range = seq..seq;
    let mut stalled_missing = 0;
    if !args.no_stall {
        let channels = vec![channel.clone(), stall_channel.clone()];
        let mut stalled = open_subscribed(args.http, source(0), &args.token, &channels, Some(4096)).await?;
        let t0 = Instant::now();
        for i in 0..args.filler {
            poster.post(&stall_channel, usize::MAX - i, &filler_pad).await;
        }
        let filler_s = t0.elapsed().as_secs_f64();
        stalled_range = seq..seq + args.broadcasts;
        stalled_missing = paced(seq, args.broadcasts).await;
        seq += args.broadcasts;
        // What did the server keep for it? Drain until 2 s of silence.
        let (mut fillers, mut bench, mut closed) = (0usize, 0usize, false);
        loop {
            match timeout(Duration::from_secs(2), stalled.next()).await {
                Err(_) => break,
                Ok(Some(Ok(Message::Text(t)))) => {
                    let t = t.as_str();
                    if !t.starts_with("42[\"broadcast\"") {
                        continue;
                    }
                    if t.contains(&stall_channel) {
                        fillers += 1;
                    } else if number_after(t, "\"bench_seq\":").is_some_and(|s| stalled_range.contains(&(s as usize))) {
                        bench += 1;
                    }
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    closed = true;
                    break;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
        stall = json!({
            "filler_sent": args.filler,
            "filler_bytes": FILLER_BYTES,
            "filler_post_s": filler_s,
            "filler_received": fillers,
            "broadcasts_sent": args.broadcasts,
            "broadcasts_received": bench,
            "closed_by_server": closed,
        });
    }
    let _ = seq;
    let rss_end = rss_kib(args.pid);

    let _ = stop_tx.send(true);
    let mut all = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Ok(s) = t.await {
            all.push(s);
        }
    }
    let closed_early = all.iter().filter(|s| s.closed_early).count();

    let per_conn = |after: Option<u64>| match (rss_before, after) {
        (Some(b), Some(a)) => Some(((a as f64 - b as f64) / connected as f64 * 10.0).round() / 10.0),
        _ => None,
    };
    let throughput: Vec<Value> = burst_runs
        .into_iter()
        .map(|(posters, range, missing, posted_s, secs)| {
            let n = range.len() as f64;
            let mut v = summarize(&all, range, missing);
            v["posters"] = json!(posters);
            v["posts_per_s"] = json!((n / posted_s).round());
            v["broadcasts_per_s"] = json!((n / secs).round());
            v["deliveries_per_s"] = json!((n * connected as f64 / secs).round());
            v
        })
        .collect();
    let mut stalled_latency = summarize(&all, stalled_range, stalled_missing);
    stalled_latency["stalled"] = stall;
    Ok(json!({
        "label": args.label,
        "connections": args.connections,
        "connected": connected,
        "connect_errors": connect_errors,
        "closed_early": closed_early,
        "connect_s": (connect_s * 100.0).round() / 100.0,
        "payload_bytes": args.payload_bytes,
        "rss_before_kib": rss_before,
        "rss_idle_kib": rss_idle,
        "idle_kib_per_conn": per_conn(rss_idle),
        "rss_end_kib": rss_end,
        "end_kib_per_conn": per_conn(rss_end),
        "latency": summarize(&all, plain_range, plain_missing),
        "latency_with_stalled": if args.no_stall { Value::Null } else { stalled_latency },
        "throughput": throughput,
        "post_errors": poster.errors.load(Ordering::Relaxed),
        "loadavg": std::fs::read_to_string("/proc/loadavg").ok().map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
    }))
}
