//! The `/spaces` routes of categories, things, properties and property
//! history (WIRE.md A.3) over real sockets: every success status and body
//! the IoT Studio SDK parses, the error statuses it lists (bad JSON, bad
//! patch, value outside the schema, unknown ids, another space, a missing
//! scope), and one record shared with the application face's `/api/things`.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use thingstead_server::testing::TestServer;

use super::app_resources::{add_org_user, call as app_call, user_token};
use super::common::http;

const PATCH_JSON: &str = "application/json-patch+json";

/// A server with spaces `acme` and `other`, each with user alice.
pub(super) async fn server() -> TestServer {
    let server = TestServer::start().await;
    add_org_user(&server, "acme").await;
    add_org_user(&server, "other").await;
    server
}

/// A token of a new OAuth2 client of `space` with `scopes`.
pub(super) async fn client_token(server: &TestServer, space: &str, scopes: &[&str]) -> String {
    let p = server.platform();
    let tenant = p.tenant(space).await.expect("space");
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let c = p.create_client(&tenant, &scopes).await.expect("client");
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
        c.client_id,
        c.client_secret,
        scopes.join("%20")
    );
    let r = http()
        .post(server.url("/oauth2/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token");
    let v: Value = r.json().await.expect("JSON");
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// One call with a raw body and content type; status and JSON body
/// (`Null` for an empty body). Every non-empty body must be declared
/// `application/json`.
pub(super) async fn raw(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<(&str, String)>,
) -> (StatusCode, Value) {
    let mut req = http().request(method.clone(), server.url(path)).bearer_auth(token);
    if let Some((ct, b)) = body {
        req = req.header(CONTENT_TYPE, ct).body(b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let ct = r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = r.bytes().await.expect("body");
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    assert!(
        ct.starts_with("application/json"),
        "{method} {path}: {status} Content-Type {ct:?}"
    );
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{method} {path}: not JSON"));
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(v["error"]["status"], status.as_u16(), "{method} {path}: {v}");
        assert!(v["error"]["message"].is_string(), "{v}");
    }
    (status, v)
}

pub(super) async fn call(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    raw(
        server,
        token,
        method,
        path,
        body.map(|b| ("application/json", b.to_string())),
    )
    .await
}

fn sensor(title: &str) -> Value {
    json!({
        "title": title,
        "@type": ["Sensor"],
        "description": "a sensor",
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "label": {"type": "string"}
        },
        "model": {"name": "tm", "version": "1"}
    })
}

#[tokio::test]
async fn categories_are_created_listed_in_pages_read_renamed_and_deleted() {
    let server = server().await;
    let t = client_token(&server, "acme", &["category"]).await;
    let base = "/spaces/acme/categories";
    for name in ["a1", "b2", "c3"] {
        let (s, c) = call(
            &server,
            &t,
            Method::POST,
            base,
            Some(json!({"name": name, "description": "d"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["name"], name);
        assert!(c["created"].is_string(), "{c}");
    }
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        base,
        Some(json!({"name": "a1", "description": "d"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        base,
        Some(json!({"name": "no spaces!", "description": "d"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = raw(
        &server,
        &t,
        Method::POST,
        base,
        Some(("application/json", "{\"name\":".into())),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["details"]["code"], "malformed_json", "{e}");
    // A body that is not announced as JSON: 415, saying what to send.
    let (s, e) = raw(
        &server,
        &t,
        Method::POST,
        base,
        Some(("text/plain", "{\"name\":\"x\"}".into())),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(e["error"]["details"]["code"], "unsupported_media_type", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("application/json"),
        "{e}"
    );

    // Pages of 2: a1 b2 | c3, then the end.
    let (s, p1) = call(&server, &t, Method::GET, &format!("{base}?limit=2"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p1["data"].as_array().map(Vec::len), Some(2), "{p1}");
    let cursor = p1["paging"]["next_cursor"].as_str().expect("a next page");
    let (_, p2) = call(
        &server,
        &t,
        Method::GET,
        &format!("{base}?limit=2&next_cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(p2["data"][0]["name"], "c3", "{p2}");
    assert!(p2["paging"]["next_cursor"].is_null(), "{p2}");
    let (s, e) = call(&server, &t, Method::GET, &format!("{base}?limit=zero"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["paging"].as_object().is_some_and(|p| p.contains_key("next_cursor")),
        "{e}"
    );

    let (s, c) = call(&server, &t, Method::GET, &format!("{base}/b2"), None).await;
    assert_eq!((s, c["name"].clone()), (StatusCode::OK, json!("b2")));
    let (s, _) = call(&server, &t, Method::GET, &format!("{base}/zz"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, c) = call(
        &server,
        &t,
        Method::PUT,
        &format!("{base}/b2"),
        Some(json!({"name": "b4", "description": "new"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["description"], "new");
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        &format!("{base}/b4"),
        Some(json!({"name": "a1", "description": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        &format!("{base}/zz"),
        Some(json!({"name": "zz", "description": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, body) = call(&server, &t, Method::DELETE, &format!("{base}/b4"), None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    let (s, _) = call(&server, &t, Method::DELETE, &format!("{base}/b4"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Scopes: a reader cannot write, another space's token reads nothing.
    let reader = client_token(&server, "acme", &["category.read"]).await;
    let (s, _) = call(&server, &reader, Method::GET, &format!("{base}/a1"), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&server, &reader, Method::DELETE, &format!("{base}/a1"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let stranger = client_token(&server, "other", &["category"]).await;
    let (s, _) = call(&server, &stranger, Method::GET, &format!("{base}/a1"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn things_are_created_read_listed_replaced_patched_and_deleted() {
    let server = server().await;
    let t = client_token(&server, "acme", &["thing", "category"]).await;
    let (s, a) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(sensor("alpha"))).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let uid = a["uid"].as_str().expect("uid").to_owned();
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    assert_eq!(
        a["id"],
        format!("http://127.0.0.1:{port}/spaces/acme/things/{uid}"),
        "{a}"
    );
    assert!(a["created"].is_string() && a["client_id"].is_string(), "{a}");
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/things",
        Some(json!({"uid": uid, "title": "dup"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/things",
        Some(json!({"title": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut uids = vec![uid.clone()];
    for title in ["beta", "gamma", "delta", "epsilon"] {
        let (_, x) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(sensor(title))).await;
        uids.push(x["uid"].as_str().expect("uid").to_owned());
    }

    // Pages of 2 walk all five once; repeated thingID[] keys all count.
    let mut seen = Vec::new();
    let mut path = "/spaces/acme/things?limit=2".to_owned();
    for _ in 0..5 {
        let (s, page) = call(&server, &t, Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for x in page["data"].as_array().expect("data") {
            seen.push(x["uid"].as_str().expect("uid").to_owned());
        }
        match page["paging"]["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => path = format!("/spaces/acme/things?limit=2&next_cursor={c}"),
            _ => break,
        }
    }
    assert_eq!(seen, uids);
    let q = format!(
        "/spaces/acme/things?thingID%5B%5D={}&thingID[]={}&sort=-title",
        uids[1], uids[2]
    );
    let (_, found) = call(&server, &t, Method::GET, &q, None).await;
    let titles: Vec<&str> = found["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|x| x["title"].as_str())
        .collect();
    assert_eq!(titles, ["gamma", "beta"]);
    let (s, _) = call(&server, &t, Method::GET, "/spaces/acme/things?limit=0", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // One thing: read, replace, patch (json-patch+json), bad patches.
    let one = format!("/spaces/acme/things/{uid}");
    let (s, got) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!((s, got["title"].clone()), (StatusCode::OK, json!("alpha")));
    let (s, put) = call(&server, &t, Method::PUT, &one, Some(sensor("alpha2"))).await;
    assert_eq!((s, put["title"].clone()), (StatusCode::OK, json!("alpha2")), "{put}");
    let ops = json!([{"op": "replace", "path": "/description", "value": "patched"}]).to_string();
    let (s, p) = raw(&server, &t, Method::PATCH, &one, Some((PATCH_JSON, ops))).await;
    assert_eq!((s, p["description"].clone()), (StatusCode::OK, json!("patched")), "{p}");
    let failing = json!([{"op": "test", "path": "/title", "value": "nope"}]).to_string();
    let (s, _) = raw(&server, &t, Method::PATCH, &one, Some((PATCH_JSON, failing))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = raw(&server, &t, Method::PATCH, &one, Some((PATCH_JSON, "[{".into()))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(&server, &t, Method::GET, "/spaces/acme/things/nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&server, &t, Method::PUT, "/spaces/acme/things/nope", Some(sensor("x"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Many: 207 with the failing index, never a results array.
    let many = json!([
        {"id": uids[1], "patch": [{"op": "replace", "path": "/description", "value": "m"}]},
        {"id": "nope", "patch": [{"op": "replace", "path": "/description", "value": "m"}]}
    ]);
    let (s, r) = raw(
        &server,
        &t,
        Method::PATCH,
        "/spaces/acme/things",
        Some((PATCH_JSON, many.to_string())),
    )
    .await;
    assert_eq!(s, StatusCode::MULTI_STATUS);
    assert_eq!(r["has_errors"], json!([1]), "{r}");
    assert!(!r.get("results").is_some_and(Value::is_array), "{r}");
    // And why: the second names a thing that does not exist.
    assert_eq!(r["errors"][0]["index"], 1, "{r}");
    assert!(
        r["errors"][0]["message"].as_str().unwrap_or_default().contains("nope"),
        "{r}"
    );
    let (_, b) = call(
        &server,
        &t,
        Method::GET,
        &format!("/spaces/acme/things/{}", uids[1]),
        None,
    )
    .await;
    assert_eq!(b["description"], "m");

    // Delete by filter: refused without one; the ids of what went.
    let (s, _) = call(&server, &t, Method::DELETE, "/spaces/acme/things", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, gone) = call(&server, &t, Method::DELETE, "/spaces/acme/things?title=delta", None).await;
    assert_eq!((s, gone), (StatusCode::OK, json!([uids[3]])));
    let (s, body) = call(&server, &t, Method::DELETE, &one, None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    let (s, _) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&server, &t, Method::DELETE, &one, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Under a category: only its things.
    call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/categories",
        Some(json!({"name": "lab", "description": ""})),
    )
    .await;
    let (s, inlab) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/categories/lab/things",
        Some(sensor("in-lab")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{inlab}");
    assert_eq!(inlab["categories"], json!(["lab"]));
    let lab_uid = inlab["uid"].as_str().expect("uid");
    let (_, listed) = call(&server, &t, Method::GET, "/spaces/acme/categories/lab/things", None).await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed["data"][0]["uid"], lab_uid);
    let (s, _) = call(
        &server,
        &t,
        Method::GET,
        &format!("/spaces/acme/categories/lab/things/{}", uids[1]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a thing outside the category");
    let (s, _) = call(
        &server,
        &t,
        Method::DELETE,
        &format!("/spaces/acme/categories/lab/things/{}", uids[1]),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&server, &t, Method::GET, "/spaces/acme/categories/nolab/things", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &server,
        &t,
        Method::GET,
        &format!("/spaces/acme/categories/lab/things/{lab_uid}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // A reader cannot write; another space sees nothing.
    let reader = client_token(&server, "acme", &["thing.read"]).await;
    let path_b = format!("/spaces/acme/things/{}", uids[1]);
    let (s, _) = call(&server, &reader, Method::GET, &path_b, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&server, &reader, Method::POST, "/spaces/acme/things", Some(sensor("x"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&server, &reader, Method::DELETE, &path_b, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let stranger = client_token(&server, "other", &["thing"]).await;
    let (s, _) = call(&server, &stranger, Method::GET, &path_b, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn properties_are_written_read_and_checked_against_their_schema() {
    let server = server().await;
    let t = client_token(&server, "acme", &["thing"]).await;
    let (_, a) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(sensor("alpha"))).await;
    let uid = a["uid"].as_str().expect("uid");
    let props = format!("/spaces/acme/things/{uid}/properties");
    let (s, w) = call(
        &server,
        &t,
        Method::PUT,
        &props,
        Some(json!({"temperature": 21.5, "label": "x"})),
    )
    .await;
    assert_eq!((s, w), (StatusCode::OK, json!({"temperature": 21.5, "label": "x"})));
    let (s, w) = call(
        &server,
        &t,
        Method::PUT,
        &format!("{props}/temperature?update_history=False"),
        Some(json!({"temperature": 22})),
    )
    .await;
    assert_eq!((s, w), (StatusCode::OK, json!({"temperature": 22})));
    let (s, all) = call(&server, &t, Method::GET, &props, None).await;
    assert_eq!((s, all), (StatusCode::OK, json!({"temperature": 22, "label": "x"})));
    let (s, one) = call(&server, &t, Method::GET, &format!("{props}/label"), None).await;
    assert_eq!((s, one), (StatusCode::OK, json!({"label": "x"})));
    let (_, thing) = call(&server, &t, Method::GET, &format!("/spaces/acme/things/{uid}"), None).await;
    assert_eq!(
        thing["status"],
        json!({"temperature": 22, "label": "x"}),
        "status follows writes"
    );

    // Only the first write went to the history (update_history=False).
    let hist = format!("/spaces/acme/things/{uid}/properties-history/temperature");
    let (s, h) = call(&server, &t, Method::GET, &hist, None).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["data"].as_array().map(Vec::len), Some(1), "{h}");
    assert_eq!(h["data"][0]["properties"], json!({"temperature": 21.5}));

    // Errors: outside the schema 400, unknown property / thing 404.
    let (s, _) = call(&server, &t, Method::PUT, &props, Some(json!({"temperature": 500}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        &format!("{props}/label"),
        Some(json!({"label": 3})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(&server, &t, Method::PUT, &props, Some(json!({"humidity": 3}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an undeclared key of the body");
    let (s, _) = call(&server, &t, Method::GET, &format!("{props}/humidity"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        &format!("{props}/humidity"),
        Some(json!({"humidity": 3})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&server, &t, Method::GET, "/spaces/acme/things/nope/properties", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        "/spaces/acme/things/nope/properties",
        Some(json!({"a": 1})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, all) = call(&server, &t, Method::GET, &props, None).await;
    assert_eq!(
        all,
        json!({"temperature": 22, "label": "x"}),
        "a refused write changes nothing"
    );

    let reader = client_token(&server, "acme", &["thing.read"]).await;
    let (s, _) = call(&server, &reader, Method::GET, &props, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&server, &reader, Method::PUT, &props, Some(json!({"temperature": 1}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn property_history_is_added_listed_and_deleted() {
    let server = server().await;
    let t = client_token(&server, "acme", &["thing"]).await;
    let (_, a) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(sensor("alpha"))).await;
    let uid = a["uid"].as_str().expect("uid");
    let hist = format!("/spaces/acme/things/{uid}/properties-history");
    let points = json!([
        {"at": "2024-01-01T00:00:00Z", "properties": {"temperature": 1}},
        {"at": "2024-01-02T00:00:00Z", "properties": {"temperature": 2, "label": "b"}}
    ]);
    let (s, added) = call(&server, &t, Method::POST, &hist, Some(points.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    assert_eq!(added.as_array().map(Vec::len), Some(2), "{added}");
    let (s, _) = call(&server, &t, Method::POST, &hist, Some(points)).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        &hist,
        Some(json!({"at": "2024-01-03T00:00:00Z", "properties": {"temperature": 900}})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, h) = call(
        &server,
        &t,
        Method::GET,
        &format!("{hist}?at=2024-01-02T00:00:00Z&group=true"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        h["data"][0]["properties"],
        json!({"temperature": 2, "label": "b"}),
        "{h}"
    );
    let (s, h) = call(&server, &t, Method::GET, &format!("{hist}?limit=1"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["paging"]["next_cursor"].is_string(), "{h}");
    let (s, body) = call(&server, &t, Method::DELETE, &format!("{hist}/temperature"), None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    let (_, h) = call(&server, &t, Method::GET, &hist, None).await;
    assert_eq!(h["data"].as_array().map(Vec::len), Some(1), "only label is left: {h}");
    let (s, e) = call(
        &server,
        &t,
        Method::GET,
        "/spaces/acme/things/nope/properties-history",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(e["paging"].is_object(), "{e}");
    let (s, _) = call(
        &server,
        &t,
        Method::DELETE,
        "/spaces/acme/things/nope/properties-history",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn a_thing_is_one_record_for_spaces_and_the_application_face() {
    let server = server().await;
    let t = client_token(&server, "acme", &["thing"]).await;
    let user = user_token(&server, "acme").await;

    // Created via /spaces: read, renamed and deleted via /api/things.
    let (_, a) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(sensor("alpha"))).await;
    let uid = a["uid"].as_str().expect("uid").to_owned();
    let (s, doc) = app_call(&server, &user, Method::GET, &format!("/api/things/{uid}"), None).await;
    assert_eq!((s, doc["name"].clone()), (StatusCode::OK, json!("alpha")), "{doc}");
    let (s, _) = app_call(
        &server,
        &user,
        Method::PATCH,
        &format!("/api/things/{uid}"),
        Some(&json!({"name": "renamed"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, got) = call(&server, &t, Method::GET, &format!("/spaces/acme/things/{uid}"), None).await;
    assert_eq!(got["title"], "renamed");
    let (s, _) = app_call(&server, &user, Method::DELETE, &format!("/api/things/{uid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&server, &t, Method::GET, &format!("/spaces/acme/things/{uid}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // And the other way round.
    let (_, doc) = app_call(
        &server,
        &user,
        Method::POST,
        "/api/things",
        Some(&json!({"name": "from-app"})),
    )
    .await;
    let uuid = doc["uuid"].as_str().expect("uuid").to_owned();
    let one = format!("/spaces/acme/things/{uuid}");
    let (s, got) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!((s, got["title"].clone()), (StatusCode::OK, json!("from-app")), "{got}");
    let ops = json!([{"op": "replace", "path": "/title", "value": "patched"}]).to_string();
    let (s, _) = raw(&server, &t, Method::PATCH, &one, Some((PATCH_JSON, ops))).await;
    assert_eq!(s, StatusCode::OK);
    let (_, doc) = app_call(&server, &user, Method::GET, &format!("/api/things/{uuid}"), None).await;
    assert_eq!(doc["name"], "patched");
    let (s, _) = call(&server, &t, Method::DELETE, &one, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app_call(&server, &user, Method::GET, &format!("/api/things/{uuid}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    server.stop().await;
}
