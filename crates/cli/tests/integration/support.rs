//! The shared harness: runs the real `thingstead` binary with a temporary
//! data dir, ephemeral ports and a clean environment, and tears it down.
//!
//! Every process a test starts is owned by a value that kills it on drop,
//! every wait is bounded, and no test uses a fixed port.

use std::collections::HashSet;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_thingstead");

/// Upper bound for a one-shot command (admin, config).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for a server to write its ready file.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Upper bound for one device frame exchange.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// The graceful-shutdown bound the server promises.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);

/// A finished one-shot command.
#[derive(Debug)]
pub struct Output {
    pub what: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts success and that stdout is exactly one JSON value; returns it.
    #[track_caller]
    pub fn json(&self) -> Value {
        assert!(
            self.status.success(),
            "{} failed: {:?}\nstderr: {}",
            self.what,
            self.status,
            self.stderr
        );
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not one JSON value ({e}): {:?}", self.what, self.stdout))
    }

    /// Asserts success; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(
            self.status.success(),
            "{} failed: {:?}\nstderr: {}",
            self.what,
            self.status,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts a non-zero exit with nothing on stdout and exactly one line
    /// `error: ...` on stderr; returns that line.
    #[track_caller]
    pub fn error_line(&self) -> String {
        assert!(
            !self.status.success(),
            "{} succeeded but should have failed; stdout: {}",
            self.what,
            self.stdout
        );
        assert!(
            self.stdout.trim().is_empty(),
            "{}: stdout on error: {:?}",
            self.what,
            self.stdout
        );
        let lines: Vec<&str> = self.stderr.trim_end().lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{}: stderr is not one line: {:?}",
            self.what,
            self.stderr
        );
        assert!(
            lines[0].starts_with("error: "),
            "{}: stderr line: {:?}",
            self.what,
            lines[0]
        );
        lines[0].to_string()
    }
}

