//! The resources of the things SDK against the real server: categories,
//! things (CRUD, replace, JSON Patch on one and many, filters, sort,
//! delete by filter, category paths), lists walked page by page as an
//! async stream and as a blocking iterator, property values and history,
//! raw responses of successes and errors.

use futures::TryStreamExt;
use serde_json::{Value, json};
use thingstead::things::{
    HistoryItem, HistoryQuery, NewCategory, NewThing, Op, Query, ThingPatch, ThingQuery, ThingType, ThingsError,
    UpdateHistory,
};
use thingstead_server::testing::TestServer;

use super::things_support::{api_as, space};

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

fn category(name: &str, description: &str) -> NewCategory {
    NewCategory {
        name: name.into(),
        description: Some(description.into()),
        model: None,
    }
}

#[tokio::test]
async fn categories_are_created_listed_in_pages_read_updated_and_deleted() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["category", "thing"]).await;
    let space = api.space("acme");
    for name in ["Sensors", "Pumps", "Valves"] {
        let created = space.categories().create(&category(name, "d")).await.expect("created");
        assert_eq!(created.raw().status, 201);
        assert_eq!(created.value.name, name);
        assert!(created.value.created.is_some(), "{:?}", created.value);
    }
    let err = space
        .categories()
        .create(&category("Pumps", "again"))
        .await
        .expect_err("duplicate");
    assert!(matches!(err, ThingsError::Api { status: 409, .. }), "{err:?}");

    let pages = space.categories().list(Query::new().limit(2));
    let first = pages.first().await.expect("first page").into_inner();
    assert_eq!(first.data.len(), 2);
    let cursor = first.next_cursor().expect("a second page").to_owned();
    let second = pages.page(&cursor).await.expect("second page").into_inner();
    assert_eq!(second.data.len(), 1);
    assert_eq!(second.next_cursor(), None);
    let back = second.previous_cursor().expect("a page before");
    let again = space
        .categories()
        .list(Query::new().limit(2).previous_cursor(back))
        .first()
        .await
        .expect("the page before")
        .into_inner();
    let names_of = |p: &thingstead::things::Page<thingstead::things::Category>| {
        p.data.iter().map(|c| c.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names_of(&again), names_of(&first), "back to the first page");
    let mut names: Vec<String> = pages
        .collect_all(100)
        .await
        .expect("all")
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    assert_eq!(names, ["Pumps", "Sensors", "Valves"]);
    assert_eq!(
        pages.collect_all(2).await.expect("two").len(),
        2,
        "collect_all stops at max"
    );

    let sensors = space.category("Sensors");
    assert_eq!(
        sensors.get().await.expect("get").value.description.as_deref(),
        Some("d")
    );
    let updated = sensors
        .update(&category("Sensors", "all sensors"))
        .await
        .expect("update");
    assert_eq!(updated.value.description.as_deref(), Some("all sensors"));
    let deleted = sensors.delete().await.expect("delete");
    assert_eq!(deleted.raw().status, 204);
    assert!(deleted.raw().body.is_empty());
    let err = sensors.get().await.expect_err("gone");
    let ThingsError::Api { status, error, raw } = &err else {
        panic!("expected 404: {err:?}");
    };
    assert_eq!((*status, error.status), (404, 404));
    assert!(!error.message.is_empty());
    let body = raw.json().expect("a JSON error body");
    assert_eq!(body["error"]["status"], 404, "{body}");
    assert_eq!(raw.content_type(), Some("application/json"));
    server.stop().await;
}

