//! Event latency across nodes: how long after a device sends a message does
//! a subscriber of the message stream see it, when the device talks to node
//! A and the subscriber listens on node B (or on A itself: the single-node
//! baseline).
//!
//! The subscriber is `GET /api/1/csr/rdm/stream?apikey=KEY` on `--stream`
//! (`text/event-stream`, one `event: message` per stored message, `data:`
//! one item of `GET /api/1/csr/rdm`). The sender sends `--count` messages to
//! `--addr` at `--rate` per second, hologram-style (one TCP connection per
//! message), each with payload `lat:RUN:SEQ:UNIX_US`: its send time, taken
//! just before the frame is written. A message's latency is its receipt on
//! the stream (same host, same clock) minus that send time; `after_ack` is
//! its receipt minus its `[0,0]` reply, which bounds commit-to-delivery from
//! above (the reply leaves after the commit).
//!
//! Before measuring, probe messages are sent until one comes back on the
//! stream, so the subscription is known to be live on the bus. Messages of
//! other runs (other RUN) are ignored. Bounded: count ≤ 100 000, every
//! connection, reply and the final drain have timeouts, at most 256 sends
//! in flight. Loopback only. Prints one JSON object on stdout.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use serde_json::Value;
use thingstead_bench::{base64_decode, percentile, require_loopback};
use thingstead_proto::device::{DeviceFrame, DeviceKey, MessageFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{Instant, MissedTickBehavior, timeout};

/// Most messages one run sends.
const MAX_COUNT: u64 = 100_000;
/// Sends in flight at once; past it the schedule waits.
const IN_FLIGHT: usize = 256;
/// Largest response head, and largest pending stream data, accepted.
const MAX_HEAD: usize = 16 * 1024;
const MAX_PENDING: usize = 1024 * 1024;
/// How long to wait for the subscription to show a probe.
const PROBE_WINDOW: Duration = Duration::from_secs(15);

#[derive(Parser, Debug)]
#[command(about = "Send-to-subscriber latency of the message stream, across nodes")]
struct Args {
    /// Device TCP address of the node the messages go to (node A).
    #[arg(long)]
    addr: SocketAddr,
    /// HTTP address of the node whose stream is read (node B; A for the baseline).
    #[arg(long)]
    stream: SocketAddr,
    /// API key of the organization (for the stream).
    #[arg(long)]
    apikey: String,
    /// Device key of a device of that organization.
    #[arg(long)]
    key: String,
    /// Messages measured.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Messages per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Per-send timeout (connect to reply) and the wait for the last events, in ms.
    #[arg(long, default_value_t = 5_000)]
    timeout_ms: u64,
    /// A label copied into the JSON output.
    #[arg(long, default_value = "")]
    label: String,
}

/// Times of one message, in µs since the epoch.
#[derive(Clone, Copy, Default)]
struct Times {
    sent: Option<u64>,
    acked: Option<u64>,
    received: Option<u64>,
}

type Book = Arc<Mutex<Vec<Times>>>;

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    require_loopback(args.addr)?;
    require_loopback(args.stream)?;
    anyhow::ensure!(
        args.count >= 1 && args.count <= MAX_COUNT,
        "--count must be 1..={MAX_COUNT}"
    );
    anyhow::ensure!(args.rate > 0.0 && args.rate <= 10_000.0, "--rate must be in (0, 10000]");
    anyhow::ensure!(
        args.apikey
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "--apikey has characters an API key does not"
    );
    let key = DeviceKey::parse(&args.key).map_err(|_| anyhow::anyhow!("--key is not a device key"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let out = rt.block_on(measure(&args, key))?;
    println!("{out}");
    Ok(())
}

async fn measure(args: &Args, key: DeviceKey) -> anyhow::Result<Value> {
    let run = format!("{:x}", now_us() ^ u64::from(std::process::id()));
    let per_send = Duration::from_millis(args.timeout_ms);
    let template = MessageFrame {
        key,
        metadata: Some("\u{1}agnostic-0.9.1".into()),
        topics: vec!["latency".parse().map_err(|_| anyhow::anyhow!("topic"))?],
        data: String::new(),
        idempotency_key: None,
    };

    // The subscriber: every `lat:RUN:SEQ:US` payload of this run, with its receipt time.
    let (events_tx, mut events) = mpsc::channel::<(i64, u64)>(4096);
    let reader = tokio::spawn(subscribe(args.stream, args.apikey.clone(), run.clone(), events_tx));

    // Probes (SEQ < 0) until one is seen: the subscription is live end to end.
    let probe_deadline = Instant::now() + PROBE_WINDOW;
    let mut probes = 0i64;
    let probe_ok = loop {
        anyhow::ensure!(
            Instant::now() < probe_deadline,
            "no probe came back on the stream within {PROBE_WINDOW:?} (is GET /api/1/csr/rdm/stream served?)"
        );
        anyhow::ensure!(!reader.is_finished(), "the stream ended: {}", ended(reader).await);
        probes += 1;
        let _ = send(args.addr, &template, &run, -probes, per_send).await;
        let wait = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(wait);
        let mut seen = false;
        loop {
            tokio::select! {
                e = events.recv() => match e {
                    Some((seq, _)) if seq < 0 => { seen = true; }
                    Some(_) => {}
                    None => break,
                },
                () = &mut wait => break,
            }
        }
        if seen {
            break probes;
        }
    };

    // The measured messages, on a fixed schedule.
    let book: Book = Arc::new(Mutex::new(vec![Times::default(); args.count as usize]));
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let started = Instant::now();
    let mut duplicates = 0u64;
    let mut errors: HashMap<&'static str, u64> = HashMap::new();
    let (done_tx, mut done) = mpsc::channel::<Result<(), &'static str>>(IN_FLIGHT);
    let record = |book: &Book, seq: i64, received: u64, duplicates: &mut u64| {
        if let Ok(mut b) = book.lock()
            && let Some(t) = usize::try_from(seq).ok().and_then(|i| b.get_mut(i))
        {
            if t.received.is_some() {
                *duplicates += 1;
            } else {
                t.received = Some(received);
            }
        }
    };
    for seq in 0..args.count {
        // Receipts and finished sends are taken in while waiting for the next tick.
        loop {
            tokio::select! {
                biased;
                Some((s, at)) = events.recv() => record(&book, s, at, &mut duplicates),
                Some(r) = done.recv() => if let Err(stage) = r { *errors.entry(stage).or_default() += 1 },
                _ = tick.tick() => break,
            }
        }
        let permit = slots.clone().acquire_owned().await.context("semaphore")?;
        let (book, template, run, done_tx, addr) =
            (book.clone(), template.clone(), run.clone(), done_tx.clone(), args.addr);
        tokio::spawn(async move {
            let r = send_measured(addr, &template, &run, seq, per_send, &book).await;
            let _ = done_tx.send(r).await;
            drop(permit);
        });
    }
    let send_secs = started.elapsed().as_secs_f64();
    drop(done_tx);

    // Drain: every send finished, then the stream until everything arrived or the timeout.
    let drain_deadline = Instant::now() + per_send * 2;
    let mut sending = true;
    loop {
        let complete = book.lock().map_or(true, |b| b.iter().all(|t| t.received.is_some()));
        if complete && !sending {
            break;
        }
        tokio::select! {
            Some((s, at)) = events.recv() => record(&book, s, at, &mut duplicates),
            r = done.recv(), if sending => match r {
                Some(Err(stage)) => *errors.entry(stage).or_default() += 1,
                Some(Ok(())) => {}
                None => sending = false,
            },
            () = tokio::time::sleep_until(drain_deadline) => break,
        }
    }
    reader.abort();

    let times = book.lock().map_err(|_| anyhow::anyhow!("book poisoned"))?.clone();
    let mut latency = Vec::new();
    let mut ack = Vec::new();
    let mut after_ack = Vec::new();
    let (mut acked, mut received, mut lost_acked) = (0u64, 0u64, 0u64);
    for t in &times {
        if let (Some(s), Some(a)) = (t.sent, t.acked) {
            acked += 1;
            ack.push(micros(a.saturating_sub(s)));
        }
        match (t.sent, t.acked, t.received) {
            (Some(s), _, Some(r)) => {
                received += 1;
                latency.push(micros(r.saturating_sub(s)));
                if let Some(a) = t.acked {
                    // A receipt may beat its reply to the sender; count those as 0.
                    after_ack.push(micros(r.saturating_sub(a)));
                }
            }
            (Some(_), Some(_), None) => lost_acked += 1,
            _ => {}
        }
    }
    for v in [&mut latency, &mut ack, &mut after_ack] {
        v.sort_unstable();
    }
    let ms = |v: &[u32], p: f64| percentile(v, p).map(|us| f64::from(us) / 1000.0);
    let error_total: u64 = errors.values().sum();
    Ok(serde_json::json!({
        "label": args.label,
        "addr": args.addr.to_string(),
        "stream": args.stream.to_string(),
        "count": args.count,
        "rate": args.rate,
        "send_s": send_secs,
        "probes": probe_ok,
        "acked": acked,
        "received": received,
        "lost_acked": lost_acked,
        "duplicates": duplicates,
        "errors": error_total,
        "error_kinds": errors,
        "p50_ms": ms(&latency, 50.0),
        "p99_ms": ms(&latency, 99.0),
        "max_ms": ms(&latency, 100.0),
        "ack_p50_ms": ms(&ack, 50.0),
        "ack_p99_ms": ms(&ack, 99.0),
        "after_ack_p50_ms": ms(&after_ack, 50.0),
        "after_ack_p99_ms": ms(&after_ack, 99.0),
    }))
}

fn micros(us: u64) -> u32 {
    us.min(u64::from(u32::MAX)) as u32
}

async fn ended(reader: tokio::task::JoinHandle<anyhow::Result<()>>) -> String {
    match reader.await {
        Ok(Ok(())) => "the server closed it".into(),
        Ok(Err(e)) => format!("{e:#}"),
        Err(e) => e.to_string(),
    }
}

/// Sends message `seq` and notes its send and reply times.
async fn send_measured(
    addr: SocketAddr,
    template: &MessageFrame,
    run: &str,
    seq: u64,
    per_send: Duration,
    book: &Book,
) -> Result<(), &'static str> {
    let seq_i = i64::try_from(seq).map_err(|_| "seq")?;
    let (sent, result) = send(addr, template, run, seq_i, per_send).await;
    let acked = result.is_ok().then(now_us);
    if let Ok(mut b) = book.lock()
        && let Some(t) = b.get_mut(seq as usize)
    {
        t.sent = Some(sent);
        t.acked = acked;
    }
    result
}

/// One message, one connection; returns its send time and whether `[0,0]` came back.
async fn send(
    addr: SocketAddr,
    template: &MessageFrame,
    run: &str,
    seq: i64,
    per_send: Duration,
) -> (u64, Result<(), &'static str>) {
    let connect = timeout(per_send, TcpStream::connect(addr)).await;
    let mut stream = match connect {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return (now_us(), Err("connect")),
        Err(_) => return (now_us(), Err("timeout")),
    };
    let _ = stream.set_nodelay(true);
    let sent = now_us();
    let mut frame = template.clone();
    frame.data = format!("lat:{run}:{seq}:{sent}");
    let bytes = DeviceFrame::Message(frame).encode();
    let exchange = async {
        stream.write_all(&bytes).await.map_err(|_| "write")?;
        let mut reply = Vec::with_capacity(8);
        let mut chunk = [0u8; 64];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) if reply.len() + n <= 64 => reply.extend_from_slice(&chunk[..n]),
                Ok(_) => return Err("reply_too_long"),
                Err(_) => return Err("read"),
            }
        }
        if reply == b"[0,0]" { Ok(()) } else { Err("bad_reply") }
    };
    match timeout(per_send, exchange).await {
        Ok(r) => (sent, r),
        Err(_) => (sent, Err("timeout")),
    }
}

