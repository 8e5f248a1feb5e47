//! Things API benchmark (issue 9 item 10), four modes:
//!
//! * `put`: C HTTP/1.1 keep-alive connections (bare hyper connections,
//!   [`thingstead_bench::http1`]) doing `PUT /spaces/{s}/things/{t}/properties/temperature`
//!   with `{"temperature": N}` and a bearer token of a real OAuth2 client
//!   (client credentials grant), spread over `--things` things (made first).
//!   A 200 counts; anything else is an error.
//! * `store`: the baseline. Opens a fresh SQLite store in `--data-dir`
//!   (the server's migrations and durability: WAL, `synchronous=FULL`,
//!   the group-committing writer), makes the same things, and has C tasks
//!   call the store's own `write_properties` (one `thing_status` upsert and
//!   one `thing_history` insert per update, same rows as the server writes)
//!   with no HTTP, auth, JSON or TD validation.
//! * `fill`: with no server running, puts `--things` things with one day of
//!   1 Hz `temperature` history each (86,400 points per thing) into the
//!   store of `--data-dir`, through the store's `add_history` in batches.
//! * `history`: `GET .../properties-history?at=DAY&limit=L` of random filled
//!   things: `--walk` follows `next_cursor` through the whole day and also
//!   reports the time of a whole walk; otherwise one page per request.
//!
//! Bounded: `--duration` (at most 600 s); loopback targets only. Prints one
//! JSON object on stdout.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use thingstead_bench::{http1, percentile, require_loopback};
use thingstead_core::master_key::{MASTER_KEY_FILE, MasterKey};
use thingstead_core::store::sqlite::SqliteStore;
use thingstead_core::store::{PropertyWrite, Store, StoreLifecycle, ThingStore};
use thingstead_core::things::HistoryRow;
use thingstead_core::{Platform, now_ms};
use tokio::time::Instant;

/// The server's allocator (`thingstead` uses mimalloc), so the store
/// baseline runs on the same one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Longest run accepted, in seconds.
const MAX_DURATION_S: f64 = 600.0;
/// The history day of `fill` (2025-01-01T00:00:00Z), and its `at` period.
const DAY_START_MS: i64 = 1_735_689_600_000;
const DAY: &str = "2025-01-01";
/// Points of one thing-day at 1 Hz.
const DAY_POINTS: i64 = 86_400;
/// History rows per `add_history` call of `fill`.
const FILL_BATCH: i64 = 8_640;

#[derive(Parser, Debug)]
#[command(about = "Load generator and store baseline for the things API's property writes and history")]
struct Args {
    #[command(subcommand)]
    mode: Mode,
    /// Concurrent connections (put, history) or writers (store).
    #[arg(long, short = 'c', default_value_t = 64, global = true)]
    concurrency: usize,
    /// Seconds to run (put, store, history).
    #[arg(long, default_value_t = 10.0, global = true)]
    duration: f64,
    /// Things the load is spread over (put, store), or to fill (fill).
    #[arg(long, default_value_t = 64, global = true)]
    things: usize,
    /// Tokio worker threads of the generator.
    #[arg(long, default_value_t = 1, global = true)]
    threads: usize,
    /// A label copied into the JSON output.
    #[arg(long, default_value = "", global = true)]
    label: String,
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// PUT property values over HTTP.
    Put(HttpArgs),
    /// The store's raw write rate for the same rows (the baseline).
    Store {
        /// A fresh directory for the store.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Fill one day of 1 Hz history for `--things` things (no server running).
    Fill {
        /// The server's data directory (holds its master key).
        #[arg(long)]
        data_dir: PathBuf,
        /// The space (organization), which must exist.
        #[arg(long)]
        space: String,
    },
    /// GET a day of history of filled things.
    History {
        #[command(flatten)]
        http: HttpArgs,
        /// Items per page (1..=1000).
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// Follow `next_cursor` through the whole day.
        #[arg(long)]
        walk: bool,
    },
}

#[derive(clap::Args, Debug)]
struct HttpArgs {
    /// The server's HTTP address (loopback only).
    #[arg(long)]
    http: SocketAddr,
    /// The space (organization).
    #[arg(long)]
    space: String,
    /// OAuth2 client id (scope `thing`).
    #[arg(long)]
    client_id: String,
    /// OAuth2 client secret.
    #[arg(long)]
    client_secret: String,
    /// Per-request timeout, in ms.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Spread connections over source addresses 127.0.0.1 ..= 127.0.0.N
    /// (the server holds at most `http_limits.max_connections_per_ip`, 64 by
    /// default, per address).
    #[arg(long, default_value_t = 4)]
    source_ips: u8,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !(args.duration > 0.0 && args.duration <= MAX_DURATION_S) {
        bail!("--duration is 0 < s <= {MAX_DURATION_S}");
    }
    if args.concurrency == 0 || args.things == 0 {
        bail!("--concurrency and --things are at least 1");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let out = rt.block_on(async {
        match &args.mode {
            Mode::Put(http) => put(&args, http).await,
            Mode::Store { data_dir } => store(&args, data_dir).await,
            Mode::Fill { data_dir, space } => fill(&args, data_dir, space).await,
            Mode::History { http, limit, walk } => history(&args, http, *limit, *walk).await,
        }
    })?;
    println!("{out}");
    Ok(())
}

/// A thing description with one number property.
fn sensor(uid: &str) -> Value {
    json!({
        "uid": uid,
        "title": format!("bench sensor {uid}"),
        "@type": ["Sensor"],
        "description": "a things benchmark sensor",
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "label": {"type": "string"}
        }
    })
}

/// The n-th value written: a number in the schema's range.
fn value(n: u64) -> f64 {
    (n % 1500) as f64 / 10.0 - 50.0
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
    walks_us: Vec<u32>,
}

impl Tally {
    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.walks_us.extend(other.walks_us);
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
    }
}

