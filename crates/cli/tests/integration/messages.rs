//! `thingstead messages list | tail` against a real server: what devices
//! sent, decoded, as JSON lines when stdout is not a terminal.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Env, Output, Server, org_with_device_and_key, send_frame, wait_timeout};

/// Upper bound for `tail` to print a line, or to exit after Ctrl-C.
const TAIL_TIMEOUT: Duration = Duration::from_secs(10);

/// `thingstead messages ARGS... --server URL`, run to completion.
fn messages(env: &Env, server: &Server, args: &[&str]) -> Output {
    let mut c = env.bare();
    c.arg("messages").args(args).arg("--server").arg(server.url(""));
    env.run(c)
}

/// The JSON lines of a successful run.
#[track_caller]
fn lines(out: &Output) -> Vec<Value> {
    out.ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect()
}

fn payloads(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|l| l["payload"].as_str().expect("payload")).collect()
}

/// RFC 3339, UTC, milliseconds: `2026-11-28T10:00:00.123Z`.
fn is_rfc3339_ms(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[23] == b'Z'
        && s.bytes().filter(u8::is_ascii_digit).count() == 17
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_decoded_payloads_with_filters() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, uuid) = org_with_device_and_key(&env, "acme");
    let other = env.admin(&["device", "create", "--org", "acme"]);
    let other_key = other["devicekey"].as_str().unwrap();
    for (k, data, topics) in [
        (key.as_str(), "21.5", &["temp", "kitchen"][..]),
        (key.as_str(), "héllo wörld", &[][..]),
        (other_key, "from-other", &["temp"][..]),
    ] {
        assert_eq!(send_frame(server.device_tcp, k, data, topics).await.unwrap(), "[0,0]");
    }

    let all = lines(&messages(&env, &server, &["list", "--apikey", &apikey]));
    assert_eq!(payloads(&all), ["from-other", "héllo wörld", "21.5"], "newest first");
    assert_eq!(all[2]["topics"], serde_json::json!(["temp", "kitchen"]));
    assert_eq!(all[2]["deviceid"], uuid.as_str());
    assert!(all[0]["id"].as_i64() > all[2]["id"].as_i64());
    for l in &all {
        let t = l["received_at"].as_str().unwrap_or_default();
        assert!(is_rfc3339_ms(t), "received_at {t:?}");
    }

    let only = |args: &[&str]| {
        let mut all = vec!["list", "--apikey", apikey.as_str()];
        all.extend_from_slice(args);
        lines(&messages(&env, &server, &all))
    };
    assert_eq!(payloads(&only(&["--device", &uuid])), ["héllo wörld", "21.5"]);
    assert_eq!(payloads(&only(&["--topic", "temp"])), ["from-other", "21.5"]);
    assert_eq!(payloads(&only(&["--limit", "1"])), ["from-other"]);

    // The key from the environment.
    let mut c = env.bare();
    c.args(["messages", "list", "--server", &server.url("")])
        .env("THINGSTEAD_APIKEY", &apikey);
    assert_eq!(lines(&env.run(c)).len(), 3);

    // A wrong key: one clear error line, nothing on stdout.
    let e = messages(&env, &server, &["list", "--apikey", "wrong"]).error_line();
    assert!(e.contains("401"), "{e}");
    server.stop().await;
}

/// A running `messages tail` whose stdout lines arrive on a channel.
struct Tail {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Tail {
    fn start(env: &Env, server: &Server, apikey: &str) -> Tail {
        let mut c = env.bare();
        c.args([
            "messages",
            "tail",
            "--interval-ms",
            "100",
            "--apikey",
            apikey,
            "--server",
        ])
        .arg(server.url(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut child = c.spawn().expect("spawn messages tail");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Tail { child, lines }
    }

    /// The next line as JSON, within the bound.
    #[track_caller]
    fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(TAIL_TIMEOUT)
            .unwrap_or_else(|e| panic!("no line from tail within {TAIL_TIMEOUT:?}: {e}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"))
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_follows_new_messages_until_ctrl_c() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    assert_eq!(
        send_frame(server.device_tcp, &key, "before", &[]).await.unwrap(),
        "[0,0]"
    );

    let mut tail = Tail::start(&env, &server, &apikey);
    assert_eq!(tail.next()["payload"], "before", "the stored message comes first");
    for payload in ["after-1", "after-2"] {
        assert_eq!(
            send_frame(server.device_tcp, &key, payload, &["t"]).await.unwrap(),
            "[0,0]"
        );
        let l = tail.next();
        assert_eq!(l["payload"], payload, "{l}");
        assert_eq!(l["topics"], serde_json::json!(["t"]));
    }

    // Ctrl-C ends it cleanly.
    // SAFETY: kill(2) with the pid of our own child, which has not been reaped yet.
    let rc = unsafe { libc::kill(tail.child.id() as i32, libc::SIGINT) };
    assert_eq!(rc, 0);
    let status = wait_timeout(&mut tail.child, TAIL_TIMEOUT).expect("tail did not exit after SIGINT");
    assert!(status.success(), "tail exited with {status:?} on SIGINT");
    assert!(tail.lines.try_recv().is_err(), "nothing printed twice");
    server.stop().await;
}