#[tokio::test]
async fn things_are_created_read_replaced_patched_filtered_and_deleted() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["category", "thing"]).await;
    let space = api.space("acme");
    let things = space.things();

    // Typed and untyped bodies; typed answers with the raw response.
    let typed = NewThing {
        title: Some("alpha".into()),
        types: Some(ThingType::One("Sensor".into())),
        properties: sensor("x")["properties"].as_object().cloned().unwrap_or_default(),
        ..Default::default()
    };
    let alpha = things.create(&typed).await.expect("created");
    assert_eq!(alpha.raw().status, 201);
    let alpha = alpha.into_inner();
    assert!(
        alpha.id.ends_with(&format!("/spaces/acme/things/{}", alpha.uid)),
        "{}",
        alpha.id
    );
    assert_eq!(alpha.types, Some(ThingType::One("Sensor".into())));
    assert!(alpha.properties.contains_key("temperature"));
    assert!(
        alpha.extra.contains_key("client_id"),
        "unknown members are kept: {:?}",
        alpha.extra
    );
    let mut uids = vec![alpha.uid.clone()];
    for (title, t) in [("beta", 10), ("gamma", 30), ("delta", 25)] {
        let thing = things.create(&sensor(title)).await.expect("created").into_inner();
        space
            .thing(&thing.uid)
            .property("temperature")
            .update(t)
            .await
            .expect("written");
        uids.push(thing.uid);
    }
    let err = things.create(&json!({"title": 5})).await.expect_err("bad title");
    assert!(matches!(err, ThingsError::Api { status: 400, .. }), "{err:?}");

    // Filters and sort: hotter than 20, hottest first.
    let hot: Vec<String> = things
        .list(
            ThingQuery::new()
                .property("temperature", Op::Gt, 20)
                .sort("-status.temperature"),
        )
        .collect_all(100)
        .await
        .expect("filtered")
        .into_iter()
        .filter_map(|t| t.title)
        .collect();
    assert_eq!(hot, ["gamma", "delta"]);
    let picked = things
        .list(ThingQuery::new().thing_id(&uids[1]).thing_id(&uids[2]).sort("title"))
        .collect_all(100)
        .await
        .expect("by id");
    assert_eq!(
        picked.iter().map(|t| t.uid.as_str()).collect::<Vec<_>>(),
        [&uids[1], &uids[2]]
    );

    // One thing: read, replace, patch.
    let one = space.thing(&alpha.uid);
    assert_eq!(one.get().await.expect("get").value.title.as_deref(), Some("alpha"));
    let replaced = one.update(&sensor("alpha2")).await.expect("replaced").into_inner();
    assert_eq!(replaced.title.as_deref(), Some("alpha2"));
    assert_eq!(replaced.model.as_ref().map(|m| m.name.as_str()), Some("tm"));
    let patched = one
        .patch(&json!([{"op": "replace", "path": "/description", "value": "patched"}]))
        .await
        .expect("patched");
    assert_eq!(patched.value.description.as_deref(), Some("patched"));
    let err = one
        .patch(&json!([{"op": "test", "path": "/title", "value": "nope"}]))
        .await
        .expect_err("failed test op");
    assert!(matches!(err, ThingsError::Api { status: 400, .. }), "{err:?}");

    // Many: 207 with the index of the failed patch.
    let ops = json!([{"op": "replace", "path": "/description", "value": "m"}]);
    let multi = things
        .patch_many(&[ThingPatch::new(&uids[1], ops.clone()), ThingPatch::new("nope", ops)])
        .await
        .expect("multi-status");
    assert_eq!(multi.raw().status, 207);
    assert_eq!(multi.value.has_errors, [1]);
    assert_eq!(
        space
            .thing(&uids[1])
            .get()
            .await
            .expect("get")
            .value
            .description
            .as_deref(),
        Some("m")
    );

    // Category paths: a thing created in a category is listed there only.
    space.categories().create(&category("lab", "")).await.expect("category");
    let lab = space.category("lab");
    let in_lab = lab
        .things()
        .create(&sensor("in-lab"))
        .await
        .expect("in lab")
        .into_inner();
    assert_eq!(in_lab.categories, ["lab"]);
    let listed = lab
        .things()
        .list(ThingQuery::new())
        .collect_all(100)
        .await
        .expect("lab things");
    assert_eq!(
        listed.iter().map(|t| t.uid.as_str()).collect::<Vec<_>>(),
        [in_lab.uid.as_str()]
    );
    assert!(lab.thing(&in_lab.uid).get().await.is_ok());
    let err = lab.thing(&uids[1]).get().await.expect_err("not in the category");
    assert!(matches!(err, ThingsError::Api { status: 404, .. }), "{err:?}");

    // Delete by filter (refused without one, before any request), then one.
    let err = things.delete_matching(ThingQuery::new()).await.expect_err("no filter");
    assert!(matches!(err, ThingsError::Config(_)), "{err:?}");
    let gone = things
        .delete_matching(ThingQuery::new().title("delta"))
        .await
        .expect("deleted");
    assert_eq!(gone.value, [uids[3].clone()]);
    let deleted = one.delete().await.expect("deleted");
    assert_eq!(deleted.raw().status, 204);
    let err = one.get().await.expect_err("gone");
    assert!(matches!(err, ThingsError::Api { status: 404, .. }), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_list_streams_every_item_across_pages() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["thing"]).await;
    let things = api.space("acme").things();
    let mut uids = Vec::new();
    for i in 0..7 {
        uids.push(
            things
                .create(&sensor(&format!("t{i}")))
                .await
                .expect("created")
                .value
                .uid,
        );
    }
    let pages = things.list(ThingQuery::new().limit(3));
    let first = pages.first().await.expect("first");
    assert_eq!(first.value.data.len(), 3);
    assert!(first.value.next_cursor().is_some());
    let streamed: Vec<String> = pages.stream().map_ok(|t| t.uid).try_collect().await.expect("streamed");
    assert_eq!(streamed, uids, "every thing once, in order");
    let two: Vec<_> = futures::StreamExt::take(pages.stream(), 2)
        .try_collect()
        .await
        .expect("two");
    assert_eq!(two.len(), 2);
    server.stop().await;
}

