//! Content (WIRE.md B.3): uploads streamed through the real server, finds
//! and children as exp-sdk asks for them, delivery URLs fetched with the
//! restricted token and no Authorization header, variants, who may do
//! what, and nothing across organizations.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use thingstead_core::bus::{BusEvent, Change, Filter, RegistryChange, RegistryKind};
use thingstead_core::{Login, OrgName};
use thingstead_server::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::common::http;

/// A user's session: the bearer token and the restricted token.
pub(super) struct Session {
    pub(super) token: String,
    pub(super) rt: String,
}

/// Creates `org` with user `alice` and logs her in.
pub(super) async fn user_of(server: &TestServer, org: &str) -> Session {
    server.create_org(org).await;
    let t = server.platform().tenant(org).await.expect("org");
    server
        .platform()
        .create_user(&t, "alice", "correct horse battery")
        .await
        .expect("user");
    let s = server
        .platform()
        .login(Login::User {
            username: "alice".into(),
            password: "correct horse battery".into(),
            organization: org.into(),
        })
        .await
        .expect("login");
    Session {
        token: s.token,
        rt: s.restricted_token,
    }
}

/// A device of `org` logged in with a JWT signed as exp-sdk signs it.
pub(super) async fn device_of(server: &TestServer, org: &str) -> Session {
    let device = server.create_device(org).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = thingstead_core::now_ms() + 30_000;
    let claims = json!({"uuid": device.uuid, "type": "device", "allowPairing": false, "exp": exp});
    let signed = format!(
        "{}.{}",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(serde_json::to_vec(&claims).expect("claims"))
    );
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(device.secret.as_bytes()).expect("key");
    mac.update(signed.as_bytes());
    let jwt = format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()));
    let s = server.platform().login(Login::Token(jwt)).await.expect("device login");
    Session {
        token: s.token,
        rt: s.restricted_token,
    }
}

/// Python's `urllib.parse.quote(path)`: UTF-8, percent-encoded, `/` kept.
pub(super) fn quote(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// exp-sdk's `content.get_url()`.
fn delivery_url(server: &TestServer, path: &str, rt: &str) -> String {
    server.url(&format!("/api/delivery{}?_rt={rt}", quote(path)))
}

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn get(server: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    json_of(
        http()
            .get(server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET"),
    )
    .await
}

/// Uploads `bytes` as a new file.
pub(super) async fn upload(
    server: &TestServer,
    token: &str,
    query: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let r = http()
        .post(server.url(&format!("/api/content/upload?{query}")))
        .bearer_auth(token)
        .header("content-type", mime)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    json_of(r).await
}

async fn create(server: &TestServer, token: &str, doc: Value) -> (StatusCode, Value) {
    json_of(
        http()
            .post(server.url("/api/content"))
            .bearer_auth(token)
            .json(&doc)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

async fn put_bytes(server: &TestServer, token: &str, path: &str, mime: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = http()
        .put(server.url(path))
        .bearer_auth(token)
        .header("content-type", mime)
        .body(bytes)
        .send()
        .await
        .expect("PUT");
    json_of(r).await
}

/// Fetches a URL with no Authorization header: status, content type, bytes.
pub(super) async fn fetch(url: &str) -> (StatusCode, String, Vec<u8>) {
    let r = http().get(url).send().await.expect("GET");
    let status = r.status();
    let mime = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, mime, r.bytes().await.expect("body").to_vec())
}

/// Files under the data dir's blob directory (temp files included).
pub(super) fn blob_files(server: &TestServer) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 })
            .sum()
    }
    count(&server.data_dir().join("blobs"))
}

