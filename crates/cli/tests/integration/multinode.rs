//! Several `thingstead serve` processes on one PostgreSQL database: work
//! that must happen once per cluster happens once.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thingstead_testkit::postgres::PgCluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{Env, http_client};

/// SMS ids the webhook receiver was asked to send, with how often.
type Received = Arc<Mutex<HashMap<i64, u32>>>;

/// A webhook SMS provider: answers every POST with 200 (after a short
/// delay, so the nodes' sends overlap) and counts the SMS ids it got.
async fn webhook_receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let received = Received::default();
    let counts = received.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let counts = counts.clone();
            tokio::spawn(async move { serve_webhook(conn, counts).await });
        }
    });
    (url, received)
}

/// Serves the requests of one connection (reqwest keeps it alive).
async fn serve_webhook(mut conn: TcpStream, counts: Received) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Value = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(Value::Null);
        buf.drain(..head_end + len);
        if let Some(id) = body["id"].as_i64() {
            *counts.lock().unwrap().entry(id).or_default() += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if conn.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Points a command at the shared database, key and webhook.
fn cluster_node(mut c: Command, db: &str, key: &std::path::Path, webhook: &str) -> Command {
    c.env("THINGSTEAD_STORE__BACKEND", "postgres")
        .env("THINGSTEAD_STORE__URL", db)
        .env("THINGSTEAD_SECRETS__MASTER_KEY_FILE", key)
        .env("THINGSTEAD_SMS__PROVIDER", "webhook")
        .env("THINGSTEAD_SMS__WEBHOOK__URL", webhook)
        .env("THINGSTEAD_SMS__POLL_INTERVAL_MS", "50");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_send_each_sms_exactly_once() {
    let cluster = tokio::task::spawn_blocking(|| PgCluster::start().expect("PostgreSQL 15 for this test"))
        .await
        .unwrap();
    let db = cluster.create_database().unwrap();
    let (webhook, received) = webhook_receiver().await;
    let (env_a, env_b) = (Env::new(), Env::new());
    let key = env_a.root().join("master.key");
    let out = env_a.run({
        let mut c = env_a.bare();
        c.args(["admin", "master-key", "generate", "--out"]).arg(&key);
        c
    });
    assert!(out.status.success(), "{}", out.stderr);
    let admin = |args: &[&str]| {
        let mut all = vec!["admin"];
        all.extend_from_slice(args);
        env_a.run(cluster_node(env_a.cmd(&all), &db, &key, &webhook)).json()
    };
    admin(&["org", "create", "acme"]);
    let apikey = admin(&["apikey", "create", "--org", "acme"])["apikey"]
        .as_str()
        .unwrap()
        .to_string();

    let listen = ["--http", "127.0.0.1:0", "--device-tcp", "127.0.0.1:0"];
    let a = env_a.spawn_server(cluster_node(env_a.serve_cmd(&listen), &db, &key, &webhook));
    let b = env_b.spawn_server(cluster_node(env_b.serve_cmd(&listen), &db, &key, &webhook));

    // Queued through both nodes, so both dispatchers are woken and scan.
    let http = http_client();
    let mut queued = Vec::new();
    for i in 0..40 {
        let node = if i % 2 == 0 { &a } else { &b };
        let r = http
            .post(node.url(&format!("/api/1/sms?apikey={apikey}")))
            .json(&json!({"destination": "+15555550123", "body": format!("sms {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        queued.push(r.json::<Value>().await.unwrap()["data"]["id"].as_i64().unwrap());
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sent = received.lock().unwrap().len();
        if sent >= queued.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {sent} of {} SMS reached the webhook\nnode a:\n{}\nnode b:\n{}",
            queued.len(),
            a.logs(),
            b.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Any second send would be under way by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts = received.lock().unwrap().clone();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "SMS sent more than once: {twice:?}");
    let mut ids: Vec<i64> = counts.keys().copied().collect();
    ids.sort_unstable();
    queued.sort_unstable();
    assert_eq!(ids, queued, "every queued SMS, exactly once");
    // Both nodes recorded the outcome in the shared store.
    let page: Value = http
        .get(b.url(&format!("/api/1/sms?apikey={apikey}&limit=100")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 40);
    assert!(data.iter().all(|s| s["state"] == "sent"), "{page}");
    a.stop().await;
    b.stop().await;
}
