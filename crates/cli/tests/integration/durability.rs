//! What a device was told is stored stays stored: across a restart, across
//! a graceful shutdown under load, and across SIGKILL during ingest.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::{Env, Load, SHUTDOWN_BOUND, Server, all_messages, org_with_device_and_key, send_frame};

/// Payloads stored for `apikey`, asserting none is stored twice.
async fn stored_payloads(server: &Server, apikey: &str) -> HashSet<String> {
    let all = all_messages(server.http, apikey).await;
    let n = all.len();
    let set: HashSet<String> = all.into_iter().map(|m| m.payload).collect();
    assert_eq!(set.len(), n, "a payload is stored more than once");
    set
}

/// Asserts every acknowledged payload is stored, and nothing was stored
/// that this test did not send.
fn assert_acked_stored(acked: &HashSet<String>, stored: &HashSet<String>, prefix: &str) {
    let missing: Vec<_> = acked.difference(stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged frames are not stored, e.g. {:?}",
        missing.len(),
        acked.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        stored.iter().all(|p| p.starts_with(prefix)),
        "unexpected stored payloads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_a_restart() {
    let env = Env::new();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let server = env.start();
    let sent: HashSet<String> = (0..40).map(|i| format!("restart-{i}")).collect();
    for p in &sent {
        assert_eq!(send_frame(server.device_tcp, &key, p, &["t"]).await.unwrap(), "[0,0]");
    }
    server.stop().await;

    let server = env.start();
    assert_eq!(stored_payloads(&server, &apikey).await, sent);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_shutdown_under_load_keeps_every_acknowledged_frame() {
    let env = Env::new();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let d2 = env.admin(&["device", "create", "--org", "acme"]);
    let keys = vec![key, d2["devicekey"].as_str().unwrap().to_string()];
    let mut server = env.start();

    let load = Load::start(server.device_tcp, &keys, 8, "graceful");
    load.wait_acked(100, Duration::from_secs(20)).await;
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(SHUTDOWN_BOUND).await;
    let (acked, _) = load.finish().await;
    match status {
        Some(s) => assert!(
            s.success(),
            "serve exited with {s:?} on SIGTERM under load\nlog:\n{}",
            server.logs()
        ),
        None => panic!(
            "serve did not exit within {SHUTDOWN_BOUND:?} of SIGTERM under load\nlog:\n{}",
            server.logs()
        ),
    }
    drop(server);
    assert!(acked.len() >= 100);

    let server = env.start();
    let stored = stored_payloads(&server, &apikey).await;
    assert_acked_stored(&acked, &stored, "graceful-");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_ingest_loses_no_acknowledged_frame() {
    let env = Env::new();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let server = env.start();

    let load = Load::start(server.device_tcp, &[key], 8, "killed");
    load.wait_acked(200, Duration::from_secs(20)).await;
    // Kill while frames are in flight.
    server.kill();
    let (acked, _) = load.finish().await;
    assert!(acked.len() >= 200);

    let server = env.start();
    let stored = stored_payloads(&server, &apikey).await;
    assert_acked_stored(&acked, &stored, "killed-");
    server.stop().await;
}