/// An upload over a raw socket with a chunked body: `chunks` chunks of
/// `chunk` bytes, `pause` apart; returns the status and the socket's reply.
pub(super) async fn chunked_upload(
    addr: SocketAddr,
    target: &str,
    token: &str,
    chunks: usize,
    chunk: usize,
    pause: Duration,
    mut after_each: impl FnMut(usize),
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("head");
    let data = vec![b'x'; chunk];
    for i in 0..chunks {
        let mut frame = format!("{chunk:x}\r\n").into_bytes();
        frame.extend_from_slice(&data);
        frame.extend_from_slice(b"\r\n");
        if s.write_all(&frame).await.is_err() {
            break; // the server answered early and closed
        }
        s.flush().await.ok();
        after_each(i);
        tokio::time::sleep(pause).await;
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP reply: {reply:?}"));
    (status, reply)
}

#[tokio::test]
async fn a_user_builds_a_tree_and_exp_sdk_finds_children_and_fetches_delivery_urls() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let acme = OrgName::parse("acme").unwrap();
    let mut events = server
        .platform()
        .events()
        .subscribe(Filter::tenant(&acme, "registry.>").unwrap());

    let (status, folder) = create(&server, &alice.token, json!({"name": "Médias", "tag": "x", "size": 99})).await;
    assert_eq!(status, StatusCode::OK, "{folder}");
    assert_eq!(folder["subtype"], "scala:content:folder");
    assert_eq!(folder["path"], "/Médias");
    assert_eq!(folder["tag"], "x", "free-form fields are kept");
    assert!(
        folder.get("size").is_none(),
        "reserved keys are the platform's: {folder}"
    );
    let folder_uuid = folder["uuid"].as_str().expect("uuid").to_owned();

    let png = (0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    let (status, file) = upload(
        &server,
        &alice.token,
        &format!("parent={folder_uuid}&name=plan%20%C3%A9t%C3%A9.png"),
        "image/png",
        png.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    for key in ["uuid", "name", "subtype", "path", "url", "variants"] {
        assert!(file.get(key).is_some(), "{key} in {file}");
    }
    assert_eq!(file["subtype"], "scala:content:file");
    assert_eq!(file["path"], "/Médias/plan été.png");
    assert_eq!(file["parent"], folder_uuid.as_str());
    assert_eq!(file["size"], 200_000);
    assert_eq!(file["mimeType"], "image/png");
    assert_eq!(file["variants"], json!([]));
    let file_uuid = file["uuid"].as_str().expect("uuid").to_owned();

    let (_, link) = create(
        &server,
        &alice.token,
        json!({"name": "docs", "subtype": "scala:content:url", "url": "https://example.org/d", "parent": folder_uuid}),
    )
    .await;
    assert_eq!(link["url"], "https://example.org/d");

    // content.get_children(): GET /api/content?parent={uuid}
    let (status, children) = get(&server, &alice.token, &format!("/api/content?parent={folder_uuid}")).await;
    assert_eq!(status, StatusCode::OK, "{children}");
    assert_eq!(children["total"], 2, "{children}");
    let names: Vec<&str> = children["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["docs", "plan été.png"]);
    let (_, files) = get(
        &server,
        &alice.token,
        &format!("/api/content?parent={folder_uuid}&subtype=scala:content:file"),
    )
    .await;
    assert_eq!(files["total"], 1);
    let (_, paged) = get(&server, &alice.token, "/api/content?limit=1&skip=1").await;
    assert_eq!(
        (paged["total"].as_u64(), paged["results"].as_array().unwrap().len()),
        (Some(3), 1)
    );
    let (status, one) = get(&server, &alice.token, &format!("/api/content/{file_uuid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["path"], file["path"]);
    let (status, _) = get(&server, &alice.token, "/api/content/no-such-uuid").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // content.get_url(): no Authorization header, the restricted token.
    let url = delivery_url(&server, "/Médias/plan été.png", &alice.rt);
    let r = http().get(&url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], "200000");
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.bytes().await.unwrap().to_vec() == png);

    // A variant, and get_variant_url() that forgets the name.
    let (status, with_variant) = put_bytes(
        &server,
        &alice.token,
        &format!("/api/content/{file_uuid}/variants/thumb"),
        "image/jpeg",
        b"small".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{with_variant}");
    assert_eq!(
        with_variant["variants"],
        json!([{"name": "thumb", "size": 5, "mimeType": "image/jpeg"}])
    );
    assert_eq!(
        fetch(&format!("{url}&variant=thumb")).await,
        (StatusCode::OK, "image/jpeg".into(), b"small".to_vec())
    );
    let (status, _, bytes) = fetch(&format!("{url}&variant=")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == png, "an empty variant name serves the original");
    let (status, _, bytes) = fetch(&format!("{url}&variant=big")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let e: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("variant named \"big\""),
        "{e}"
    );

    // New bytes replace the old ones, which are deleted.
    let before = blob_files(&server);
    let (status, _) = put_bytes(
        &server,
        &alice.token,
        &format!("/api/content/{file_uuid}/data"),
        "image/png",
        b"v2".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetch(&url).await.2, b"v2");
    assert_eq!(blob_files(&server), before, "the replaced blob is gone");

    // Every change is on the bus, after the commit.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let e = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event")
            .expect("live");
        if let BusEvent::Registry(RegistryChange {
            kind: RegistryKind::Content,
            id,
            change,
            ..
        }) = e
        {
            seen.push((id, change));
        }
    }
    assert_eq!(seen[0], (folder_uuid.clone(), Change::Created));
    assert_eq!(seen[1], (file_uuid.clone(), Change::Created));
    assert!(seen.contains(&(file_uuid.clone(), Change::Updated)), "{seen:?}");
    server.stop().await;
}

#[tokio::test]
async fn delivery_needs_a_token_of_the_items_own_organization() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let eve = user_of(&server, "evil").await;
    let (status, _) = upload(&server, &alice.token, "name=a.txt", "text/plain", b"secret".to_vec()).await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(fetch(&delivery_url(&server, "/a.txt", &alice.rt)).await.2, b"secret");
    // A full token works too.
    assert_eq!(
        fetch(&delivery_url(&server, "/a.txt", &alice.token)).await.0,
        StatusCode::OK
    );
    let (status, _, body) = fetch(&server.url("/api/delivery/a.txt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_slice(&body).expect("a JSON error");
    assert_eq!(body["code"], "unauthorized", "{body}");
    assert_eq!(
        fetch(&delivery_url(&server, "/a.txt", "not.a.token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fetch(&delivery_url(&server, "/a.txt", &eve.rt)).await.0,
        StatusCode::NOT_FOUND,
        "another organization's path is not found"
    );
    assert_eq!(
        fetch(&delivery_url(&server, "/nope.txt", &alice.rt)).await.0,
        StatusCode::NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn a_document_with_a_url_and_no_subtype_is_a_url_item() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let (status, implied) = create(
        &server,
        &alice.token,
        json!({"name": "site", "url": "https://example.org/s"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{implied}");
    assert_eq!(implied["subtype"], "scala:content:url", "{implied}");
    // A url on another subtype is refused, naming the url subtype.
    let (status, e) = create(
        &server,
        &alice.token,
        json!({"name": "f", "subtype": "scala:content:folder", "url": "https://example.org/f"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e["message"].as_str().unwrap_or_default().contains("scala:content:url"),
        "{e}"
    );
    server.stop().await;
}

#[tokio::test]
async fn restricted_tokens_only_fetch_and_devices_only_read() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let device = device_of(&server, "acme").await;
    let (_, file) = upload(&server, &alice.token, "name=a.txt", "text/plain", b"hi".to_vec()).await;
    let uuid = file["uuid"].as_str().unwrap().to_owned();
    // An upload without its name says so.
    let (status, e) = upload(&server, &alice.token, "", "text/plain", b"hi".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap_or_default().contains("name"), "{e}");

    // A restricted token: delivery only.
    assert_eq!(get(&server, &alice.rt, "/api/content").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&server, &alice.rt, &format!("/api/content/{uuid}")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&server, &alice.rt, "name=b.txt", "text/plain", b"x".to_vec())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        create(&server, &alice.rt, json!({"name": "f"})).await.0,
        StatusCode::FORBIDDEN
    );
    let r = http()
        .delete(server.url(&format!("/api/content/{uuid}")))
        .bearer_auth(&alice.rt)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A device reads and fetches, but does not write.
    let (status, found) = get(&server, &device.token, "/api/content").await;
    assert_eq!((status, found["total"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(fetch(&delivery_url(&server, "/a.txt", &device.rt)).await.2, b"hi");
    assert_eq!(
        upload(&server, &device.token, "name=b.txt", "text/plain", b"x".to_vec())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_bytes(
            &server,
            &device.token,
            &format!("/api/content/{uuid}/data"),
            "text/plain",
            b"x".to_vec()
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let r = http()
        .delete(server.url(&format!("/api/content/{uuid}")))
        .bearer_auth(&device.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        fetch(&delivery_url(&server, "/a.txt", &alice.rt)).await.2,
        b"hi",
        "nothing changed"
    );
    server.stop().await;
}

#[tokio::test]
async fn no_content_route_crosses_organizations() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let eve = user_of(&server, "evil").await;
    let (_, folder) = create(&server, &alice.token, json!({"name": "f"})).await;
    let folder = folder["uuid"].as_str().unwrap().to_owned();
    let (_, file) = upload(
        &server,
        &alice.token,
        &format!("name=a.txt&parent={folder}"),
        "text/plain",
        b"mine".to_vec(),
    )
    .await;
    let file = file["uuid"].as_str().unwrap().to_owned();

    let (status, found) = get(&server, &eve.token, "/api/content").await;
    assert_eq!((status, found["total"].as_u64()), (StatusCode::OK, Some(0)));
    let (_, found) = get(&server, &eve.token, &format!("/api/content?parent={folder}")).await;
    assert_eq!(found["total"], 0);
    assert_eq!(
        get(&server, &eve.token, &format!("/api/content/{file}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        upload(
            &server,
            &eve.token,
            &format!("name=x&parent={folder}"),
            "text/plain",
            b"x".to_vec()
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        create(&server, &eve.token, json!({"name": "x", "parent": folder}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/api/content/{file}/data"),
        format!("/api/content/{file}/variants/v"),
    ] {
        assert_eq!(
            put_bytes(&server, &eve.token, &path, "text/plain", b"x".to_vec())
                .await
                .0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for uuid in [&file, &folder] {
        let r = http()
            .delete(server.url(&format!("/api/content/{uuid}")))
            .bearer_auth(&eve.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        fetch(&delivery_url(&server, "/f/a.txt", &eve.token)).await.0,
        StatusCode::NOT_FOUND
    );
    // Still all there for its owner.
    assert_eq!(fetch(&delivery_url(&server, "/f/a.txt", &alice.rt)).await.2, b"mine");
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_folder_deletes_what_it_holds_and_their_bytes() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let (_, folder) = create(&server, &alice.token, json!({"name": "f"})).await;
    let folder = folder["uuid"].as_str().unwrap().to_owned();
    let (_, sub) = create(&server, &alice.token, json!({"name": "sub", "parent": folder})).await;
    let sub = sub["uuid"].as_str().unwrap().to_owned();
    let (_, file) = upload(
        &server,
        &alice.token,
        &format!("name=a.txt&parent={sub}"),
        "text/plain",
        b"deep".to_vec(),
    )
    .await;
    let file = file["uuid"].as_str().unwrap().to_owned();
    put_bytes(
        &server,
        &alice.token,
        &format!("/api/content/{file}/variants/v"),
        "text/plain",
        b"v".to_vec(),
    )
    .await;
    assert_eq!(blob_files(&server), 2);

    let r = http()
        .delete(server.url(&format!("/api/content/{folder}")))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for uuid in [&folder, &sub, &file] {
        assert_eq!(
            get(&server, &alice.token, &format!("/api/content/{uuid}")).await.0,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        fetch(&delivery_url(&server, "/f/sub/a.txt", &alice.rt)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(blob_files(&server), 0, "the bytes are gone too");
    server.stop().await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_keeps_nothing() {
    let server = TestServer::start_with(|s| s.content.max_file_bytes = 1024 * 1024).await;
    let alice = user_of(&server, "acme").await;
    // Declared too long: refused before a byte is read.
    let (status, body) = upload(
        &server,
        &alice.token,
        "name=big",
        "text/plain",
        vec![0; 1024 * 1024 + 1],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "payload_too_large", "{body}");
    // Streamed with no length: refused when the cap is crossed.
    let (status, _) = chunked_upload(
        server.http,
        "/api/content/upload?name=big",
        &alice.token,
        40,
        64 * 1024,
        Duration::ZERO,
        |_| {},
    )
    .await;
    assert_eq!(status, 413);
    let (_, found) = get(&server, &alice.token, "/api/content").await;
    assert_eq!(found["total"], 0, "no item without its bytes");
    assert_eq!(blob_files(&server), 0, "no bytes left behind");
    // Exactly at the cap is fine.
    let (status, _) = upload(&server, &alice.token, "name=ok", "text/plain", vec![0; 1024 * 1024]).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn uploads_stream_to_disk_and_may_outlast_the_api_request_timeout() {
    let server = TestServer::start_with(|s| s.http_limits.request_timeout_secs = 1).await;
    let alice = user_of(&server, "acme").await;
    let tmp = server.data_dir().join("blobs").join("tmp");
    let mut on_disk = Vec::new();
    // 12 chunks of 128 KiB, 200 ms apart: 2.4 s in all, past the 1 s API timeout.
    let (status, reply) = chunked_upload(
        server.http,
        "/api/content/upload?name=slow.bin",
        &alice.token,
        12,
        128 * 1024,
        Duration::from_millis(200),
        |i| {
            if i == 8 {
                let size: u64 = std::fs::read_dir(&tmp)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum();
                on_disk.push(size);
            }
        },
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    // While the client was still sending, the first chunks were already on disk.
    assert!(
        on_disk[0] >= 4 * 128 * 1024,
        "bytes reach the store as they come, not at the end: {on_disk:?}"
    );
    assert_eq!(
        fetch(&delivery_url(&server, "/slow.bin", &alice.rt)).await.2.len(),
        12 * 128 * 1024
    );
    server.stop().await;
}

/// The process's peak resident set, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Runs the measurement below in a process of its own (this test binary,
/// that one test): the peak resident set is the process's, and other tests
/// running beside it (argon2 hashes take tens of MiB each) would blur it.
#[test]
fn a_large_file_streams_through_without_being_held_in_memory() {
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "integration::app_content::large_file_in_a_process_of_its_own",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .output()
        .expect("run the measurement");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the measurement ran: {text}");
}

#[tokio::test]
#[ignore = "run alone in its own process by a_large_file_streams_through_without_being_held_in_memory"]
async fn large_file_in_a_process_of_its_own() {
    const MIB: usize = 1024 * 1024;
    const LEN: usize = 64 * MIB;
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    // Reset the peak to the current size, where the kernel allows it.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = peak_rss_kib();
    let (status, reply) = chunked_upload(
        server.http,
        "/api/content/upload?name=big.bin",
        &alice.token,
        LEN / (256 * 1024),
        256 * 1024,
        Duration::ZERO,
        |_| {},
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let mut r = http()
        .get(delivery_url(&server, "/big.bin", &alice.rt))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.content_length(), Some(LEN as u64));
    let (mut got, mut hash) = (0usize, Sha256::new());
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        got += chunk.len();
        hash.update(&chunk);
    }
    assert_eq!(got, LEN);
    let mut expected = Sha256::new();
    let block = vec![b'x'; MIB];
    for _ in 0..LEN / MIB {
        expected.update(&block);
    }
    assert_eq!(hash.finalize(), expected.finalize(), "the bytes come back identical");
    let grown = (peak_rss_kib().saturating_sub(before)) as usize * 1024;
    assert!(
        grown < LEN / 2,
        "the peak resident set grew by {} MiB for a {} MiB file",
        grown / MIB,
        LEN / MIB
    );
    server.stop().await;
}
