//! `thingstead serve`: the ready file, logs, /healthz, /metrics, the data
//! dir, schema-version refusal and tenant scoping over REST.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::Value;

use crate::support::{Env, all_messages, http_client, org_with_device_and_key, send_frame};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_file_names_every_bound_listener() {
    let env = Env::new();
    // `start` polls the ready file every millisecond from before the process
    // starts and fails on any read that is not a whole JSON object.
    let server = env.start();
    let ready = server.ready.as_object().expect("ready file is an object");
    for key in ["http", "device_tcp"] {
        let addr: std::net::SocketAddr = ready[key].as_str().unwrap().parse().unwrap();
        assert!(addr.ip().is_loopback(), "{key}: {addr}");
        assert_ne!(addr.port(), 0, "{key} has port 0");
    }
    assert_ne!(server.http, server.device_tcp);
    // Written by rename: nothing else is left beside it.
    let entries: Vec<_> = std::fs::read_dir(env.ready_file().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries, ["ready.json"], "stray files beside the ready file");

    // The addresses are the live listeners.
    let r = http_client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::net::TcpStream::connect(server.device_tcp)
        .await
        .expect("device TCP listener");
    // The log names the same addresses.
    let logs = server.logs();
    assert!(
        logs.contains(&server.http.to_string()),
        "log lacks the http address:\n{logs}"
    );
    assert!(
        logs.contains(&server.device_tcp.to_string()),
        "log lacks the device address:\n{logs}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_format_json_writes_json_lines() {
    let env = Env::new();
    let server = env.spawn_server(env.serve_cmd(&[
        "--http",
        "127.0.0.1:0",
        "--device-tcp",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ]));
    let addr = server.http.to_string();
    let log = server.log_path();
    server.stop().await;
    // The process is gone, so the log is complete.
    let logs = std::fs::read_to_string(log).unwrap();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log output");
    for l in &lines {
        let _: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"));
    }
    assert!(logs.contains(&addr), "json log lacks the http address:\n{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_creates_the_data_dir_with_mode_0700() {
    let env = Env::new();
    assert!(!env.data_dir().exists());
    let server = env.start();
    let mode = std::fs::metadata(env.data_dir()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "data dir mode {mode:o}");
    server.stop().await;
}

/// The value of the first sample of `name` whose labels contain all of `labels`.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{') | Some(b' ')))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics() {
    let env = Env::new();
    let server = env.start();
    let client = http_client();

    let r = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "healthz content-type {ct:?}");
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({ "status": "ok" }));

    // A store commit through the device face, created while running.
    let (key, _, _) = org_with_device_and_key(&env, "acme");
    assert_eq!(send_frame(server.device_tcp, &key, "m", &["t"]).await.unwrap(), "[0,0]");

    let r = client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let m = r.text().await.unwrap();
    let healthz = sample(
        &m,
        "thingstead_http_requests_total",
        &["route=\"/healthz\"", "status=\"200\""],
    );
    assert!(healthz >= Some(1.0), "no healthz request counted:\n{m}");
    let bucket = sample(
        &m,
        "thingstead_http_request_duration_seconds_bucket",
        &["route=\"/healthz\"", "le=\"+Inf\""],
    );
    assert!(bucket >= Some(1.0), "no latency histogram for /healthz:\n{m}");
    assert!(
        sample(&m, "thingstead_open_connections", &["listener=\"http\""]).is_some(),
        "http gauge:\n{m}"
    );
    assert!(
        sample(&m, "thingstead_open_connections", &["listener=\"device_tcp\""]).is_some(),
        "device gauge:\n{m}"
    );
    assert!(
        sample(&m, "thingstead_store_commits_total", &[]) >= Some(1.0),
        "no store commit counted:\n{m}"
    );
    assert!(
        sample(&m, "thingstead_store_commit_seconds_count", &[]) >= Some(1.0),
        "no commit latency:\n{m}"
    );

    // The metrics request itself is counted on the next scrape.
    let m2 = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sample(&m2, "thingstead_http_requests_total", &["route=\"/metrics\""]) >= Some(1.0),
        "{m2}"
    );
    server.stop().await;
}

/// Sets the SQLite user_version of the store, with the sqlite3 CLI when
/// present, else python3's sqlite3 module.
fn set_user_version(db: &std::path::Path, v: u32) {
    let sql = format!("PRAGMA user_version = {v};");
    let ok = Command::new("sqlite3")
        .arg(db)
        .arg(&sql)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let script =
            format!("import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute({sql:?})\nc.commit()\nc.close()");
        let st = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(db)
            .status()
            .expect("python3");
        assert!(st.success(), "setting user_version with python3 failed");
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let env = Env::new();
    env.admin(&["org", "create", "acme"]);
    let db = env.data_dir().join("thingstead.db");
    assert!(db.is_file(), "no store at {}", db.display());
    set_user_version(&db, 999);

    let out = env.run(env.serve_cmd(&["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"]));
    assert!(!out.status.success(), "serve started on a newer schema");
    assert!(out.stderr.contains("newer"), "unclear refusal: {}", out.stderr);
    assert!(!env.ready_file().exists(), "ready file written although serve refused");

    // The admin CLI must not write to it either.
    let e = env.admin_err(&["org", "list"]);
    assert!(e.contains("newer"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_scoped() {
    let env = Env::new();
    let server = env.start();
    let (key_a, api_a, dev_a) = org_with_device_and_key(&env, "a");
    let (key_b, api_b, dev_b) = org_with_device_and_key(&env, "b");
    for i in 0..3 {
        assert_eq!(
            send_frame(server.device_tcp, &key_a, &format!("a-{i}"), &["t"])
                .await
                .unwrap(),
            "[0,0]"
        );
        assert_eq!(
            send_frame(server.device_tcp, &key_b, &format!("b-{i}"), &["t"])
                .await
                .unwrap(),
            "[0,0]"
        );
    }

    let seen_a = all_messages(server.http, &api_a).await;
    let seen_b = all_messages(server.http, &api_b).await;
    let mut pa: Vec<_> = seen_a.iter().map(|m| m.payload.as_str()).collect();
    let mut pb: Vec<_> = seen_b.iter().map(|m| m.payload.as_str()).collect();
    pa.sort();
    pb.sort();
    assert_eq!(pa, ["a-0", "a-1", "a-2"]);
    assert_eq!(pb, ["b-0", "b-1", "b-2"]);
    assert!(seen_a.iter().all(|m| m.deviceid == dev_a));
    assert!(seen_b.iter().all(|m| m.deviceid == dev_b));

    // Asking for b's device or b's message id with a's key shows nothing.
    let client = http_client();
    let r: Value = client
        .get(server.url(&format!("/api/1/csr/rdm?apikey={api_a}&deviceid={dev_b}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["data"].as_array().map(Vec::len),
        Some(0),
        "a's key sees b's device: {r}"
    );
    let r = client
        .get(server.url(&format!("/api/1/csr/rdm/{}?apikey={api_a}", seen_b[0].id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a's key reads b's message by id");
    let r = client
        .get(server.url(&format!("/api/1/csr/rdm/{}?apikey={api_b}", seen_b[0].id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "b's key cannot read b's message by id");

    // The admin list is scoped the same way.
    let list = env.admin(&["device", "list", "--org", "a"]);
    let uuids: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids, [dev_a.as_str()]);
    server.stop().await;
}
