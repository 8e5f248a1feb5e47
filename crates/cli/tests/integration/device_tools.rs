//! The device tools against a real server: `thingstead send`, `sms` and
//! `receive` as processes, checked through the REST API and `admin`.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Env, Output, Server, all_messages, http_client, org_with_device_and_key, wait_timeout};

/// Upper bound for `receive` to report its listener or to finish.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// `thingstead ARGS...` (a device tool: no data dir), run to completion.
fn tool(env: &Env, args: &[&str]) -> Output {
    let mut c = env.bare();
    c.args(args);
    env.run(c)
}

/// `thingstead send ARGS...`
fn send(env: &Env, args: &[&str]) -> Output {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    tool(env, &all)
}

/// The JSON result lines on stdout, asserting every line is one JSON object.
#[track_caller]
fn result_lines(out: &Output) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: result line is not JSON ({e}): {l:?}", out.what));
            assert!(v.is_object(), "{}: result line is not an object: {l}", out.what);
            v
        })
        .collect()
}

/// Asserts success and that every result line reports code 0; returns the
/// messages of the lines in order.
#[track_caller]
fn sent_ok(out: &Output) -> Vec<String> {
    out.ok();
    result_lines(out)
        .iter()
        .map(|l| {
            assert_eq!(l["code"], 0, "{}: {l}", out.what);
            assert!(l["description"].is_string(), "{}: {l}", out.what);
            l["message"].as_str().expect("message").to_string()
        })
        .collect()
}

/// A loopback port nobody listened on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .unwrap()
        .port()
}

/// The device port as a flag value.
fn port_of(server: &Server) -> String {
    server.device_tcp.port().to_string()
}

/// The stored payloads (oldest first) with their topics.
async fn stored(server: &Server, apikey: &str) -> Vec<(String, Value)> {
    let mut all = all_messages(server.http, apikey).await;
    all.sort_by_key(|m| m.id);
    all.into_iter().map(|m| (m.payload, m.record["tags"].clone())).collect()
}

/// The SMS outbox as `GET /api/1/sms` lists it.
async fn outbox(server: &Server, apikey: &str) -> Vec<Value> {
    let r = http_client()
        .get(server.url(&format!("/api/1/sms?apikey={apikey}")))
        .send()
        .await
        .expect("GET sms");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("sms JSON");
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("sms list: {body}"))
        .clone()
}