/// Reads the message stream of `http` and forwards `(seq, receipt µs)` of this run's payloads.
async fn subscribe(
    http: SocketAddr,
    apikey: String,
    run: String,
    events: mpsc::Sender<(i64, u64)>,
) -> anyhow::Result<()> {
    let mut stream = timeout(Duration::from_secs(5), TcpStream::connect(http))
        .await
        .context("connect to the stream timed out")?
        .context("connect to the stream")?;
    let _ = stream.set_nodelay(true);
    let request = format!(
        "GET /api/1/csr/rdm/stream?apikey={apikey} HTTP/1.1\r\nHost: {http}\r\nAccept: text/event-stream\r\n\
         Cache-Control: no-cache\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;

    // The response head.
    let mut raw = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        anyhow::ensure!(raw.len() <= MAX_HEAD, "response head over {MAX_HEAD} bytes");
        let n = timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .context("no response head within 10 s")??;
        anyhow::ensure!(n > 0, "the server closed before answering");
        raw.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = head.lines().next().unwrap_or_default().to_string();
    anyhow::ensure!(status.contains(" 200"), "the stream answered `{status}`");
    anyhow::ensure!(
        head.contains("text/event-stream"),
        "the stream is not text/event-stream:\n{head}"
    );
    let chunked = head.contains("transfer-encoding: chunked");
    raw.drain(..head_end);

    let mut body = Vec::new();
    let mut sse = SseParser::default();
    loop {
        if chunked {
            dechunk(&mut raw, &mut body)?;
        } else {
            body.append(&mut raw);
        }
        let at = now_us();
        for data in sse.feed(&mut body) {
            if let Some(seq) = seq_of(&data, &run)
                && events.send((seq, at)).await.is_err()
            {
                return Ok(());
            }
        }
        anyhow::ensure!(raw.len() + body.len() <= MAX_PENDING, "stream data piles up unparsed");
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        raw.extend_from_slice(&chunk[..n]);
    }
}

/// Moves every complete chunk of HTTP/1.1 chunked encoding from `raw` to `body`.
fn dechunk(raw: &mut Vec<u8>, body: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut at = 0;
    while let Some(eol) = raw[at..].windows(2).position(|w| w == b"\r\n") {
        let line = std::str::from_utf8(&raw[at..at + eol]).context("chunk size line")?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or_default().trim(), 16)
            .with_context(|| format!("chunk size `{line}`"))?;
        let start = at + eol + 2;
        if raw.len() < start + size + 2 {
            break;
        }
        anyhow::ensure!(size > 0, "the stream ended (last chunk)");
        body.extend_from_slice(&raw[start..start + size]);
        at = start + size + 2;
    }
    raw.drain(..at);
    Ok(())
}

