//! Several `thingstead serve` processes on one PostgreSQL database and one
//! NATS bus: work that must happen once per cluster happens once; a message
//! stored through one node is read and streamed through the others; a node
//! killed mid-ingest loses no acknowledged message and the others go on;
//! the nodes ride out PostgreSQL and NATS restarts without being restarted.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::cluster::{Cluster, MessageStream, eventually, healthz, logs, metric};
use crate::support::{Load, all_messages, http_client, send_frame};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_send_each_sms_exactly_once() {
    let cluster = Cluster::start().await;
    let (webhook, received) = webhook_receiver().await;
    let (_, apikey) = cluster.org_with_device_and_key("acme");
    let sms = [
        ("THINGSTEAD_SMS__PROVIDER", "webhook"),
        ("THINGSTEAD_SMS__WEBHOOK__URL", webhook.as_str()),
        ("THINGSTEAD_SMS__POLL_INTERVAL_MS", "50"),
    ];
    let a = cluster.node_with(&sms);
    let b = cluster.node_with(&sms);

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

/// Sends one message; the device's reply.
async fn send(node: &crate::support::Server, devicekey: &str, payload: &str) -> String {
    send_frame(node.device_tcp, devicekey, payload, &["t"])
        .await
        .unwrap_or_else(|e| format!("no reply: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_to_one_node_is_read_on_a_second_and_streamed_on_a_third() {
    let cluster = Cluster::start().await;
    let (devicekey, apikey) = cluster.org_with_device_and_key("acme");
    let (other_devicekey, _) = cluster.org_with_device_and_key("other");
    let (a, b, c) = (cluster.node(), cluster.node(), cluster.node());
    let mut stream = MessageStream::open(&c, &apikey).await;

    // Another organization's message, through yet another node, is not streamed.
    assert_eq!(send(&b, &other_devicekey, "not acme's").await, "[0,0]");
    assert_eq!(send(&a, &devicekey, "hello from a").await, "[0,0]");
    let stored = all_messages(b.http, &apikey).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].payload, "hello from a");
    let streamed = stream.next_message(Duration::from_secs(10)).await;
    let streamed = streamed.unwrap_or_else(|| panic!("nothing streamed on c\n{}", logs(&[&a, &b, &c])));
    assert_eq!(
        streamed.payload, "hello from a",
        "the first event is acme's own message"
    );
    assert_eq!(streamed.id, stored[0].id, "the id the list gives");
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_during_ingest_loses_no_acknowledged_message_and_the_others_go_on() {
    let cluster = Cluster::start().await;
    let (key_a, apikey) = cluster.org_with_device_and_key("acme");
    let key_b = cluster.device("acme");
    let (a, b) = (cluster.node(), cluster.node());
    let on_a = Load::start(a.device_tcp, &[key_a], 4, "on-a");
    let on_b = Load::start(b.device_tcp, &[key_b], 4, "on-b");
    on_a.wait_acked(100, Duration::from_secs(20)).await;
    on_b.wait_acked(20, Duration::from_secs(20)).await;
    // Killed while frames are in flight.
    a.kill();
    let acked_at_kill = on_b.acked_count();
    on_b.wait_acked(acked_at_kill + 100, Duration::from_secs(15)).await;
    let (mut acked, _) = on_a.finish().await;
    let (acked_b, _) = on_b.finish().await;
    acked.extend(acked_b);

    let all = all_messages(b.http, &apikey).await;
    let stored: HashSet<String> = all.iter().map(|m| m.payload.clone()).collect();
    assert_eq!(stored.len(), all.len(), "a message is stored twice");
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages are not stored, e.g. {:?}",
        missing.len(),
        acked.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    assert!(stored.iter().all(|p| p.starts_with("on-a-") || p.starts_with("on-b-")));
    assert_eq!(healthz(&b).await, 200);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_ride_out_a_postgresql_restart() {
    let cluster = Cluster::start().await;
    let (devicekey, apikey) = cluster.org_with_device_and_key("acme");
    let (a, b) = (cluster.node(), cluster.node());
    assert_eq!(send(&a, &devicekey, "before").await, "[0,0]");

    tokio::task::block_in_place(|| cluster.pg.stop()).unwrap();
    let down = || async { healthz(&a).await == 503 && healthz(&b).await == 503 };
    eventually(Duration::from_secs(10), || logs(&[&a, &b]), down).await;
    assert_eq!(
        send(&a, &devicekey, "while down").await,
        "[6,0]",
        "code 6: try again later"
    );
    assert_eq!(send(&b, &devicekey, "while down").await, "[6,0]");

    tokio::task::block_in_place(|| cluster.pg.start_again()).unwrap();
    let up = || async { healthz(&a).await == 200 && healthz(&b).await == 200 };
    eventually(Duration::from_secs(15), || logs(&[&a, &b]), up).await;
    assert_eq!(send(&b, &devicekey, "after b").await, "[0,0]", "{}", logs(&[&a, &b]));
    assert_eq!(send(&a, &devicekey, "after a").await, "[0,0]", "{}", logs(&[&a, &b]));
    let mut stored: Vec<String> = all_messages(a.http, &apikey)
        .await
        .into_iter()
        .map(|m| m.payload)
        .collect();
    stored.sort();
    assert_eq!(stored, ["after a", "after b", "before"]);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_resumes_after_nats_restarts_and_the_gap_is_counted() {
    let mut cluster = Cluster::start().await;
    let (devicekey, apikey) = cluster.org_with_device_and_key("acme");
    let (a, b) = (cluster.node(), cluster.node());
    let mut stream = MessageStream::open(&b, &apikey).await;
    assert_eq!(send(&a, &devicekey, "before").await, "[0,0]");
    let got = stream.wait_for("before", Duration::from_secs(10)).await;
    assert!(got.is_some(), "not streamed across nodes\n{}", logs(&[&a, &b]));

    // While NATS is away, messages are still stored; the events that could
    // not cross are dropped and counted.
    tokio::task::block_in_place(|| cluster.nats.kill());
    let dropped = r#"thingstead_bus_dropped_total{reason="disconnected"}"#;
    let mut n = 0;
    let counted = || {
        n += 1;
        let payload = format!("during-{n}");
        let (a, devicekey) = (&a, &devicekey);
        async move {
            assert_eq!(send(a, devicekey, &payload).await, "[0,0]", "stored while NATS is away");
            metric(a, dropped).await >= 1.0
        }
    };
    eventually(Duration::from_secs(10), || logs(&[&a, &b]), counted).await;

    tokio::task::block_in_place(|| cluster.nats.restart());
    let reconnects = "thingstead_bus_reconnects_total";
    let back = || async { metric(&a, reconnects).await >= 1.0 && metric(&b, reconnects).await >= 1.0 };
    eventually(Duration::from_secs(15), || logs(&[&a, &b]), back).await;

    // The stream opened before the restart carries new messages again.
    let deadline = Instant::now() + Duration::from_secs(15);
    for i in 0.. {
        assert!(
            Instant::now() < deadline,
            "no message crossed after NATS came back\n{}",
            logs(&[&a, &b])
        );
        assert_eq!(send(&a, &devicekey, &format!("after-{i}")).await, "[0,0]");
        if let Some(m) = stream.next_message(Duration::from_secs(1)).await {
            assert!(m.payload.starts_with("after-"), "{m:?}");
            break;
        }
    }
    a.stop().await;
    b.stop().await;
}
