//! A cluster for the multi-node tests: a throwaway PostgreSQL, a NATS
//! server, one master key, and any number of `thingstead serve` processes
//! sharing them; plus a client of the message stream (Server-Sent Events)
//! and small polling helpers. Every wait is bounded.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use thingstead_testkit::nats::NatsServer;
use thingstead_testkit::postgres::PgCluster;

use crate::support::{Env, Server, http_client};

/// PostgreSQL, NATS and the master key every node shares.
pub struct Cluster {
    pub pg: PgCluster,
    pub nats: NatsServer,
    pub db: String,
    key: PathBuf,
    /// Where admin commands run (and the key lives).
    env: Env,
}

/// One `thingstead serve` of the cluster, with its own working directory.
pub struct Node {
    pub server: Server,
    _env: Env,
}

impl std::ops::Deref for Node {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Node {
    /// SIGTERM; asserts a clean exit within the promised bound.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// SIGKILL.
    pub fn kill(self) {
        self.server.kill();
    }
}

impl Cluster {
    /// Starts PostgreSQL (with a fresh database) and NATS, and makes a master key.
    pub async fn start() -> Cluster {
        let pg = tokio::task::spawn_blocking(|| PgCluster::start().expect("PostgreSQL 15 for this test"));
        let nats = tokio::task::spawn_blocking(NatsServer::start);
        let (pg, nats) = (pg.await.unwrap(), nats.await.unwrap());
        let db = pg.create_database().unwrap();
        let env = Env::new();
        let key = env.root().join("master.key");
        let out = env.run({
            let mut c = env.bare();
            c.args(["admin", "master-key", "generate", "--out"]).arg(&key);
            c
        });
        assert!(out.status.success(), "{}", out.stderr);
        Cluster { pg, nats, db, key, env }
    }

    /// The master key file every node reads.
    pub fn key_file(&self) -> &std::path::Path {
        &self.key
    }

    /// Points `c` at the shared database, key and bus.
    pub fn configure(&self, mut c: Command) -> Command {
        c.env("THINGSTEAD_STORE__BACKEND", "postgres")
            .env("THINGSTEAD_STORE__URL", &self.db)
            .env("THINGSTEAD_SECRETS__MASTER_KEY_FILE", &self.key)
            .env("THINGSTEAD_BUS__BACKEND", "nats")
            .env("THINGSTEAD_BUS__URL", self.nats.url());
        c
    }

    /// `thingstead admin ARGS...` against the cluster; its JSON output.
    #[track_caller]
    pub fn admin(&self, args: &[&str]) -> Value {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        self.env.run(self.configure(self.env.cmd(&all))).json()
    }

    /// Org `org` with one device and an API key: (devicekey, apikey).
    pub fn org_with_device_and_key(&self, org: &str) -> (String, String) {
        self.admin(&["org", "create", org]);
        let d = self.admin(&["device", "create", "--org", org]);
        let k = self.admin(&["apikey", "create", "--org", org]);
        (
            d["devicekey"].as_str().unwrap().to_string(),
            k["apikey"].as_str().unwrap().to_string(),
        )
    }

    /// Another device of `org`; its devicekey.
    pub fn device(&self, org: &str) -> String {
        self.admin(&["device", "create", "--org", org])["devicekey"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Starts a node, with `extra` environment variables, and waits until it is ready.
    pub fn node_with(&self, extra: &[(&str, &str)]) -> Node {
        let env = Env::new();
        let mut c = self.configure(env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]));
        c.envs(extra.iter().copied());
        Node {
            server: env.spawn_server(c),
            _env: env,
        }
    }

    /// Starts a node and waits until it is ready.
    pub fn node(&self) -> Node {
        self.node_with(&[])
    }
}

/// The logs of every node, for a failure message.
pub fn logs(nodes: &[&Server]) -> String {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("--- node {i}:\n{}", n.logs()))
        .collect()
}

/// Polls `check` every 50 ms until it is true; panics with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: impl Fn() -> String, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {}", what());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The status of `GET /healthz` (0 when the node does not answer).
pub async fn healthz(node: &Server) -> u16 {
    match http_client().get(node.url("/healthz")).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// The sum of the series of `/metrics` whose name and labels start with `series`.
pub async fn metric(node: &Server, series: &str) -> f64 {
    let Ok(r) = http_client().get(node.url("/metrics")).send().await else {
        return 0.0;
    };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(series))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum()
}

/// A message as the stream carries it: its id and payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Streamed {
    pub id: i64,
    pub payload: String,
}

/// The client side of `GET /api/1/csr/rdm/stream`.
pub struct MessageStream {
    response: reqwest::Response,
    buf: String,
}

impl MessageStream {
    /// Opens the stream of `apikey`'s organization on `node`; asserts 200.
    pub async fn open(node: &Server, apikey: &str) -> MessageStream {
        // No overall timeout: the body never ends; reads are bounded instead.
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let url = node.url(&format!("/api/1/csr/rdm/stream?apikey={apikey}"));
        let response = tokio::time::timeout(Duration::from_secs(10), client.get(url).send())
            .await
            .expect("stream headers within 10 s")
            .expect("GET stream");
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
        MessageStream {
            response,
            buf: String::new(),
        }
    }

    /// The next `message` event within `within`; `None` when none came in
    /// time or the stream ended. Other events (gaps) are skipped.
    pub async fn next_message(&mut self, within: Duration) -> Option<Streamed> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(m) = message(&block) {
                    return Some(m);
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Waits (within `within`) for the message whose payload is `payload`,
    /// skipping others.
    pub async fn wait_for(&mut self, payload: &str, within: Duration) -> Option<Streamed> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let m = self.next_message(left).await?;
            if m.payload == payload {
                return Some(m);
            }
        }
    }
}

/// A `message` event block as (id, payload); `None` for anything else.
fn message(block: &str) -> Option<Streamed> {
    let mut event = "message";
    let mut data = None;
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data = Some(v.trim());
        }
    }
    if event != "message" {
        return None;
    }
    let record: Value = serde_json::from_str(data?).ok()?;
    let inner: Value = serde_json::from_str(record["data"].as_str()?).ok()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner["data"].as_str()?)
        .ok()?;
    Some(Streamed {
        id: record["id"].as_i64()?,
        payload: String::from_utf8(bytes).ok()?,
    })
}