/// Server-sent events: the `data` of each complete `message` event.
#[derive(Default)]
struct SseParser {
    event: String,
    data: String,
}

impl SseParser {
    fn feed(&mut self, body: &mut Vec<u8>) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(nl) = body[at..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&body[at..at + nl]);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            at += nl + 1;
            if line.is_empty() {
                let event = std::mem::take(&mut self.event);
                let data = std::mem::take(&mut self.data);
                if (event.is_empty() || event == "message") && !data.is_empty() {
                    out.push(data);
                }
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.event = value.to_string(),
                "data" => {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                }
                _ => {}
            }
        }
        body.drain(..at);
        out
    }
}

/// The SEQ of a stream item whose payload is `lat:RUN:SEQ:US` of this run.
fn seq_of(data: &str, run: &str) -> Option<i64> {
    let item: Value = serde_json::from_str(data).ok()?;
    // `data` is the inner document encoded as a string (as in GET /api/1/csr/rdm), or the document itself.
    let inner: Value = match &item["data"] {
        Value::String(s) => serde_json::from_str(s).ok()?,
        v => v.clone(),
    };
    let encoded = inner["data"].as_str()?;
    let payload = base64_decode(encoded).and_then(|b| String::from_utf8(b).ok());
    let payload = payload.as_deref().unwrap_or(encoded);
    let rest = payload.strip_prefix("lat:")?.strip_prefix(run)?.strip_prefix(':')?;
    rest.split(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_sse_items_yield_their_sequence_numbers() {
        let payload = "lat:ab:7:123";
        let encoded = {
            // "lat:ab:7:123" in base64.
            "bGF0OmFiOjc6MTIz"
        };
        assert_eq!(base64_decode(encoded).unwrap(), payload.as_bytes());
        let inner = serde_json::json!({ "data": encoded }).to_string();
        let item = serde_json::json!({ "id": 1, "data": inner }).to_string();
        let event = format!("event: message\ndata: {item}\n\n: keep-alive\n\n");
        let mut raw = format!("{:x}\r\n{event}\r\n", event.len()).into_bytes();
        let mut body = Vec::new();
        // Split mid-chunk: nothing until the rest arrives.
        let tail = raw.split_off(10);
        dechunk(&mut raw, &mut body).unwrap();
        assert!(body.is_empty());
        raw.extend_from_slice(&tail);
        dechunk(&mut raw, &mut body).unwrap();
        assert!(raw.is_empty());
        let datas = SseParser::default().feed(&mut body);
        assert_eq!(datas.len(), 1);
        assert_eq!(seq_of(&datas[0], "ab"), Some(7));
        assert_eq!(seq_of(&datas[0], "other"), None);
    }
}