#[test]
fn the_blocking_client_walks_pages_with_an_iterator() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(TestServer::start());
    let c = runtime.block_on(space(&server, "acme"));
    let api = thingstead::things::blocking::ThingsApi::builder()
        .host(format!("http://{}", server.http))
        .build()
        .expect("blocking api");
    api.set_credentials(&c.id, &c.secret, &["thing"]).expect("token");
    let things = api.space("acme").things();
    let mut uids = Vec::new();
    for i in 0..5 {
        uids.push(things.create(&sensor(&format!("b{i}"))).expect("created").value.uid);
    }
    let walked: Vec<String> = things
        .list(ThingQuery::new().limit(2))
        .iter()
        .map(|t| t.map(|t| t.uid))
        .collect::<Result<_, _>>()
        .expect("walked");
    assert_eq!(walked, uids);
    let one = api.space("acme").thing(&uids[0]);
    one.property("temperature").update(17.3).expect("written");
    assert_eq!(one.property("temperature").get().expect("read").value, json!(17.3));
    let err = api.space("acme").thing("nope").get().expect_err("404");
    assert!(matches!(err, ThingsError::Api { status: 404, .. }), "{err:?}");
    // Inside an async runtime the blocking client refuses instead of panicking.
    let inside = runtime.block_on(async { things.list(ThingQuery::new()).first().map(|_| ()) });
    assert!(matches!(inside, Err(ThingsError::Config(_))), "{inside:?}");
    runtime.block_on(server.stop());
}

#[tokio::test]
async fn property_values_and_history_are_written_read_and_deleted() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["thing"]).await;
    let uid = api
        .space("acme")
        .things()
        .create(&sensor("alpha"))
        .await
        .expect("created")
        .value
        .uid;
    let thing = api.space("acme").thing(&uid);

    let mut values = serde_json::Map::new();
    values.insert("temperature".into(), json!(21.5));
    values.insert("label".into(), json!("x"));
    let written = thing
        .properties()
        .update(values, UpdateHistory::Yes)
        .await
        .expect("written");
    assert_eq!(Value::Object(written.value), json!({"temperature": 21.5, "label": "x"}));
    let t = thing.property("temperature");
    let one = t.update_with(22, UpdateHistory::No).await.expect("written");
    assert_eq!(one.value, json!(22));
    assert_eq!(one.raw().status, 200);
    assert_eq!(t.get().await.expect("read").value, json!(22));
    let all = thing.properties().get().await.expect("read all");
    assert_eq!(Value::Object(all.value), json!({"temperature": 22, "label": "x"}));
    assert_eq!(
        Value::Object(thing.get().await.expect("thing").value.status),
        json!({"temperature": 22, "label": "x"})
    );
    let err = t.update(500).await.expect_err("outside the schema");
    let ThingsError::Api { status: 400, error, .. } = &err else {
        panic!("expected 400: {err:?}");
    };
    assert!(!error.message.is_empty());

    // Only the first write is in the history (the second had UpdateHistory::No).
    let recorded = thing
        .history_of("temperature")
        .list(HistoryQuery::new())
        .collect_all(100)
        .await
        .expect("history");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].properties["temperature"], json!(21.5));

    let history = thing.history();
    let items = [
        HistoryItem::new("2024-01-01T00:00:00Z", json!({"temperature": 1})),
        HistoryItem::new("2024-01-02T00:00:00Z", json!({"temperature": 2, "label": "b"})),
    ];
    let added = history.create(&items).await.expect("added");
    assert_eq!(added.raw().status, 201);
    assert_eq!(added.value.len(), 2);
    let err = history.create(&items).await.expect_err("same points again");
    assert!(matches!(err, ThingsError::Api { status: 409, .. }), "{err:?}");
    let day = history
        .list(HistoryQuery::at_range("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z").group(true))
        .collect_all(100)
        .await
        .expect("range");
    assert_eq!(day.len(), 1, "{day:?}");
    assert_eq!(
        Value::Object(day[0].properties.clone()),
        json!({"temperature": 2, "label": "b"})
    );
    let paged = history.list(HistoryQuery::new().limit(1));
    assert!(paged.first().await.expect("page").value.next_cursor().is_some());
    // Forward two pages of two values, then back by previous_cursor.
    let by_two = history.list(HistoryQuery::new().limit(2));
    let first = by_two.first().await.expect("first page").into_inner();
    assert_eq!((first.data.len(), first.previous_cursor()), (2, None));
    let second = by_two
        .page(first.next_cursor().expect("a second page"))
        .await
        .expect("second page")
        .into_inner();
    assert_ne!(second.data, first.data);
    let back = second.previous_cursor().expect("a page before the second");
    let again = history
        .list(HistoryQuery::new().limit(2).previous_cursor(back))
        .first()
        .await
        .expect("the page before")
        .into_inner();
    assert_eq!(again.data, first.data, "back to the first page");
    assert_eq!(again.previous_cursor(), None, "nothing before the first page");
    let deleted = history.delete(HistoryQuery::at("2024")).await.expect("deleted");
    assert_eq!(deleted.raw().status, 204);
    let left = history
        .list(HistoryQuery::at("2024"))
        .collect_all(100)
        .await
        .expect("left");
    assert!(left.is_empty(), "{left:?}");
    let err = api
        .space("acme")
        .thing("nope")
        .history()
        .list(HistoryQuery::new())
        .first()
        .await
        .expect_err("unknown thing");
    assert!(matches!(err, ThingsError::Api { status: 404, .. }), "{err:?}");
    server.stop().await;
}
