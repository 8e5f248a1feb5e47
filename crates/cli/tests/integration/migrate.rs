//! `thingstead admin migrate --to postgres://...`: an embedded store built
//! through the real CLI and server moves to PostgreSQL, and a node serving
//! that database sees everything the embedded server had.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use thingstead_core::documents::{Collection, DataItem, NewDocument};
use thingstead_core::master_key::MasterKey;
use thingstead_core::records::{DeliveryResult, NewMessage, SmsState, SmsUpdate};
use thingstead_core::store::sqlite::SqliteStore;
use thingstead_core::store::{DocumentStore, MessageStore, OutboxStore, RegistryStore, StoreLifecycle};
use thingstead_core::{OrgName, Tenant};
use thingstead_proto::device::{DeviceFrame, TotpFrame, TotpPayload};
use thingstead_testkit::postgres::PgCluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Env, http_client, send_frame};

/// How many messages the embedded store gets over device TCP.
const MESSAGES: usize = 2000;

/// Every message the API key sees, oldest first: (id, record with the
/// payload decoded to bytes).
async fn messages(http: SocketAddr, apikey: &str) -> Vec<(i64, Vec<u8>, Value)> {
    let client = http_client();
    let mut out = Vec::new();
    let mut cursor: Option<i64> = None;
    for _ in 0..1000 {
        let mut url = format!("http://{http}/api/1/csr/rdm?apikey={apikey}&limit=1000");
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["success"], true, "{body}");
        for r in body["data"].as_array().unwrap() {
            let inner: Value = serde_json::from_str(r["data"].as_str().unwrap()).unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(inner["data"].as_str().unwrap())
                .unwrap();
            out.push((r["id"].as_i64().unwrap(), bytes, r.clone()));
        }
        if body["continues"] != true {
            out.sort_by_key(|m| m.0);
            return out;
        }
        cursor = Some(body["lastid"].as_i64().unwrap());
    }
    panic!("paging did not end");
}

async fn get_json(url: String) -> Value {
    let resp = http_client().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

/// One raw frame exchange.
async fn exchange(addr: SocketAddr, frame: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(frame).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut reply))
        .await
        .expect("reply in time")
        .unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

fn totp_frame(uuid: &str, otp: String, data: &str) -> Vec<u8> {
    DeviceFrame::Totp(TotpFrame {
        uuid: uuid.to_owned(),
        otp,
        payload: TotpPayload::Message {
            metadata: None,
            topics: vec![thingstead_proto::device::Topic::parse("otp").unwrap()],
            data: data.into(),
            idempotency_key: None,
        },
    })
    .encode()
}