fn ms(us: Option<u32>) -> Value {
    us.map_or(Value::Null, |u| json!((f64::from(u) / 10.0).round() / 100.0))
}

fn summary(args: &Args, mode: &str, mut t: Tally, elapsed: Duration) -> Value {
    t.latencies_us.sort_unstable();
    t.walks_us.sort_unstable();
    let ok = t.latencies_us.len() as f64;
    let mut v = json!({
        "label": args.label,
        "mode": mode,
        "concurrency": args.concurrency,
        "things": args.things,
        "ok": t.latencies_us.len(),
        "per_s": (ok / elapsed.as_secs_f64()).round(),
        "p50_ms": ms(percentile(&t.latencies_us, 50.0)),
        "p99_ms": ms(percentile(&t.latencies_us, 99.0)),
        "max_ms": ms(t.latencies_us.last().copied()),
        "errors": t.errors.values().sum::<u64>(),
        "error_kinds": t.errors,
        "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
    });
    if !t.walks_us.is_empty() {
        v["walks"] = json!(t.walks_us.len());
        v["walk_p50_ms"] = ms(percentile(&t.walks_us, 50.0));
        v["walk_p99_ms"] = ms(percentile(&t.walks_us, 99.0));
    }
    v
}

fn elapsed_us(start: Instant) -> u32 {
    start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32
}

/// One HTTP/1.1 client: one keep-alive connection, from source address
/// 127.0.0.(1 + n mod `source_ips`).
fn client(http: &HttpArgs, n: usize) -> anyhow::Result<reqwest::Client> {
    let ip = std::net::Ipv4Addr::new(127, 0, 0, 1 + (n % usize::from(http.source_ips.max(1))) as u8);
    Ok(reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .local_address(std::net::IpAddr::V4(ip))
        .timeout(Duration::from_millis(http.timeout_ms))
        .build()?)
}

/// A token of the OAuth2 client (client credentials grant, scope `thing`).
async fn token(http: &HttpArgs) -> anyhow::Result<String> {
    require_loopback(http.http)?;
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=thing",
        http.client_id, http.client_secret
    );
    let r = client(http, 0)?
        .post(format!("http://{}/oauth2/token", http.http))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await.context("token response")?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no access_token ({status}): {v}"))
}

fn uid(i: usize) -> String {
    format!("bench-{i:04}")
}