/// A running `thingstead receive`; killed on drop if still running.
struct Receiver {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Receiver {
    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the process to exit on its own.
    fn wait(&mut self) -> ExitStatus {
        wait_timeout(&mut self.child, RECEIVE_TIMEOUT).unwrap_or_else(|| {
            panic!(
                "receive did not exit within {RECEIVE_TIMEOUT:?}\nstdout: {:?}\nstderr: {:?}",
                self.stdout(),
                self.stderr()
            )
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `thingstead receive --host 127.0.0.1 --port PORT ARGS...` and
/// waits until it reports its listener; returns it with the address it
/// printed. `None` when it exited first, with its stderr.
fn try_receive(env: &Env, port: u16, args: &[&str], tag: &str) -> Result<(Receiver, String), String> {
    let stdout = env.root().join("out").join(format!("receive-{tag}-{port}.stdout"));
    let stderr = env.root().join("out").join(format!("receive-{tag}-{port}.stderr"));
    let mut c: Command = env.bare();
    c.args(["receive", "--host", "127.0.0.1", "--port", &port.to_string()])
        .args(args);
    c.stdout(File::create(&stdout).expect("stdout file"));
    c.stderr(File::create(&stderr).expect("stderr file"));
    let child = c.stdin(Stdio::null()).spawn().expect("spawn thingstead receive");
    let mut r = Receiver { child, stdout, stderr };
    let deadline = Instant::now() + RECEIVE_TIMEOUT;
    loop {
        let err = r.stderr();
        // Only whole lines: the file is read while being written.
        let whole = &err[..err.rfind('\n').map_or(0, |i| i + 1)];
        if let Some(addr) = whole.lines().find_map(|l| l.strip_prefix("listening on ")) {
            return Ok((r, addr.trim().to_string()));
        }
        if let Some(status) = r.child.try_wait().expect("try_wait") {
            return Err(format!(
                "receive exited with {status:?} before listening: {}",
                r.stderr()
            ));
        }
        assert!(
            Instant::now() < deadline,
            "receive did not report its listener within {RECEIVE_TIMEOUT:?}: {err:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `receive` on a free port chosen here (retried if someone takes it first).
fn receive_on_free_port(env: &Env, args: &[&str]) -> (Receiver, u16) {
    let mut last = String::new();
    for attempt in 0..5 {
        let port = free_port();
        match try_receive(env, port, args, &attempt.to_string()) {
            Ok((r, addr)) => {
                assert_eq!(addr, format!("127.0.0.1:{port}"), "receive reported another address");
                return (r, port);
            }
            Err(e) => last = e,
        }
    }
    panic!("receive never started on a free port: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_topics_stores_every_message() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, uuid) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);

    let out = send(
        &env,
        &[
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "a",
            "-t",
            "b",
            "hello ✓",
            "second",
        ],
    );
    assert_eq!(sent_ok(&out), ["hello ✓", "second"], "stdout: {}", out.stdout);

    let all = all_messages(server.http, &apikey).await;
    assert!(all.iter().all(|m| m.deviceid == uuid), "{all:?}");
    let got = stored(&server, &apikey).await;
    let topics = serde_json::json!(["a", "b"]);
    assert_eq!(
        got,
        [("hello ✓".to_string(), topics.clone()), ("second".to_string(), topics)],
        "stored messages"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_takes_the_key_split_or_from_a_config_file() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);
    let (id, secret) = key.split_at(4);

    // --cloud-id + --cloud-key.
    let out = send(
        &env,
        &[
            "--cloud-id",
            id,
            "--cloud-key",
            secret,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "split",
        ],
    );
    assert_eq!(sent_ok(&out), ["split"]);

    // HJSON with both comment styles and unquoted strings.
    let hjson = env.write(
        "device.hjson",
        &format!(
            "// the device under test\n{{\n  # its key\n  devicekey: {key}\n  host: 127.0.0.1\n  /* the device port */\n  port: {port}\n}}\n"
        ),
    );
    let out = send(&env, &["-f", hjson.to_str().unwrap(), "-t", "cfg", "from-hjson"]);
    assert_eq!(sent_ok(&out), ["from-hjson"]);

    // JSON, with the key split and the port as a string.
    let json = env.write(
        "device.json",
        &serde_json::json!({ "cloud_id": id, "cloud_key": secret, "host": "127.0.0.1", "port": port }).to_string(),
    );
    let out = send(&env, &["--device-config", json.to_str().unwrap(), "from-json"]);
    assert_eq!(sent_ok(&out), ["from-json"]);

    // TOML.
    let toml = env.write(
        "device.toml",
        &format!("# the device\ndevicekey = \"{key}\"\nhost = \"127.0.0.1\"\nport = {port}\n"),
    );
    let out = send(&env, &["-f", toml.to_str().unwrap(), "from-toml"]);
    assert_eq!(sent_ok(&out), ["from-toml"]);

    // A flag beats the file: the file names a port nobody listens on.
    let dead = env.write(
        "dead.toml",
        &format!("devicekey = \"{key}\"\nhost = \"127.0.0.1\"\nport = {}\n", free_port()),
    );
    let out = send(&env, &["-f", dead.to_str().unwrap(), "-p", &port, "flag-wins"]);
    assert_eq!(sent_ok(&out), ["flag-wins"]);

    // THINGSTEAD_DEVICEKEY, over the file's key (a key the server does not know).
    let other = env.write(
        "other.toml",
        &format!("devicekey = \"zzzz9999\"\nhost = \"127.0.0.1\"\nport = {port}\n"),
    );
    let mut c = env.bare();
    c.env("THINGSTEAD_DEVICEKEY", &key)
        .args(["send", "-f", other.to_str().unwrap(), "from-env"]);
    let out = env.run(c);
    assert_eq!(sent_ok(&out), ["from-env"]);

    let got: Vec<String> = stored(&server, &apikey).await.into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        got,
        ["split", "from-hjson", "from-json", "from-toml", "flag-wins", "from-env"]
    );
    let tagged = stored(&server, &apikey).await;
    assert_eq!(tagged[1].1, serde_json::json!(["cfg"]), "{tagged:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_failures_are_reported_and_exit_non_zero() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);

    // A well-formed key the server does not know: the line shows code 3.
    let out = send(
        &env,
        &["--devicekey", "zzzz9999", "--host", "127.0.0.1", "-p", &port, "nope"],
    );
    assert!(!out.status.success(), "unknown key accepted: {}", out.stdout);
    let lines = result_lines(&out);
    assert_eq!(lines.len(), 1, "stdout: {}", out.stdout);
    assert_eq!(lines[0]["message"], "nope");
    assert_eq!(lines[0]["code"], 3, "{}", lines[0]);
    assert!(
        lines[0]["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        lines[0]
    );
    let err: Vec<&str> = out.stderr.trim_end().lines().collect();
    assert_eq!(err.len(), 1, "stderr: {:?}", out.stderr);
    assert!(err[0].starts_with("error: "), "stderr: {:?}", out.stderr);

    // No key at all: one error line, nothing sent.
    let out = send(&env, &["--host", "127.0.0.1", "-p", &port, "keyless"]);
    let e = out.error_line();
    assert!(e.contains("device key"), "{e}");

    // A malformed key.
    let out = send(&env, &["--devicekey", "short", "--host", "127.0.0.1", "-p", &port, "x"]);
    let e = out.error_line();
    assert!(e.contains("--devicekey"), "{e}");

    // Nobody listens on the port: a clear error, not a success or a hang.
    let dead = free_port().to_string();
    let started = Instant::now();
    let out = send(&env, &["--devicekey", &key, "--host", "127.0.0.1", "-p", &dead, "lost"]);
    assert!(!out.status.success(), "send to a dead port succeeded: {}", out.stdout);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let err: Vec<&str> = out.stderr.trim_end().lines().collect();
    assert_eq!(err.len(), 1, "stderr: {:?}", out.stderr);
    assert!(err[0].starts_with("error: "), "stderr: {:?}", out.stderr);
    let lower = err[0].to_lowercase();
    assert!(
        lower.contains("refused") || lower.contains("unreachable") || lower.contains("connect"),
        "unclear error: {}",
        err[0]
    );
    assert!(err[0].contains(&dead), "the error should name the address: {}", err[0]);

    assert!(
        all_messages(server.http, &apikey).await.is_empty(),
        "something was stored"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_repeat_sends_every_round() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);

    let started = Instant::now();
    let out = send(
        &env,
        &[
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--repeat",
            "1",
            "--duration",
            "2",
            "tick",
        ],
    );
    let took = started.elapsed();
    let sent = sent_ok(&out);
    assert!(sent.len() >= 2, "only {} rounds: {}", sent.len(), out.stdout);
    assert!(sent.iter().all(|m| m == "tick"), "{sent:?}");
    // Rounds are a second apart and stop after the duration.
    assert!(took >= Duration::from_millis(900), "rounds not spaced: {took:?}");
    assert!(took < Duration::from_secs(6), "ran for {took:?}");
    let got = stored(&server, &apikey).await;
    assert_eq!(got.len(), sent.len(), "{got:?}");

    // --repeat alone is a usage error.
    let out = send(&env, &["--devicekey", &key, "-p", &port, "--repeat", "1", "x"]);
    assert!(!out.status.success());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_is_queued_and_a_bad_destination_is_refused() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);

    let out = tool(
        &env,
        &[
            "sms",
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--destination",
            "+15555550123",
            "hi",
            "there",
        ],
    );
    let lines = {
        out.ok();
        result_lines(&out)
    };
    assert_eq!(lines.len(), 1, "stdout: {}", out.stdout);
    assert_eq!(lines[0]["code"], 0, "{}", lines[0]);
    // Queued, not sent: no provider is configured.
    assert_eq!(lines[0]["state"], "queued", "{}", lines[0]);
    let said = lines[0]["description"].as_str().unwrap_or_default();
    assert!(
        said.contains("queued in the cloud's outbox") && !said.contains("sent successfully"),
        "{said}"
    );
    assert_eq!(lines[0]["destination"], "+15555550123");
    assert_eq!(lines[0]["message"], "hi there");

    let rows = outbox(&server, &apikey).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["text"], "hi there", "{}", rows[0]);
    assert!(rows[0].to_string().contains("+15555550123"), "{}", rows[0]);
    assert_eq!(rows[0]["state"], "queued", "{}", rows[0]);

    // An invalid destination: refused before anything is sent.
    let out = tool(
        &env,
        &[
            "sms",
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--destination",
            "+12ab",
            "hi",
        ],
    );
    let e = out.error_line();
    assert!(e.contains("+12ab"), "{e}");
    // Too long.
    let long = "x".repeat(161);
    let out = tool(
        &env,
        &[
            "sms",
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--destination",
            "+15555550123",
            &long,
        ],
    );
    out.error_line();
    // An unknown key: not queued either.
    let out = tool(
        &env,
        &[
            "sms",
            "--devicekey",
            "zzzz9999",
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--destination",
            "+15555550123",
            "hi",
        ],
    );
    assert!(!out.status.success(), "unknown key accepted: {}", out.stdout);
    assert_eq!(result_lines(&out)[0]["code"], 3, "{}", out.stdout);

    assert_eq!(outbox(&server, &apikey).await.len(), 1, "something else was queued");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_totp_is_stored() {
    let env = Env::new();
    let server = env.start();
    let (_, apikey, uuid) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);

    // Each TOTP device sends once: a code is good once per 30 s step.
    let t = env.admin(&["device", "totp", "rotate", "--uuid", &uuid]);
    let seed = t["secret"].as_str().expect("secret").to_string();
    let out = send(
        &env,
        &[
            "--uuid",
            &uuid,
            "--totp-secret",
            &seed,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "otp",
            "by-totp",
        ],
    );
    assert_eq!(sent_ok(&out), ["by-totp"], "stderr: {}", out.stderr);

    // The otpauth URI works as the secret as well.
    let d2 = env.admin(&["device", "create", "--org", "acme"]);
    let uuid2 = d2["uuid"].as_str().unwrap().to_string();
    let t2 = env.admin(&["device", "totp", "rotate", "--uuid", &uuid2]);
    let uri = t2["otpauth_uri"].as_str().expect("otpauth_uri");
    let out = send(
        &env,
        &[
            "--uuid",
            &uuid2,
            "--totp-secret",
            uri,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "by-uri",
        ],
    );
    assert_eq!(sent_ok(&out), ["by-uri"], "stderr: {}", out.stderr);

    // And from a config file with device_id + private_key.
    let d3 = env.admin(&["device", "create", "--org", "acme"]);
    let uuid3 = d3["uuid"].as_str().unwrap().to_string();
    let t3 = env.admin(&["device", "totp", "rotate", "--uuid", &uuid3]);
    let cfg = env.write(
        "totp.toml",
        &format!(
            "device_id = \"{uuid3}\"\nprivate_key = \"{}\"\nhost = \"127.0.0.1\"\nport = {port}\n",
            t3["secret"].as_str().unwrap()
        ),
    );
    let out = send(&env, &["-f", cfg.to_str().unwrap(), "by-config"]);
    assert_eq!(sent_ok(&out), ["by-config"], "stderr: {}", out.stderr);

    // A wrong secret is refused.
    let d4 = env.admin(&["device", "create", "--org", "acme"]);
    let uuid4 = d4["uuid"].as_str().unwrap().to_string();
    let old_seed = env.admin(&["device", "totp", "rotate", "--uuid", &uuid4])["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    env.admin(&["device", "totp", "rotate", "--uuid", &uuid4]);
    // The seed before a rotation stops working.
    let out = send(
        &env,
        &[
            "--uuid",
            &uuid4,
            "--totp-secret",
            &old_seed,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "old-seed",
        ],
    );
    assert!(!out.status.success(), "a rotated-out seed was accepted: {}", out.stdout);
    let out = send(
        &env,
        &[
            "--uuid",
            &uuid4,
            "--totp-secret",
            "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "forged",
        ],
    );
    assert!(
        !out.status.success(),
        "a wrong TOTP secret was accepted: {}",
        out.stdout
    );
    assert_ne!(result_lines(&out)[0]["code"], 0, "{}", out.stdout);

    let mut all = all_messages(server.http, &apikey).await;
    all.sort_by_key(|m| m.id);
    let got: Vec<(&str, &str)> = all.iter().map(|m| (m.payload.as_str(), m.deviceid.as_str())).collect();
    assert_eq!(
        got,
        [
            ("by-totp", uuid.as_str()),
            ("by-uri", uuid2.as_str()),
            ("by-config", uuid3.as_str())
        ]
    );
    assert_eq!(all[0].record["tags"], serde_json::json!(["otp"]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_prints_a_pushed_message_and_exits() {
    let env = Env::new();
    // The admin pushes below name 127.0.0.1, where the device has not been seen.
    env.write("thingstead.toml", "[push]\nallowed_networks = [\"127.0.0.1/32\"]\n");
    let server = env.start();
    let (_, _, uuid) = org_with_device_and_key(&env, "acme");

    let (mut receiver, port) = receive_on_free_port(&env, &["--count", "1"]);
    let v = env.admin(&[
        "device",
        "push",
        "--uuid",
        &uuid,
        "--port",
        &port.to_string(),
        "--host",
        "127.0.0.1",
        "switch on",
    ]);
    assert_eq!(v["result"], "delivered", "{v}");
    let status = receiver.wait();
    assert!(
        status.success(),
        "receive exited with {status:?}: {}",
        receiver.stderr()
    );
    assert_eq!(receiver.stdout(), "switch on\n");

    // A port already taken: one clear error line, at once.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().unwrap().port().to_string();
    let out = tool(
        &env,
        &["receive", "--host", "127.0.0.1", "--port", &port, "--count", "1"],
    );
    let e = out.error_line();
    assert!(e.contains(&port) && e.contains("in use"), "{e}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_on_port_zero_prints_json_lines() {
    let env = Env::new();
    // The admin pushes below name 127.0.0.1, where the device has not been seen.
    env.write("thingstead.toml", "[push]\nallowed_networks = [\"127.0.0.1/32\"]\n");
    let server = env.start();
    let (key, apikey, uuid) = org_with_device_and_key(&env, "acme");

    let (mut receiver, addr) =
        try_receive(&env, 0, &["--count", "2", "--json"], "zero").unwrap_or_else(|e| panic!("{e}"));
    let addr: std::net::SocketAddr = addr.parse().unwrap_or_else(|e| panic!("listening on {addr:?}: {e}"));
    assert_ne!(addr.port(), 0, "receive reported port 0");
    let port = addr.port().to_string();
    let v = env.admin(&[
        "device",
        "push",
        "--uuid",
        &uuid,
        "--port",
        &port,
        "--host",
        "127.0.0.1",
        "first ✓",
    ]);
    assert_eq!(v["result"], "delivered", "{v}");

    // The device sends once, so the server knows where it is; the REST push
    // without a host goes there.
    let out = send(
        &env,
        &[
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port_of(&server),
            "here",
        ],
    );
    assert_eq!(sent_ok(&out), ["here"]);
    let r = http_client()
        .post(server.url(&format!("/api/1/devices/messages?apikey={apikey}")))
        .json(&serde_json::json!({ "deviceids": [uuid], "protocol": "TCP", "port": addr.port(), "data": "second" }))
        .send()
        .await
        .expect("POST devices/messages");
    let status = r.status();
    let body: Value = r.json().await.expect("push JSON");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["result"], "delivered", "{body}");
    let status = receiver.wait();
    assert!(
        status.success(),
        "receive exited with {status:?}: {}",
        receiver.stderr()
    );
    let out = receiver.stdout();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    assert_eq!(lines.len(), 2, "stdout: {out}");
    let messages: Vec<&str> = lines.iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["first ✓", "second"]);
    for l in &lines {
        let peer: std::net::SocketAddr = l["peer"].as_str().expect("peer").parse().expect("peer address");
        assert!(peer.ip().is_loopback(), "{l}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_a_buffer_keeps_what_cannot_be_sent_and_sends_it_first_next_time() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);
    let buffer = env.root().join("outbox");
    let buffer_arg = buffer.to_str().expect("utf-8 path");

    // Nobody listens: every message is buffered, and that is not a failure.
    let dead = free_port().to_string();
    let out = send(
        &env,
        &[
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &dead,
            "--buffer",
            buffer_arg,
            "-t",
            "b",
            "one",
            "two",
        ],
    );
    out.ok();
    let lines = result_lines(&out);
    assert_eq!(lines.len(), 2, "stdout: {}", out.stdout);
    assert!(lines.iter().all(|l| l["code"] == -1), "{lines:?}");
    assert!(
        out.stderr.contains("sent 0 (0 from the buffer), buffered 2, refused 0"),
        "stderr: {}",
        out.stderr
    );
    assert!(all_messages(server.http, &apikey).await.is_empty());

    // The server is reachable: the buffer goes first, then the new message.
    let out = send(
        &env,
        &[
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--buffer",
            buffer_arg,
            "-t",
            "b",
            "three",
        ],
    );
    assert_eq!(sent_ok(&out), ["three"]);
    assert!(
        out.stderr
            .contains("sent 3 (2 from the buffer), buffered 0, refused 0; 0 waiting"),
        "stderr: {}",
        out.stderr
    );
    let got: Vec<String> = stored(&server, &apikey).await.into_iter().map(|(p, _)| p).collect();
    assert_eq!(got, ["one", "two", "three"], "in order, each once");

    // A refused message (unknown key) is reported and fails the run.
    let out = send(
        &env,
        &[
            "--devicekey",
            "zzzz9999",
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--buffer",
            buffer_arg,
            "nope",
        ],
    );
    assert!(!out.status.success(), "refused message accepted: {}", out.stdout);
    assert!(out.stderr.contains("refused 1"), "stderr: {}", out.stderr);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_network_status_go_through_a_cellular_modem() {
    use thingstead_testkit::modem::{ModemSimulator, SimConfig};

    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = port_of(&server);
    let sim = ModemSimulator::start(SimConfig::default()).expect("modem simulator");
    let modem = sim.path().to_str().expect("utf-8 path").to_owned();

    let out = send(
        &env,
        &[
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--network",
            "cellular",
            "--modem",
            &modem,
            "-t",
            "cell",
            "over the air",
        ],
    );
    assert_eq!(sent_ok(&out), ["over the air"]);
    assert!(
        sim.commands().iter().any(|c| c.starts_with("AT+USOWR=")),
        "sent through the modem's socket: {:?}",
        sim.commands()
    );
    let got: Vec<String> = stored(&server, &apikey).await.into_iter().map(|(p, _)| p).collect();
    assert_eq!(got, ["over the air"]);

    // Piped, the status is one JSON object.
    let out = tool(&env, &["network", "status", "--network", "cellular", "--modem", &modem]);
    let status = out.json();
    assert_eq!(status["network"], "cellular", "{status}");
    assert_eq!(status["state"], "connected", "{status}");
    assert_eq!(status["operator"], "Thingstead Test Network", "{status}");
    assert_eq!(status["signal_dbm"], -73, "{status}");
    assert_eq!(status["modem"]["imsi"], "234507095123456", "{status}");
    assert_eq!(status["modem"]["model"], "SARA-R410M-02B", "{status}");

    // Choices that cannot work say why.
    let e = send(&env, &["--devicekey", &key, "--network", "cellular", "x"]).error_line();
    assert!(e.contains("--modem"), "{e}");
    let e = send(&env, &["--devicekey", &key, "--network", "ble", "x"]).error_line();
    assert!(e.contains("BLE is not supported"), "{e}");
    server.stop().await;
}
