//! The server on the PostgreSQL store: a device frame stored and read back
//! over REST; PostgreSQL stopped -> /healthz 503 and devices hear code 6;
//! PostgreSQL started again -> the same server recovers, no restart.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use thingstead_server::settings::StoreBackend;
use thingstead_server::testing::TestServer;
use thingstead_testkit::postgres::PgCluster;

use super::common::{eventually, http, message_frame, send_frame};

fn payload(record: &Value) -> String {
    use base64::Engine;
    let inner: Value = serde_json::from_str(record["data"].as_str().unwrap()).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(inner["data"].as_str().unwrap())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgres_stores_frames_and_rides_out_an_outage() {
    let cluster = tokio::task::spawn_blocking(|| PgCluster::start().expect("PostgreSQL 15 for this test"))
        .await
        .unwrap();
    let url = cluster.create_database().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("master.key");
    thingstead_core::master_key::MasterKey::generate(&key_file).unwrap();
    let server = TestServer::start_with(|s| {
        s.store.backend = StoreBackend::Postgres;
        s.store.url = Some(url.clone());
        s.secrets.master_key_file = Some(key_file.clone());
    })
    .await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let key = server.create_api_key("acme").await;
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &["t"], "before")).await,
        b"[0,0]"
    );
    let list = || {
        let url = server.url(&format!("/api/1/csr/rdm?apikey={key}"));
        async move { http().get(url).send().await.unwrap() }
    };
    let page: Value = list().await.json().await.unwrap();
    let texts: Vec<_> = page["data"].as_array().unwrap().iter().map(payload).collect();
    assert_eq!(texts, ["before"]);
    // Nothing of it is on the data dir: the records are in PostgreSQL.
    assert!(!server.data_dir().join("thingstead.db").exists());
    // But the admin commands' bus socket is: the node made the data dir for it.
    assert!(
        server.data_dir().join("bus.sock").exists(),
        "bus.sock on a PostgreSQL node"
    );

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().unwrap();
        cluster
    })
    .await
    .unwrap();
    let r = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &["t"], "during")).await,
        b"[6,0]",
        "a device must not hear \"stored\" while nothing can be stored"
    );

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start_again().unwrap();
        cluster
    })
    .await
    .unwrap();
    let healthy = eventually(15, || async {
        http()
            .get(server.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;
    assert!(healthy, "the server recovers without a restart");
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &["t"], "after")).await,
        b"[0,0]"
    );
    let page: Value = list().await.json().await.unwrap();
    let texts: Vec<_> = page["data"].as_array().unwrap().iter().map(payload).collect();
    assert_eq!(texts, ["after", "before"]);
    tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .unwrap();
    drop(cluster);
}
