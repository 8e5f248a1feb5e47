//! `/api/1`: API-key auth, message listing with filters and cursor paging,
//! tenant isolation, SMS over REST.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;
use thingstead_server::testing::TestServer;

use super::common::{get_json, http, message_frame, send_frame};

fn payload(record: &Value) -> Vec<u8> {
    let inner: Value = serde_json::from_str(record["data"].as_str().unwrap()).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(inner["data"].as_str().unwrap())
        .unwrap()
}

#[tokio::test]
async fn an_api_key_is_required_and_checked() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let c = http();
    let r = c.get(server.url("/api/1/csr/rdm")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "unauthorized");
    let r = c.get(server.url("/api/1/csr/rdm?apikey=wrong")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(server.url("/api/1/csr/rdm"))
        .basic_auth("apikey", Some(&key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], true);
    server.stop().await;
}

#[tokio::test]
async fn messages_filter_by_device_topic_and_time() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let a = server.create_device("acme").await;
    let b = server.create_device("acme").await;
    for (d, topics, text) in [
        (&a, vec!["temp"], "a1"),
        (&a, vec!["hum"], "a2"),
        (&b, vec!["temp", "x"], "b1"),
    ] {
        assert_eq!(
            send_frame(server.device_tcp, &message_frame(&d.devicekey, &topics, text)).await,
            b"[0,0]"
        );
    }
    let list = |q: String| {
        let url = server.url(&format!("/api/1/csr/rdm?apikey={key}&{q}"));
        async move { http().get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let texts = |v: &Value| v["data"].as_array().unwrap().iter().map(payload).collect::<Vec<_>>();
    assert_eq!(
        texts(&list(String::new()).await),
        [b"b1".to_vec(), b"a2".to_vec(), b"a1".to_vec()]
    );
    assert_eq!(
        texts(&list(format!("deviceid={}", a.uuid)).await),
        [b"a2".to_vec(), b"a1".to_vec()]
    );
    assert_eq!(
        texts(&list("topicname=temp".into()).await),
        [b"b1".to_vec(), b"a1".to_vec()]
    );
    let now = thingstead_core::now_ms() / 1000;
    assert_eq!(texts(&list(format!("timestart={}", now + 100)).await).len(), 0);
    assert_eq!(
        texts(&list(format!("timestart={}&timeend={}", now - 100, now + 100)).await).len(),
        3
    );

    let first = list("limit=1".into()).await;
    let record = &first["data"][0];
    assert_eq!(record["tags"], serde_json::json!(["temp", "x"]));
    let one: Value = http()
        .get(server.url(&format!("/api/1/csr/rdm/{}?apikey={key}", record["id"])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(payload(&one["data"]), b"b1");
    let bad = http()
        .get(server.url(&format!("/api/1/csr/rdm?apikey={key}&limit=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn cursor_paging_is_stable_while_messages_arrive() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    for i in 0..25 {
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], &format!("m{i}"))).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let mut url = server.url(&format!("/api/1/csr/rdm?apikey={key}&limit=10"));
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http().get(url).send().await.unwrap().json().await.unwrap();
        // New messages land between pages; they must not shift what the cursor returns.
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "late")).await;
        seen.extend(page["data"].as_array().unwrap().iter().map(payload));
        if page["continues"] == false {
            break;
        }
        cursor = page["lastid"].as_i64();
    }
    let want: Vec<Vec<u8>> = (0..25).rev().map(|i| format!("m{i}").into_bytes()).collect();
    assert_eq!(seen, want);
    server.stop().await;
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    let acme_key = server.create_api_key("acme").await;
    let globex_key = server.create_api_key("globex").await;
    let d = server.create_device("acme").await;
    send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "secret")).await;
    let c = http();
    let get = |path: String| c.get(server.url(&path)).send();
    let r: Value = get_json(&server.url(&format!("/api/1/csr/rdm?apikey={globex_key}"))).await;
    assert_eq!(r["data"].as_array().unwrap().len(), 0);
    let r: Value = get_json(&server.url(&format!("/api/1/csr/rdm?apikey={globex_key}&deviceid={}", d.uuid))).await;
    assert_eq!(r["data"].as_array().unwrap().len(), 0);
    let acme: Value = get_json(&server.url(&format!("/api/1/csr/rdm?apikey={acme_key}"))).await;
    let id = &acme["data"][0]["id"];
    let r = get(format!("/api/1/csr/rdm/{id}?apikey={globex_key}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get(format!("/api/1/devices/{}?apikey={globex_key}", d.uuid))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r: Value = get_json(&server.url(&format!("/api/1/devices?apikey={globex_key}"))).await;
    assert_eq!(r["data"].as_array().unwrap().len(), 0);
    let r: Value = get_json(&server.url(&format!("/api/1/devices?apikey={acme_key}"))).await;
    let listed = &r["data"][0];
    assert_eq!(listed["uuid"], d.uuid.as_str());
    assert!(
        listed.get("secret").is_none() && listed.get("devicekey").is_none(),
        "no secrets in listings"
    );
    server.stop().await;
}

#[tokio::test]
async fn sms_can_be_queued_and_listed_over_rest() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let c = http();
    let url = server.url(&format!("/api/1/sms?apikey={key}"));
    let r = c
        .post(&url)
        .json(&serde_json::json!({"destination": "+15555550123", "body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c
        .post(&url)
        .json(&serde_json::json!({"destination": "+12ab", "body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(&url)
        .json(&serde_json::json!({"destination": "+15555550123", "body": "x".repeat(161)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let list: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
    let rows = list["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "queued");
    assert_eq!(rows[0]["text"], "hi");
    server.stop().await;
}

#[tokio::test]
async fn an_export_at_the_maximum_limit_sees_every_row() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let d = server.create_device("acme").await;
    let p = server.platform();
    let t = p.tenant("acme").await.unwrap();
    let device = p.device(&t, &d.uuid).await.unwrap();
    const TOTAL: usize = 2_345;
    for chunk in (0..TOTAL).collect::<Vec<_>>().chunks(250) {
        let stored = chunk.iter().map(|i| {
            p.ingest_message(
                &t,
                &device,
                thingstead_core::IncomingMessage {
                    topics: vec![],
                    payload: format!("m{i}").into_bytes(),
                    peer: "127.0.0.1:1".into(),
                    metadata: None,
                    idempotency_key: None,
                },
            )
        });
        for r in futures::future::join_all(stored).await {
            r.unwrap();
        }
    }

    for limit in [1000, 999] {
        let mut ids = std::collections::HashSet::new();
        let mut pages = Vec::new();
        let mut cursor: Option<i64> = None;
        loop {
            let mut url = server.url(&format!("/api/1/csr/rdm?apikey={key}&limit={limit}"));
            if let Some(c) = cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: Value = get_json(&url).await;
            let rows = page["data"].as_array().unwrap();
            pages.push((rows.len(), page["continues"].clone()));
            ids.extend(rows.iter().map(|r| r["id"].as_i64().unwrap()));
            if page["continues"] != true {
                break;
            }
            cursor = page["lastid"].as_i64();
        }
        assert_eq!(ids.len(), TOTAL, "limit={limit}: pages {pages:?}");
        let last = TOTAL - (TOTAL / limit) * limit;
        assert_eq!(pages.last(), Some(&(last, Value::Bool(false))), "limit={limit}");
    }
    server.stop().await;
}