/// Polls `child` until it exits or `timeout` passes.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// One test's world: a temporary root that is the working directory of
/// every command, holding the data dir, config files and captured output.
pub struct Env {
    root: tempfile::TempDir,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("thingstead-cli-test-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir(root.path().join("out")).expect("out dir");
        Env { root }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The data dir every `cmd` and `serve_cmd` uses (not created up front).
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    /// The ready file `serve_cmd` asks for, alone in its own directory.
    pub fn ready_file(&self) -> PathBuf {
        self.root().join("ready").join("ready.json")
    }

    /// Writes a file under the root; returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.root().join(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }

    /// The binary with the root as working directory, no stdin and no
    /// `THINGSTEAD_*` or `RUST_LOG` inherited from the caller.
    pub fn bare(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.root()).stdin(Stdio::null()).env_remove("RUST_LOG");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("THINGSTEAD_") {
                c.env_remove(k);
            }
        }
        c
    }

    /// `thingstead --data-dir DATA ARGS...`
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.bare();
        c.arg("--data-dir").arg(self.data_dir()).args(args);
        c
    }

    /// Runs a one-shot command to completion (bounded), capturing output.
    pub fn run(&self, mut cmd: Command) -> Output {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let out_path = self.root().join("out").join(format!("{n}.stdout"));
        let err_path = self.root().join("out").join(format!("{n}.stderr"));
        cmd.stdout(File::create(&out_path).expect("stdout file"));
        cmd.stderr(File::create(&err_path).expect("stderr file"));
        let what = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
        let mut child = cmd.spawn().expect("spawn thingstead");
        let Some(status) = wait_timeout(&mut child, COMMAND_TIMEOUT) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {COMMAND_TIMEOUT:?}");
        };
        Output {
            what,
            status,
            stdout: std::fs::read_to_string(&out_path).expect("read stdout"),
            stderr: std::fs::read_to_string(&err_path).expect("read stderr"),
        }
    }

    /// `thingstead --data-dir DATA admin ARGS...`, captured.
    pub fn admin_out(&self, args: &[&str]) -> Output {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        self.run(self.cmd(&all))
    }

    /// An admin command that must succeed; its one JSON value.
    #[track_caller]
    pub fn admin(&self, args: &[&str]) -> Value {
        self.admin_out(args).json()
    }

    /// An admin command that must fail; its one `error: ...` line.
    #[track_caller]
    pub fn admin_err(&self, args: &[&str]) -> String {
        self.admin_out(args).error_line()
    }

    /// `thingstead serve --data-dir DATA --ready-file READY ARGS...`
    pub fn serve_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.bare();
        c.arg("serve").arg("--data-dir").arg(self.data_dir());
        c.arg("--ready-file").arg(self.ready_file()).args(args);
        c
    }

    /// Starts `serve` on ephemeral loopback ports and waits until ready.
    pub fn start(&self) -> Server {
        self.spawn_server(self.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]))
    }

    /// Spawns a `serve` command (from `serve_cmd`) and waits for its ready
    /// file. Every read of the ready file must be a whole JSON object: the
    /// file is polled tightly, so a non-atomic write shows up as a failure.
    pub fn spawn_server(&self, mut cmd: Command) -> Server {
        let ready = self.ready_file();
        let ready_dir = ready.parent().expect("ready dir");
        if ready_dir.exists() {
            std::fs::remove_dir_all(ready_dir).expect("clear ready dir");
        }
        std::fs::create_dir(ready_dir).expect("ready dir");
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let log = self.root().join("out").join(format!("{n}.server.log"));
        cmd.stdout(Stdio::null()).stderr(File::create(&log).expect("log file"));
        let child = cmd.spawn().expect("spawn thingstead serve");
        let mut server = Server {
            child,
            log,
            http: "0.0.0.0:0".parse().unwrap(),
            device_tcp: "0.0.0.0:0".parse().unwrap(),
            ready: Value::Null,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait().expect("try_wait") {
                panic!("serve exited before ready: {status:?}\nlog:\n{}", server.logs());
            }
            match std::fs::read(&ready) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let v: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("ready file observed incomplete or invalid ({e}): {text:?}"));
                    let addr = |k: &str| -> SocketAddr {
                        v.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_else(|| panic!("ready file lacks string {k:?}: {text}"))
                            .parse()
                            .unwrap_or_else(|e| panic!("ready file {k:?} is not ip:port ({e}): {text}"))
                    };
                    server.http = addr("http");
                    server.device_tcp = addr("device_tcp");
                    server.ready = v;
                    return server;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("reading ready file: {e}"),
            }
            assert!(
                Instant::now() < deadline,
                "no ready file within {READY_TIMEOUT:?}\nlog:\n{}",
                server.logs()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// A running `thingstead serve`; killed (SIGKILL) on drop if still running.
pub struct Server {
    child: Child,
    log: PathBuf,
    pub http: SocketAddr,
    pub device_tcp: SocketAddr,
    /// The ready file's JSON.
    pub ready: Value,
}

impl Server {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Where the server's stderr goes.
    pub fn log_path(&self) -> PathBuf {
        self.log.clone()
    }

    /// The server's stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with the pid of our own child, which has not been reaped yet.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.pid());
    }

    /// Waits (without blocking the runtime) until the process exits.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// SIGTERM; asserts the process exits 0 within the promised bound.
    pub async fn stop(mut self) {
        self.signal(libc::SIGTERM);
        match self.wait_exit(SHUTDOWN_BOUND).await {
            Some(status) => assert!(
                status.success(),
                "serve exited with {status:?} on SIGTERM\nlog:\n{}",
                self.logs()
            ),
            None => panic!(
                "serve did not exit within {SHUTDOWN_BOUND:?} of SIGTERM\nlog:\n{}",
                self.logs()
            ),
        }
    }

    /// SIGKILL and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The frame bytes for one device message.
pub fn frame(key: &str, data: &str, topics: &[&str]) -> Vec<u8> {
    let mut f = serde_json::to_vec(&json!({ "k": key, "d": data, "t": topics })).unwrap();
    f.extend_from_slice(b"\r\r");
    f
}

/// Sends one frame on a fresh connection; returns everything the server
/// wrote until it closed the connection.
pub async fn send_frame(addr: SocketAddr, key: &str, data: &str, topics: &[&str]) -> std::io::Result<String> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(&frame(key, data, topics)).await?;
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).await?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    };
    tokio::time::timeout(FRAME_TIMEOUT, exchange).await.unwrap_or_else(|_| {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "frame exchange timed out",
        ))
    })
}

