//! The actions and events of a thing through `/spaces` (WIRE.md A.3,
//! A.4) over real sockets, under `/things/{t}` and
//! `/categories/{c}/things/{t}`: the statuses and bodies the IoT Studio
//! SDK parses, the errors it lists (unknown thing, action or id, another
//! space, missing scope, bad bodies, undeclared names, inputs outside the
//! TD's schema), paging forward and backward, and a deleted thing taking
//! its records along.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use thingstead_server::testing::TestServer;

use super::things_api::{call, client_token, raw, server};

/// A lamp with two actions and two events; `fade` and `overheated` have
/// data schemas.
fn lamp(uid: &str) -> Value {
    json!({
        "uid": uid,
        "title": "lamp",
        "actions": {
            "fade": {"input": {"type": "object", "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 100}}, "required": ["level"]}},
            "reboot": {}
        },
        "events": {
            "overheated": {"data": {"type": "number"}},
            "ping": {}
        }
    })
}

/// Space `acme` with thing `lamp-1` in category `lamps` and thing
/// `lamp-2` outside it; a token with scope `thing` (and `category`).
async fn setup() -> (TestServer, String) {
    let server = server().await;
    let t = client_token(&server, "acme", &["thing", "category"]).await;
    let (s, b) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/categories",
        Some(json!({"name": "lamps", "description": "d"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/categories/lamps/things",
        Some(lamp("lamp-1")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(lamp("lamp-2"))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (server, t)
}

/// The one member of an ActionResponse/EventResponse named `name`.
fn member<'a>(body: &'a Value, name: &str) -> &'a Value {
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    &body[name]
}

/// The id of a record: the last segment of its `href`.
fn id_of(record: &Value) -> String {
    let href = record["href"].as_str().expect("href");
    href.rsplit('/').next().expect("segment").to_owned()
}

#[tokio::test]
async fn actions_are_requested_listed_read_updated_and_deleted_on_both_paths() {
    let (server, t) = setup().await;
    let thing_id = call(&server, &t, Method::GET, "/spaces/acme/things/lamp-1", None)
        .await
        .1["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut ids = Vec::new();
    for base in [
        "/spaces/acme/things/lamp-1",
        "/spaces/acme/categories/lamps/things/lamp-1",
    ] {
        let (s, b) = call(
            &server,
            &t,
            Method::POST,
            &format!("{base}/actions/fade"),
            Some(json!({"fade": {"input": {"level": 30}}})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let a = member(&b, "fade");
        assert_eq!(
            (&a["status"], &a["input"]),
            (&json!("pending"), &json!({"level": 30})),
            "{b}"
        );
        assert!(a["timeRequested"].as_str().is_some_and(|t| t.ends_with('Z')), "{b}");
        assert!(a.get("timeCompleted").is_none(), "{b}");
        let href = a["href"].as_str().expect("href");
        assert!(
            href.starts_with(&format!("{thing_id}/actions/fade/")),
            "{href} {thing_id}"
        );
        ids.push(id_of(a));
    }
    // No input at all, and an input of null.
    for body in [
        json!({"reboot": {}}),
        json!({"reboot": {"input": null}}),
        json!({"reboot": null}),
    ] {
        let (s, b) = call(
            &server,
            &t,
            Method::POST,
            "/spaces/acme/things/lamp-1/actions/reboot",
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(member(&b, "reboot")["input"], Value::Null);
    }

    let (s, list) = call(&server, &t, Method::GET, "/spaces/acme/things/lamp-1/actions", None).await;
    assert_eq!(s, StatusCode::OK);
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 5, "{list}");
    assert!(data[0].get("reboot").is_some(), "newest first: {list}");
    assert!(
        list["paging"]
            .as_object()
            .is_some_and(|p| p.contains_key("next_cursor"))
    );
    let (_, fades) = call(
        &server,
        &t,
        Method::GET,
        "/spaces/acme/categories/lamps/things/lamp-1/actions/fade",
        None,
    )
    .await;
    let got: Vec<String> = fades["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| id_of(&a["fade"]))
        .collect();
    assert_eq!(got, [ids[1].clone(), ids[0].clone()]);

    let one = format!("/spaces/acme/things/lamp-1/actions/fade/{}", ids[0]);
    let (s, b) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!((s, id_of(member(&b, "fade"))), (StatusCode::OK, ids[0].clone()));
    let (s, b) = call(
        &server,
        &t,
        Method::PUT,
        &one,
        Some(json!({"fade": {"status": "completed", "output": {"reached": 30}}})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let a = member(&b, "fade");
    assert_eq!(
        (&a["status"], &a["output"]),
        (&json!("completed"), &json!({"reached": 30}))
    );
    assert!(a["timeCompleted"].is_string(), "{b}");
    let (_, b) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!(b["fade"]["status"], "completed", "the update was stored");
    for bad in [
        json!({"fade": {"status": 5}}),
        json!({"fade": {}}),
        json!({"reboot": {"status": "done"}}),
        json!([1]),
    ] {
        let (s, e) = call(&server, &t, Method::PUT, &one, Some(bad.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
    }

    let (s, b) = call(&server, &t, Method::DELETE, &one, None).await;
    assert_eq!((s, b), (StatusCode::NO_CONTENT, Value::Null));
    for method in [Method::GET, Method::DELETE] {
        let (s, _) = call(&server, &t, method, &one, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        &one,
        Some(json!({"fade": {"status": "failed"}})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Another thing's action id is unknown here.
    let other = format!("/spaces/acme/things/lamp-2/actions/fade/{}", ids[1]);
    let (s, _) = call(&server, &t, Method::GET, &other, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_action_and_event_requests_get_the_listed_errors() {
    let (server, t) = setup().await;
    let base = "/spaces/acme/things/lamp-1";
    let cases = [
        ("actions/fade", json!({"reboot": {}}), "another name than the path's"),
        ("actions/fade", json!({"fade": {}, "reboot": {}}), "two keys"),
        ("actions/fade", json!({"fade": 3}), "not an object"),
        (
            "actions/fade",
            json!({"fade": {"input": {"level": 300}}}),
            "above the maximum",
        ),
        (
            "actions/fade",
            json!({"fade": {"input": {"lvl": 3}}}),
            "a required member missing",
        ),
        ("actions/fade", json!({"fade": {"input": "x"}}), "wrong type"),
        ("actions/explode", json!({"explode": {}}), "an undeclared action"),
        (
            "events/overheated",
            json!({"overheated": {"data": "hot"}}),
            "data of the wrong type",
        ),
        ("events/vanished", json!({"vanished": {}}), "an undeclared event"),
        ("events/ping", json!({"overheated": {}}), "another name than the path's"),
    ];
    for (path, body, why) in cases {
        let (s, e) = call(&server, &t, Method::POST, &format!("{base}/{path}"), Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {why}: {e}");
        assert!(e.get("paging").is_none(), "{e}");
    }
    let (s, e) = raw(
        &server,
        &t,
        Method::POST,
        &format!("{base}/actions/fade"),
        Some(("application/json", "{\"fade\":".into())),
    )
    .await;
    assert_eq!(
        (s, &e["error"]["details"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("malformed_json"))
    );
    let (_, list) = call(&server, &t, Method::GET, &format!("{base}/actions"), None).await;
    assert_eq!(list["data"], json!([]), "nothing was stored: {list}");

    // Unknown things, and a thing outside the path's category: 404, with
    // paging on the lists.
    for path in [
        "/spaces/acme/things/nope/actions",
        "/spaces/acme/things/nope/events/ping",
        "/spaces/acme/categories/lamps/things/lamp-2/actions",
        "/spaces/acme/categories/nocat/things/lamp-1/events",
    ] {
        let (s, e) = call(&server, &t, Method::GET, path, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {e}");
        assert!(
            e["paging"].as_object().is_some_and(|p| p.contains_key("next_cursor")),
            "{e}"
        );
    }
    for (method, path, body) in [
        (
            Method::POST,
            "/spaces/acme/things/nope/actions/fade",
            Some(json!({"fade": {}})),
        ),
        (
            Method::POST,
            "/spaces/acme/categories/lamps/things/lamp-2/events/ping",
            Some(json!({"ping": {}})),
        ),
        (Method::GET, "/spaces/acme/things/lamp-1/events/ping/no-such-id", None),
        (
            Method::DELETE,
            "/spaces/acme/things/lamp-1/events/ping/no-such-id",
            None,
        ),
        (Method::GET, "/spaces/acme/things/nope/actions/fade/x", None),
    ] {
        let (s, e) = call(&server, &t, method.clone(), path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {e}");
    }
    // Events have no PUT.
    let (s, _) = call(
        &server,
        &t,
        Method::PUT,
        "/spaces/acme/things/lamp-1/events/ping/x",
        Some(json!({"ping": {}})),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn scopes_and_spaces_guard_actions_and_events() {
    let (server, t) = setup().await;
    let (_, b) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/things/lamp-1/events/ping",
        Some(json!({"ping": {}})),
    )
    .await;
    let event = format!("/spaces/acme/things/lamp-1/events/ping/{}", id_of(&b["ping"]));
    let reader = client_token(&server, "acme", &["thing.read"]).await;
    let (s, _) = call(&server, &reader, Method::GET, &event, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&server, &reader, Method::GET, "/spaces/acme/things/lamp-1/events", None).await;
    assert_eq!(s, StatusCode::OK);
    for (method, path, body) in [
        (
            Method::POST,
            "/spaces/acme/things/lamp-1/events/ping",
            Some(json!({"ping": {}})),
        ),
        (
            Method::POST,
            "/spaces/acme/things/lamp-1/actions/reboot",
            Some(json!({"reboot": {}})),
        ),
        (Method::DELETE, event.as_str(), None),
    ] {
        let (s, _) = call(&server, &reader, method.clone(), path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let categories_only = client_token(&server, "acme", &["category"]).await;
    let (s, e) = call(
        &server,
        &categories_only,
        Method::GET,
        "/spaces/acme/things/lamp-1/actions",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["paging"].is_object(), "{e}");

    // Another space's token on this space: 403; this space's ids in
    // another space: 404.
    let other = client_token(&server, "other", &["thing"]).await;
    let (s, _) = call(&server, &other, Method::GET, &event, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&server, &other, Method::DELETE, &event, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let moved = event.replace("/spaces/acme/", "/spaces/other/");
    let (s, _) = call(&server, &other, Method::GET, &moved, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(&server, &t, Method::GET, &event, None).await;
    assert_eq!(s, StatusCode::OK, "still there");
    let (s, _) = call(&server, "not-a-token", Method::GET, &event, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Lists refused before their route runs still carry paging (the SDK
    // reads paging.next_cursor on every response of a list).
    for (token, status) in [
        (other.as_str(), StatusCode::FORBIDDEN),
        ("not-a-token", StatusCode::UNAUTHORIZED),
    ] {
        for path in [
            "/spaces/acme/things/lamp-1/actions",
            "/spaces/acme/things/lamp-1/events/ping",
            "/spaces/acme/things",
        ] {
            let (s, e) = call(&server, token, Method::GET, path, None).await;
            assert_eq!(s, status, "{path}");
            assert!(
                e["paging"].as_object().is_some_and(|p| p.contains_key("next_cursor")),
                "{path}: {e}"
            );
        }
        let (_, e) = call(&server, token, Method::GET, &event, None).await;
        assert!(e.get("paging").is_none(), "not a list: {e}");
    }
}

#[tokio::test]
async fn events_are_recorded_read_deleted_and_paged_both_ways() {
    let (server, t) = setup().await;
    let base = "/spaces/acme/categories/lamps/things/lamp-1/events";
    let mut ids = Vec::new();
    for i in 0..7 {
        let (s, b) = call(
            &server,
            &t,
            Method::POST,
            &format!("{base}/overheated"),
            Some(json!({"overheated": {"data": 80 + i}})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let e = member(&b, "overheated");
        assert_eq!(e["data"], json!(80 + i));
        assert!(e["timestamp"].is_string(), "{b}");
        assert!(
            e["href"]
                .as_str()
                .is_some_and(|h| h.contains("/spaces/acme/things/lamp-1/events/overheated/"))
        );
        ids.push(id_of(e));
    }
    let (s, b) = call(
        &server,
        &t,
        Method::POST,
        &format!("{base}/ping"),
        Some(json!({"ping": {}})),
    )
    .await;
    assert_eq!((s, &b["ping"]["data"]), (StatusCode::CREATED, &Value::Null));
    ids.reverse(); // newest first

    // Forward in pages of 3: 3, 3, 1; then back from the last page.
    let page = |query: String| {
        let (server, t) = (&server, &t);
        async move {
            let path = format!("{base}/overheated?limit=3{query}");
            let (s, b) = call(server, t, Method::GET, &path, None).await;
            assert_eq!(s, StatusCode::OK, "{path}: {b}");
            let got: Vec<String> = b["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|e| id_of(&e["overheated"]))
                .collect();
            let cursor = |k: &str| b["paging"][k].as_str().map(str::to_owned);
            (got, cursor("next_cursor"), cursor("previous_cursor"))
        }
    };
    let (p1, next1, prev1) = page(String::new()).await;
    assert_eq!((p1.as_slice(), prev1), (&ids[0..3], None));
    let (p2, next2, prev2) = page(format!("&next_cursor={}", next1.expect("page 2"))).await;
    assert_eq!(p2, &ids[3..6]);
    let (p3, next3, prev3) = page(format!("&next_cursor={}", next2.expect("page 3"))).await;
    assert_eq!((p3.as_slice(), next3), (&ids[6..], None));
    let (b2, _, back2) = page(format!("&previous_cursor={}", prev3.expect("back to 2"))).await;
    assert_eq!(b2, p2);
    let (b1, again2, back1) = page(format!("&previous_cursor={}", back2.expect("back to 1"))).await;
    assert_eq!((b1, back1), (p1, None), "the first page again, and nothing before it");
    let (a2, _, _) = page(format!("&next_cursor={}", again2.expect("forward again"))).await;
    assert_eq!(a2, p2);
    assert!(prev2.is_some());

    // All events of the thing, both names.
    let (_, all) = call(&server, &t, Method::GET, base, None).await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(8), "{all}");

    // A garbled cursor, one of another list, both cursors: 400 with paging.
    let (_, actions) = call(
        &server,
        &t,
        Method::GET,
        "/spaces/acme/things/lamp-1/actions?limit=1",
        None,
    )
    .await;
    assert!(actions["paging"]["next_cursor"].is_null());
    let (_, things) = call(&server, &t, Method::GET, "/spaces/acme/things?limit=1", None).await;
    let things_cursor = things["paging"]["next_cursor"].as_str().expect("2 things, pages of 1");
    for query in [
        "next_cursor=garbled!".to_owned(),
        "previous_cursor=WyJ4Il0".to_owned(),
        format!("next_cursor={things_cursor}"),
        "next_cursor=a&previous_cursor=b".to_owned(),
        "limit=0".to_owned(),
    ] {
        let (s, e) = call(&server, &t, Method::GET, &format!("{base}?{query}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {e}");
        assert!(
            e["paging"].as_object().is_some_and(|p| p.contains_key("next_cursor")),
            "{e}"
        );
    }

    let one = format!("/spaces/acme/things/lamp-1/events/overheated/{}", ids[0]);
    let (s, b) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!((s, &b["overheated"]["data"]), (StatusCode::OK, &json!(86)));
    let (s, _) = call(&server, &t, Method::DELETE, &one, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(&server, &t, Method::GET, &one, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_thing_deletes_its_actions_and_events() {
    let (server, t) = setup().await;
    let base = "/spaces/acme/things/lamp-2";
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        &format!("{base}/actions/reboot"),
        Some(json!({"reboot": {}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(
        &server,
        &t,
        Method::POST,
        &format!("{base}/events/ping"),
        Some(json!({"ping": {}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(&server, &t, Method::DELETE, base, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(&server, &t, Method::GET, &format!("{base}/actions"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The same uid again starts with no records.
    let (s, _) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(lamp("lamp-2"))).await;
    assert_eq!(s, StatusCode::CREATED);
    for list in ["actions", "events"] {
        let (s, b) = call(&server, &t, Method::GET, &format!("{base}/{list}"), None).await;
        assert_eq!((s, &b["data"]), (StatusCode::OK, &json!([])), "{list}: {b}");
    }
}

/// Every page of `path` (which has a `?`) with `limit`, walked forward
/// from the first page and then backward from the last, as the lists of
/// `key` of each page's items; the backward walk must retrace the forward one.
async fn walk_both_ways(server: &TestServer, t: &str, path: &str, limit: usize, key: &str) -> Vec<Vec<Value>> {
    let get = |query: String| async move {
        let url = format!("{path}&limit={limit}{query}");
        let (s, b) = call(server, t, Method::GET, &url, None).await;
        assert_eq!(s, StatusCode::OK, "{url}: {b}");
        let items: Vec<Value> = b["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|x| x[key].clone())
            .collect();
        let c = |k: &str| b["paging"][k].as_str().map(str::to_owned);
        (items, c("next_cursor"), c("previous_cursor"))
    };
    let mut forward = Vec::new();
    let (mut items, mut next, mut prev) = get(String::new()).await;
    assert_eq!(prev, None, "{path}: the first page has nothing before it");
    while let Some(c) = next {
        forward.push(items);
        assert!(forward.len() < 50, "{path}: paging does not end");
        (items, next, prev) = get(format!("&next_cursor={c}")).await;
        assert!(prev.is_some(), "{path}: a later page has a previous_cursor");
    }
    forward.push(items);
    // Back from the last page.
    let mut backward = vec![forward[forward.len() - 1].clone()];
    while let Some(c) = prev {
        let (items, next, p) = get(format!("&previous_cursor={c}")).await;
        assert!(next.is_some(), "{path}: an earlier page has a next_cursor");
        backward.push(items);
        prev = p;
        assert!(
            backward.len() <= forward.len(),
            "{path}: backward runs past the first page"
        );
    }
    backward.reverse();
    assert_eq!(backward, forward, "{path}: backward retraces forward");
    forward
}

#[tokio::test]
async fn things_and_categories_page_backward_as_they_page_forward() {
    let server = server().await;
    let t = client_token(&server, "acme", &["thing", "category"]).await;
    for i in 0..7 {
        let (s, _) = call(
            &server,
            &t,
            Method::POST,
            "/spaces/acme/categories",
            Some(json!({"name": format!("c{i}"), "description": "d"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let td = json!({
            "uid": format!("t{i}"),
            "title": format!("thing {}", i % 3),
            "properties": {"temperature": {"type": "number"}}
        });
        let (s, b) = call(&server, &t, Method::POST, "/spaces/acme/things", Some(td)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        // Two things never get a temperature (their sort key is null).
        if i % 3 != 0 {
            let (s, _) = call(
                &server,
                &t,
                Method::PUT,
                &format!("/spaces/acme/things/t{i}/properties/temperature"),
                Some(json!({"temperature": 20 - (i % 4)})),
            )
            .await;
            assert_eq!(s, StatusCode::OK);
        }
    }
    let pages = walk_both_ways(&server, &t, "/spaces/acme/categories?", 3, "name").await;
    assert_eq!(pages.concat().len(), 7);
    for sort in [
        "",
        "&sort=-created",
        "&sort=status.temperature",
        "&sort=-status.temperature",
        "&sort=title,-uid",
    ] {
        for limit in [1, 2, 3] {
            let pages = walk_both_ways(&server, &t, &format!("/spaces/acme/things?{sort}"), limit, "uid").await;
            let mut all = pages.concat();
            assert_eq!(all.len(), 7, "{sort} {limit}: {pages:?}");
            all.sort_by_key(|v| v.as_str().map(str::to_owned));
            all.dedup();
            assert_eq!(all.len(), 7, "{sort} {limit}: every thing once");
        }
    }
    // A things cursor is refused by the categories list, and the other way round.
    let (_, b) = call(&server, &t, Method::GET, "/spaces/acme/things?limit=1", None).await;
    let things_cursor = b["paging"]["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, b) = call(&server, &t, Method::GET, "/spaces/acme/categories?limit=1", None).await;
    let categories_cursor = b["paging"]["next_cursor"].as_str().expect("cursor").to_owned();
    for path in [
        format!("/spaces/acme/categories?previous_cursor={things_cursor}"),
        format!("/spaces/acme/things?next_cursor={categories_cursor}"),
        format!("/spaces/acme/things?previous_cursor={things_cursor}&next_cursor={things_cursor}"),
        "/spaces/acme/things?previous_cursor=bm9wZQ".to_owned(),
    ] {
        let (s, e) = call(&server, &t, Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {e}");
        assert!(
            e["paging"].as_object().is_some_and(|p| p.contains_key("next_cursor")),
            "{e}"
        );
    }
}

#[tokio::test]
async fn actions_and_events_made_over_http_reach_the_things_realtime_channel() {
    use thingstead_proto::channel::ChannelId;

    use super::app_resources::user_token;
    use super::realtime_clients::Eio4;

    let (server, t) = setup().await;
    let channel = ChannelId::new("acme", "lamp-1", true, false).encode();
    let mut ws = Eio4::connected(&server, &user_token(&server, "acme").await).await;
    assert_eq!(ws.subscribe(std::slice::from_ref(&channel)).await, [channel.as_str()]);
    let base = "/spaces/acme/categories/lamps/things/lamp-1";
    let (_, b) = call(
        &server,
        &t,
        Method::POST,
        &format!("{base}/actions/fade"),
        Some(json!({"fade": {"input": {"level": 7}}})),
    )
    .await;
    let id = id_of(&b["fade"]);
    let (name, m) = ws.next_event().await;
    assert_eq!(
        (name.as_str(), &m["channel"], &m["name"]),
        ("broadcast", &json!(channel), &json!("update"))
    );
    assert_eq!(
        (&m["payload"]["id"], &m["payload"]["kind"]),
        (&json!(id), &json!("action"))
    );
    let one = format!("{base}/actions/fade/{id}");
    call(
        &server,
        &t,
        Method::PUT,
        &one,
        Some(json!({"fade": {"status": "completed"}})),
    )
    .await;
    let (_, m) = ws.next_event().await;
    assert_eq!(
        (&m["payload"]["change"], &m["payload"]["status"]),
        (&json!("updated"), &json!("completed"))
    );
    call(&server, &t, Method::DELETE, &one, None).await;
    let (_, m) = ws.next_event().await;
    assert_eq!(m["payload"]["change"], "deleted");
    let (_, b) = call(
        &server,
        &t,
        Method::POST,
        &format!("{base}/events/ping"),
        Some(json!({"ping": {"data": 1}})),
    )
    .await;
    let (_, m) = ws.next_event().await;
    assert_eq!(
        (&m["payload"]["id"], &m["payload"]["kind"], &m["payload"]["data"]),
        (&json!(id_of(&b["ping"])), &json!("event"), &json!(1))
    );
}

#[tokio::test]
async fn property_history_pages_backward_as_it_pages_forward() {
    let (server, t) = setup().await;
    let (s, b) = call(
        &server,
        &t,
        Method::PATCH,
        "/spaces/acme/things/lamp-1",
        Some(json!([{"op": "add", "path": "/properties", "value": {
            "temperature": {"type": "number"}, "label": {"type": "string"}
        }}])),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // 7 instants, 11 values: a label every other instant.
    let points: Vec<Value> = (0..7)
        .map(|i| {
            let mut properties = json!({"temperature": i});
            if i % 2 == 0 {
                properties["label"] = json!(format!("l{i}"));
            }
            json!({"at": format!("2024-01-0{}T00:00:00Z", i + 1), "properties": properties})
        })
        .collect();
    let hist = "/spaces/acme/things/lamp-1/properties-history";
    let (s, b) = call(&server, &t, Method::POST, hist, Some(Value::Array(points))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let in_category = "/spaces/acme/categories/lamps/things/lamp-1/properties-history";
    for (path, key, expected) in [
        (format!("{hist}?"), "properties", 11),
        (format!("{hist}?group=true"), "at", 7),
        (format!("{hist}/label?"), "properties", 4),
        (
            format!("{hist}/temperature?group=True&at=2024-01-02T00:00:00Z%7C2024-01-06T00:00:00Z"),
            "at",
            5,
        ),
        (format!("{in_category}?group=false"), "properties", 11),
    ] {
        for limit in [1, 2, 3, 11] {
            let pages = walk_both_ways(&server, &t, &path, limit, key).await;
            let all = pages.concat();
            let mut unique = all.clone();
            unique.dedup();
            assert_eq!(
                (all.len(), unique.len()),
                (expected, expected),
                "{path} {limit}: {pages:?}"
            );
        }
    }

    // A garbled cursor, one of another list, both cursors: 400 with paging.
    let (_, b) = call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/things/lamp-1/actions/reboot",
        Some(json!({"reboot": {}})),
    )
    .await;
    assert!(b["reboot"]["href"].is_string(), "{b}");
    call(
        &server,
        &t,
        Method::POST,
        "/spaces/acme/things/lamp-1/actions/reboot",
        Some(json!({"reboot": {}})),
    )
    .await;
    let (_, actions) = call(
        &server,
        &t,
        Method::GET,
        "/spaces/acme/things/lamp-1/actions?limit=1",
        None,
    )
    .await;
    let actions_cursor = actions["paging"]["next_cursor"]
        .as_str()
        .expect("2 actions, pages of 1");
    let (_, h) = call(&server, &t, Method::GET, &format!("{hist}?limit=1"), None).await;
    let history_cursor = h["paging"]["next_cursor"].as_str().expect("history cursor").to_owned();
    for query in [
        "previous_cursor=garbled!".to_owned(),
        format!("previous_cursor={actions_cursor}"),
        format!("next_cursor={actions_cursor}"),
        format!("next_cursor={history_cursor}&previous_cursor={history_cursor}"),
    ] {
        let (s, e) = call(&server, &t, Method::GET, &format!("{hist}?{query}"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {e}");
        assert!(
            e["paging"]
                .as_object()
                .is_some_and(|p| p.contains_key("previous_cursor")),
            "{e}"
        );
    }
    // A history cursor is refused by the actions list.
    let path = format!("/spaces/acme/things/lamp-1/actions?previous_cursor={history_cursor}");
    let (s, e) = call(&server, &t, Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}