/// A distinct number per call, for idempotency keys.
fn m_count() -> usize {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Logs bob of `org` in through the app API (WIRE.md B.2); the whole payload.
async fn app_session(http: SocketAddr, org: &str) -> Value {
    let r = http_client()
        .post(format!("http://{http}/api/auth/login"))
        .json(&json!({"username": "bob", "password": "correct-horse-9", "organization": org}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// bob's bearer token.
async fn app_login(http: SocketAddr, org: &str) -> String {
    app_session(http, org).await["token"].as_str().unwrap().to_owned()
}

/// bob's restricted token (for delivery URLs).
async fn app_restricted_token(http: SocketAddr, org: &str) -> String {
    app_session(http, org).await["restrictedToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The admin listings that describe the registry.
fn registry(env: &Env, node: &dyn Fn(Command) -> Command) -> Value {
    let list = |what: &str| {
        let v = env.run(node(env.cmd(&["admin", what, "list"]))).json();
        let mut items = v.as_array().unwrap().clone();
        items.sort_by_key(|i| i.to_string());
        Value::Array(items)
    };
    json!({
        "orgs": list("org"),
        "users": list("user"),
        "devices": list("device"),
        "apps": list("app"),
        "clients": list("client"),
        "apikeys": list("apikey"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_store_moves_to_postgres_with_nothing_lost() {
    let cluster = tokio::task::spawn_blocking(|| PgCluster::start().expect("PostgreSQL 15 for this test"))
        .await
        .unwrap();
    let db = cluster.create_database().unwrap();
    // Trust auth ignores the password; it is there to be kept out of the output.
    let target = db.replacen("postgres@", "postgres:pw-sekrit-4471@", 1);
    let env = Env::new();

    // --- the embedded store, through the real CLI and server.
    env.admin(&["org", "create", "acme"]);
    env.admin(&["org", "create", "beta"]);
    env.admin(&["org", "retention", "acme", "--secs", "86400"]);
    for org in ["acme", "beta"] {
        env.admin(&[
            "user",
            "create",
            "--org",
            org,
            "--username",
            "bob",
            "--password",
            "correct-horse-9",
        ]);
    }
    let d = env.admin(&["device", "create", "--org", "acme", "--name", "pump-1"]);
    let (devicekey, uuid) = (
        d["devicekey"].as_str().unwrap().to_owned(),
        d["uuid"].as_str().unwrap().to_owned(),
    );
    let t = env.admin(&["device", "create", "--org", "acme", "--name", "otp-1"]);
    let totp_uuid = t["uuid"].as_str().unwrap().to_owned();
    let seed = env.admin(&["device", "totp", "rotate", "--uuid", &totp_uuid])["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = env.admin(&["device", "create", "--org", "beta"]);
    let beta_key = b["devicekey"].as_str().unwrap().to_owned();
    env.admin(&["app", "create", "--org", "acme", "--name", "dashboard"]);
    env.admin(&["client", "create", "--org", "acme", "--scopes", "thing,category"]);
    let apikey = env.admin(&["apikey", "create", "--org", "acme"])["apikey"]
        .as_str()
        .unwrap()
        .to_owned();
    let beta_apikey = env.admin(&["apikey", "create", "--org", "beta"])["apikey"]
        .as_str()
        .unwrap()
        .to_owned();

    let server = env.start();
    let tcp = server.device_tcp;
    let sends: Vec<_> = (0..8)
        .map(|w| {
            let key = devicekey.clone();
            tokio::spawn(async move {
                for i in (w..MESSAGES).step_by(8) {
                    let data = format!("m{i} \u{0}\u{1}\u{7f}é€😀 {}", "x".repeat(i % 50));
                    let reply = send_frame(tcp, &key, &data, &["load", &format!("t{}", i % 3)])
                        .await
                        .unwrap();
                    assert_eq!(reply, "[0,0]");
                }
            })
        })
        .collect();
    for s in sends {
        s.await.unwrap();
    }
    assert_eq!(send_frame(tcp, &beta_key, "beta says hi", &[]).await.unwrap(), "[0,0]");
    let signer = thingstead::device::TotpSigner::from_seed(&seed).unwrap();
    let used = now_secs();
    assert_eq!(
        exchange(tcp, &totp_frame(&totp_uuid, signer.code_at(used), "by totp")).await,
        "[0,0]"
    );
    // Two SMS, sent by nobody (no provider): queued.
    let http = http_client();
    let mut sms_ids = Vec::new();
    for text in ["first", "second"] {
        let r = http
            .post(server.url(&format!("/api/1/sms?apikey={apikey}")))
            .json(&json!({"destination": "+15555550123", "body": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        sms_ids.push(r.json::<Value>().await.unwrap()["data"]["id"].as_i64().unwrap());
    }
    // A folder and a file uploaded through the app API: its bytes live in
    // the data dir and must come back identical from PostgreSQL's chunks.
    let file_bytes: Vec<u8> = (0..700_001u32).map(|i| (i.wrapping_mul(7919) >> 3) as u8).collect();
    let bob = app_login(server.http, "acme").await;
    let folder: Value = http
        .post(server.url("/api/content"))
        .bearer_auth(&bob)
        .json(&json!({"name": "plans"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(server.url(&format!(
            "/api/content/upload?name=floor.png&parent={}",
            folder["uuid"].as_str().unwrap()
        )))
        .bearer_auth(&bob)
        .header("content-type", "image/png")
        .body(file_bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    server.stop().await;

    // Data no wire API makes: non-UTF-8 payloads, an SMS marked sent with
    // its history, a recorded push; through the store abstraction.
    let key_file = env.data_dir().join("master.key");
    {
        let store = SqliteStore::open(&env.data_dir(), MasterKey::load(&key_file).unwrap()).unwrap();
        let acme: Tenant = store.tenant(&OrgName::parse("acme").unwrap()).await.unwrap().unwrap();
        for bytes in [vec![0u8, 255, 254, 0, 128], (0..=255u8).collect(), Vec::new()] {
            let m = NewMessage {
                payload: bytes,
                topics: vec!["bin".into()],
                received_at: now_secs() as i64 * 1000,
                peer: "127.0.0.1:4000".into(),
                sdk: Some("test".into()),
                modem: None,
                idempotency_key: Some(format!("bin-{}", m_count())),
            };
            store.insert_message(&acme, &uuid, m).await.unwrap();
        }
        store
            .claim_due_sms("node-a", now_secs() as i64 * 1000 + 60_000, 60_000, 100)
            .await
            .unwrap();
        store
            .update_sms(
                &acme,
                sms_ids[1],
                "node-a",
                SmsUpdate {
                    state: SmsState::Sent,
                    attempts: 1,
                    provider_id: Some("prov-77".into()),
                    reason: None,
                    next_attempt_at: 0,
                },
            )
            .await
            .unwrap();
        store
            .record_delivery(&acme, &uuid, "127.0.0.1:9", DeliveryResult::Refused, Some("refused"))
            .await
            .unwrap();
        // An application-platform document (with zones) and a data item.
        let Value::Object(thing) = json!({"name": "moved-thing", "location": {"uuid": "l1", "zones": [{"key": "z9"}]}})
        else {
            unreachable!()
        };
        let thing = NewDocument::new(Collection::Things, "thing-1", thing).unwrap();
        store.create_document(&acme, thing).await.unwrap();
        let item = DataItem::new("moved group", "k:1", &json!({"kept": "é€😀"})).unwrap();
        store.put_data(&acme, item).await.unwrap();
        store.close().await;
    }

    // What the embedded server shows, to compare with PostgreSQL's.
    let server = env.start();
    let before = messages(server.http, &apikey).await;
    assert_eq!(before.len(), MESSAGES + 1 + 3, "messages of acme before the move");
    let beta_before = messages(server.http, &beta_apikey).await;
    let sms_before: Vec<Value> = {
        let mut v = Vec::new();
        for id in &sms_ids {
            v.push(get_json(server.url(&format!("/api/1/sms/{id}?apikey={apikey}"))).await["data"].clone());
        }
        v
    };
    let deliveries_before = get_json(server.url(&format!("/api/1/devices/{uuid}/deliveries?apikey={apikey}"))).await;
    server.stop().await;
    // The server's first start made token key generation 1; one more.
    assert_eq!(env.admin(&["token-key", "rotate"])["token_key_generation"], 2);
    let registry_before = registry(&env, &|c| c);

    // --- a server running on the data dir makes migrate refuse.
    let running = env.start();
    let out = env.admin_out(&["migrate", "--to", &target]);
    let line = out.error_line();
    assert!(
        line.contains("server") && line.contains(&running.pid().to_string()),
        "{line}"
    );
    running.stop().await;

    // --- the move.
    let out = env.admin_out(&["migrate", "--to", &target]);
    let summary = out.json();
    assert!(!out.stdout.contains("pw-sekrit-4471") && !out.stderr.contains("pw-sekrit-4471"));
    assert_eq!(summary["verified"], true, "{summary}");
    assert_eq!(
        summary["tables"]["messages"],
        json!({"source": MESSAGES + 5, "target": MESSAGES + 5})
    );
    assert_eq!(summary["tables"]["orgs"]["target"], 2, "{summary}");
    assert_eq!(summary["tables"]["sms"]["target"], 2, "{summary}");
    for table in [
        "users",
        "devices",
        "apps",
        "oauth_clients",
        "api_keys",
        "sms_events",
        "deliveries",
        "signing_keys",
        "documents",
        "document_terms",
        "data_items",
        "blobs",
        "content_items",
    ] {
        let t = &summary["tables"][table];
        assert!(
            t["source"].as_u64().unwrap() > 0 && t["source"] == t["target"],
            "{table}: {summary}"
        );
    }
    let told = summary["master_key_file"].as_str().unwrap();
    assert_eq!(
        std::fs::canonicalize(told).unwrap(),
        std::fs::canonicalize(&key_file).unwrap()
    );
    assert!(out.stderr.contains("master key"), "{}", out.stderr);

    // --- a target holding data is refused, and left as it is.
    let out = env.admin_out(&["migrate", "--to", &target]);
    assert!(!out.status.success() && out.stdout.is_empty(), "{}", out.stdout);
    let line = out.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(line.starts_with("error: ") && line.contains("not empty"), "{line}");
    assert!(
        line.contains("postgres://****@127.0.0.1:"),
        "the target is named: {line}"
    );
    assert!(!out.stderr.contains("pw-sekrit-4471"), "{}", out.stderr);

    // --- a PostgreSQL node with the same master key file.
    let node = |mut c: Command| {
        c.env("THINGSTEAD_STORE__BACKEND", "postgres")
            .env("THINGSTEAD_STORE__URL", &db)
            .env("THINGSTEAD_SECRETS__MASTER_KEY_FILE", &key_file);
        c
    };
    assert_eq!(
        registry(&env, &node),
        registry_before,
        "the registry, listed by the admin CLI"
    );
    let pg = env.spawn_server(node(env.serve_cmd(&[
        "--http",
        "127.0.0.1:0",
        "--device-tcp",
        "127.0.0.1:0",
    ])));
    let after = messages(pg.http, &apikey).await;
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(a, b, "message {} byte for byte, with its id, time and topics", b.0);
    }
    assert_eq!(
        messages(pg.http, &beta_apikey).await,
        beta_before,
        "the api key of beta works over REST"
    );
    for (id, was) in sms_ids.iter().zip(&sms_before) {
        let now = get_json(pg.url(&format!("/api/1/sms/{id}?apikey={apikey}"))).await["data"].clone();
        assert_eq!(&now, was, "SMS {id} with its state and history");
    }
    assert_eq!(sms_before[1]["state"], "sent", "{}", sms_before[1]);
    assert_eq!(
        get_json(pg.url(&format!("/api/1/devices/{uuid}/deliveries?apikey={apikey}"))).await,
        deliveries_before
    );
    // The uploaded file, delivered from PostgreSQL's chunks, byte for byte.
    let rt = app_restricted_token(pg.http, "acme").await;
    let r = http
        .get(pg.url(&format!("/api/delivery/plans/floor.png?_rt={rt}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(
        r.bytes().await.unwrap().to_vec() == file_bytes,
        "the file's bytes are identical"
    );

    // The device key still authenticates, and a new message gets an id above the old ones.
    assert_eq!(
        send_frame(pg.device_tcp, &devicekey, "after the move", &[])
            .await
            .unwrap(),
        "[0,0]"
    );
    let newest = messages(pg.http, &apikey).await;
    let last = newest.last().unwrap();
    assert_eq!(last.1, b"after the move");
    assert!(
        last.0 > before.last().unwrap().0,
        "new id {} after {}",
        last.0,
        before.last().unwrap().0
    );
    // TOTP: the seed opens, and the step used before the move stays used.
    if now_secs() / 30 <= used / 30 + 1 {
        assert_eq!(
            exchange(pg.device_tcp, &totp_frame(&totp_uuid, signer.code_at(used), "replay")).await,
            "[3,0]",
            "a TOTP code used before the move is refused after it"
        );
    }
    let next = (now_secs() / 30 + 1) * 30;
    assert_eq!(
        exchange(
            pg.device_tcp,
            &totp_frame(&totp_uuid, signer.code_at(next), "otp after")
        )
        .await,
        "[0,0]"
    );
    // A new SMS id is above the old ones too.
    let r = http
        .post(pg.url(&format!("/api/1/sms?apikey={apikey}")))
        .json(&json!({"destination": "+15555550123", "body": "third"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["data"]["id"].as_i64().unwrap();
    assert!(id > sms_ids[1], "{id}");
    // Documents and data items moved, and are found by their terms.
    let login = http
        .post(pg.url("/api/auth/login"))
        .json(&json!({"username": "bob", "password": "correct-horse-9", "organization": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |path: &str| {
        let req = http.get(pg.url(path)).bearer_auth(&token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let things = get("/api/things?location.zones.key=z9").await;
    assert_eq!(things["total"], 1, "{things}");
    assert_eq!(things["results"][0]["name"], "moved-thing");
    let devices = get("/api/devices?name=pump-1").await;
    assert_eq!(devices["results"][0]["uuid"], uuid.as_str(), "{devices}");
    let item = get("/api/data/moved%20group/k%3A1").await;
    assert_eq!(item["value"], json!({"kept": "é€😀"}), "{item}");
    pg.stop().await;
    // The token keys moved (sealed as they were): the next generation is 3.
    let rotated = env.run(node(env.cmd(&["admin", "token-key", "rotate"]))).json();
    assert_eq!(rotated["token_key_generation"], 3, "{rotated}");
}