/// An HTTP client that never goes through a proxy.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

/// One stored message as the REST API lists it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: i64,
    pub deviceid: String,
    pub payload: String,
    pub record: Value,
}

/// Every message the API key can see, through all pages of
/// `GET /api/1/csr/rdm`.
pub async fn all_messages(http: SocketAddr, apikey: &str) -> Vec<Stored> {
    let client = http_client();
    let mut out = Vec::new();
    let mut cursor: Option<i64> = None;
    for _ in 0..10_000 {
        let mut url = format!("http://{http}/api/1/csr/rdm?apikey={apikey}&limit=1000");
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let resp = client.get(&url).send().await.expect("GET rdm");
        let status = resp.status();
        let body: Value = resp.json().await.expect("rdm JSON");
        assert_eq!(status, 200, "GET rdm: {body}");
        assert_eq!(body["success"], true, "{body}");
        for r in body["data"].as_array().expect("data array") {
            let inner: Value = serde_json::from_str(r["data"].as_str().expect("data string")).expect("inner JSON");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(inner["data"].as_str().expect("payload base64"))
                .expect("base64");
            out.push(Stored {
                id: r["id"].as_i64().expect("id"),
                deviceid: r["deviceid"].as_str().expect("deviceid").to_string(),
                payload: String::from_utf8(bytes).expect("utf-8 payload"),
                record: r.clone(),
            });
        }
        if body["continues"] != true {
            return out;
        }
        cursor = Some(body["lastid"].as_i64().expect("lastid"));
    }
    panic!("paging did not end");
}

/// Several tasks sending frames continuously, each payload unique,
/// recording which ones got the success reply `[0,0]`.
pub struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<HashSet<String>>>,
    tasks: Vec<tokio::task::JoinHandle<usize>>,
}

impl Load {
    pub fn start(addr: SocketAddr, keys: &[String], workers: usize, prefix: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(HashSet::new()));
        let tasks = (0..workers)
            .map(|w| {
                let (stop, acked) = (stop.clone(), acked.clone());
                let key = keys[w % keys.len()].clone();
                let prefix = prefix.to_string();
                tokio::spawn(async move {
                    let mut sent = 0;
                    // Bounded: the test stops the load long before this.
                    for i in 0..1_000_000 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let payload = format!("{prefix}-{w}-{i}");
                        sent += 1;
                        match send_frame(addr, &key, &payload, &["load"]).await {
                            Ok(reply) if reply == "[0,0]" => {
                                acked.lock().unwrap().insert(payload);
                            }
                            Ok(_) => {}
                            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                    sent
                })
            })
            .collect();
        Load { stop, acked, tasks }
    }

    pub fn acked_count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Waits until at least `n` frames were acknowledged.
    pub async fn wait_acked(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.acked_count() < n {
            assert!(
                Instant::now() < deadline,
                "only {} frames acknowledged within {timeout:?}",
                self.acked_count()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the workers; returns the acknowledged payloads and how many
    /// frames were attempted.
    pub async fn finish(self) -> (HashSet<String>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        let mut sent = 0;
        for t in self.tasks {
            sent += tokio::time::timeout(Duration::from_secs(10), t)
                .await
                .expect("load task ended")
                .expect("join");
        }
        let acked = std::mem::take(&mut *self.acked.lock().unwrap());
        (acked, sent)
    }
}

/// Sets up org `org` with one device and one API key; returns
/// (devicekey, apikey, device uuid).
pub fn org_with_device_and_key(env: &Env, org: &str) -> (String, String, String) {
    env.admin(&["org", "create", org]);
    let d = env.admin(&["device", "create", "--org", org]);
    let k = env.admin(&["apikey", "create", "--org", org]);
    (
        d["devicekey"].as_str().unwrap().to_string(),
        k["apikey"].as_str().unwrap().to_string(),
        d["uuid"].as_str().unwrap().to_string(),
    )
}