async fn put(args: &Args, http: &HttpArgs) -> anyhow::Result<Value> {
    let token = Arc::new(token(http).await?);
    let base = format!("http://{}/spaces/{}/things", http.http, http.space);
    let setup = client(http, 0)?;
    for i in 0..args.things {
        let r = setup
            .post(&base)
            .bearer_auth(token.as_str())
            .json(&sensor(&uid(i)))
            .send()
            .await?;
        // 409: made by an earlier run against this data dir.
        if !(r.status().is_success() || r.status() == reqwest::StatusCode::CONFLICT) {
            bail!("creating thing {}: {} {}", uid(i), r.status(), r.text().await?);
        }
    }
    drop(setup);
    let bearer = http1::bearer(&token)?;
    let mut conns = Vec::with_capacity(args.concurrency);
    for c in 0..args.concurrency {
        let timeout = Duration::from_millis(http.timeout_ms);
        conns.push(http1::Connection::open(http.http, source_ip(http, c), timeout).await?);
    }
    let cpu_start = cpu_time();
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (c, mut conn) in conns.into_iter().enumerate() {
        let path = format!(
            "/spaces/{}/things/{}/properties/temperature",
            http.space,
            uid(c % args.things)
        );
        let (bearer, next) = (bearer.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let body = Bytes::from(format!("{{\"temperature\":{}}}", value(n)));
                let start = Instant::now();
                match conn.send(Method::PUT, &path, Some(&bearer), Some(body)).await {
                    Ok(r) if r.status == StatusCode::OK => t.latencies_us.push(elapsed_us(start)),
                    Ok(r) => t.error(r.status.as_u16().to_string()),
                    Err(http1::Failure::Timeout) => t.error("timeout"),
                    Err(http1::Failure::Connection) => t.error("connection"),
                }
            }
            t
        }));
    }
    let started = Instant::now();
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await?);
    }
    let mut out = summary(args, "put", total, started.elapsed());
    if let Some(per_op) = cpu_per_op(cpu_start, &out) {
        out["generator_cpu_us_per_op"] = json!(per_op);
    }
    Ok(out)
}

/// The source address of connection `n`: 127.0.0.(1 + n mod `source_ips`).
fn source_ip(http: &HttpArgs, n: usize) -> std::net::IpAddr {
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        0,
        0,
        1 + (n % usize::from(http.source_ips.max(1))) as u8,
    ))
}

/// This process's CPU time (user + system) so far, in µs.
fn cpu_time() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: initialized by the successful call above.
    let usage = unsafe { usage.assume_init() };
    let us = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000 + t.tv_usec as u64;
    Some(us(usage.ru_utime) + us(usage.ru_stime))
}

/// The generator's CPU µs per successful request since `start`.
fn cpu_per_op(start: Option<u64>, out: &Value) -> Option<u64> {
    let ok = out["ok"].as_u64().filter(|n| *n > 0)?;
    Some((cpu_time()? - start?) / ok)
}

/// The store and platform of a data dir (its master key, made if missing).
fn open(data_dir: &std::path::Path) -> anyhow::Result<(Arc<SqliteStore>, Platform)> {
    SqliteStore::prepare_dir(data_dir)?;
    let key = MasterKey::load_or_generate(&data_dir.join(MASTER_KEY_FILE))?;
    let store = Arc::new(SqliteStore::open(data_dir, key)?);
    let bus = Arc::new(thingstead_core::bus::local::LocalBus::default());
    let platform = Platform::new(store.clone() as Arc<dyn Store>, bus);
    Ok((store, platform))
}

async fn store(args: &Args, data_dir: &std::path::Path) -> anyhow::Result<Value> {
    let (store, platform) = open(data_dir)?;
    let tenant = match platform.tenant("bench").await {
        Ok(t) => t,
        Err(_) => {
            platform.create_org("bench").await?;
            platform.tenant("bench").await?
        }
    };
    let mut bodies = Vec::new();
    for i in 0..args.things {
        if store.thing(&tenant, &uid(i)).await?.is_none() {
            platform.create_thing(&tenant, &sensor(&uid(i)), None).await?;
        }
        let thing = store.thing(&tenant, &uid(i)).await?.context("thing just made")?;
        bodies.push(thing.body);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let next = Arc::new(AtomicU64::new(0));
    let tenant = Arc::new(tenant);
    let mut tasks = Vec::new();
    for c in 0..args.concurrency {
        let (store, tenant, next) = (store.clone(), tenant.clone(), next.clone());
        let (uid, body) = (uid(c % args.things), bodies[c % args.things].clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let start = Instant::now();
                let write = PropertyWrite::new("temperature", &json!(value(n)));
                match store
                    .write_properties(&tenant, &uid, body.clone(), vec![write], now_ms(), true)
                    .await
                {
                    Ok(()) => t.latencies_us.push(elapsed_us(start)),
                    Err(e) => t.error(format!("{e:?}").chars().take(40).collect::<String>()),
                }
            }
            t
        }));
    }
    let started = Instant::now();
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await?);
    }
    let elapsed = started.elapsed();
    let stats = store.stats();
    platform.close().await;
    let mut v = summary(args, "store", total, elapsed);
    v["store_writes"] = json!(stats.writes);
    v["store_commits"] = json!(stats.commits);
    Ok(v)
}

fn hist_uid(i: usize) -> String {
    format!("hist-{i:04}")
}

async fn fill(args: &Args, data_dir: &std::path::Path, space: &str) -> anyhow::Result<Value> {
    let (store, platform) = open(data_dir)?;
    let tenant = platform.tenant(space).await?;
    let started = Instant::now();
    let mut points = 0u64;
    for i in 0..args.things {
        let uid = hist_uid(i);
        if store.thing(&tenant, &uid).await?.is_none() {
            platform.create_thing(&tenant, &sensor(&uid), None).await?;
        }
        // Batches of one thing, a few in flight so the group commit takes them together.
        let mut pending = futures::stream::FuturesUnordered::new();
        for b in 0..DAY_POINTS / FILL_BATCH {
            let rows: Vec<HistoryRow> = (b * FILL_BATCH..(b + 1) * FILL_BATCH)
                .map(|s| HistoryRow {
                    at: DAY_START_MS + s * 1000,
                    name: "temperature".into(),
                    value: format!("{}", value(s as u64)),
                })
                .collect();
            let (store, tenant, uid) = (store.clone(), tenant.clone(), uid.clone());
            pending.push(async move { store.add_history(&tenant, &uid, rows).await });
        }
        use futures::StreamExt;
        while let Some(r) = pending.next().await {
            r.with_context(|| format!("history of {uid}"))?;
        }
        points += DAY_POINTS as u64;
        if i % 10 == 9 {
            eprintln!(
                "fill: {} things, {points} points, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    platform.close().await;
    Ok(json!({
        "label": args.label, "mode": "fill", "things": args.things, "points": points,
        "seconds": started.elapsed().as_secs_f64().round(),
    }))
}

async fn history(args: &Args, http: &HttpArgs, limit: u32, walk: bool) -> anyhow::Result<Value> {
    let token = Arc::new(token(http).await?);
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..args.concurrency {
        let client = client(http, c)?;
        let base = format!("http://{}/spaces/{}/things", http.http, http.space);
        let things = args.things as u64;
        let (token, next) = (token.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            while Instant::now() < deadline {
                // A spread of things: consecutive requests hit different ones.
                let n = next.fetch_add(1, Ordering::Relaxed);
                let uid = hist_uid((n.wrapping_mul(7919) % things) as usize);
                let url = format!("{base}/{uid}/properties-history");
                let walk_start = Instant::now();
                let mut cursor: Option<String> = None;
                let mut items = 0u64;
                loop {
                    let mut q = vec![("at", DAY.to_owned()), ("limit", limit.to_string())];
                    if let Some(c) = &cursor {
                        q.push(("next_cursor", c.clone()));
                    }
                    let start = Instant::now();
                    let r = client.get(&url).bearer_auth(token.as_str()).query(&q).send().await;
                    let page: Value = match r {
                        Ok(r) if r.status() == reqwest::StatusCode::OK => match r.json().await {
                            Ok(v) => v,
                            Err(_) => {
                                t.error("body");
                                break;
                            }
                        },
                        Ok(r) => {
                            t.error(r.status().as_u16().to_string());
                            break;
                        }
                        Err(e) if e.is_timeout() => {
                            t.error("timeout");
                            break;
                        }
                        Err(_) => {
                            t.error("connection");
                            break;
                        }
                    };
                    t.latencies_us.push(elapsed_us(start));
                    items += page["data"].as_array().map_or(0, |a| a.len() as u64);
                    cursor = page["paging"]["next_cursor"].as_str().map(str::to_owned);
                    if !walk || cursor.is_none() {
                        break;
                    }
                }
                if walk {
                    if items == DAY_POINTS as u64 {
                        t.walks_us.push(elapsed_us(walk_start));
                    } else {
                        t.error(format!("walk of {items} items"));
                    }
                } else if items != u64::from(limit) {
                    t.error(format!("page of {items} items"));
                }
            }
            t
        }));
    }
    let started = Instant::now();
    let mut total = Tally::default();
    for task in tasks {
        total.merge(task.await?);
    }
    let mut v = summary(
        args,
        if walk { "history-walk" } else { "history-page" },
        total,
        started.elapsed(),
    );
    v["limit"] = json!(limit);
    Ok(v)
}
