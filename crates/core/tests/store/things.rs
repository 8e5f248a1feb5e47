//! Things of the things API (categories, thing documents, lists, the bus)
//! on every backend, through the platform. Property values and history are
//! in `thing_properties.rs`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use thingstead_core::bus::{BusEvent, Change, Filter, RegistryKind};
use thingstead_core::documents::{Collection, NewDocument};
use thingstead_core::store::Store;
use thingstead_core::things::{HistoryDelete, HistoryQuery, ThingFilter, ThingQuery};
use thingstead_core::{CoreError, ErrorKind, Platform, Tenant};

use super::{Backend, Env, org};

both!(
    categories_follow_the_name_rule_are_unique_paged_renamed_and_deleted,
    a_thing_is_one_record_with_its_application_platform_document,
    invalid_things_and_unknown_categories_are_refused,
    a_failing_patch_changes_nothing_and_multi_patch_reports_each_item,
    another_organizations_things_are_never_visible,
    paging_terminates_without_duplicates_under_concurrent_inserts,
    every_filter_and_sort_selects_what_it_says,
    deleting_by_filter_refuses_an_empty_filter,
    every_change_is_published_after_commit,
);

pub(super) struct Fixture {
    pub(super) _env: Env,
    pub(super) store: Arc<dyn Store>,
    pub(super) p: Platform,
    pub(super) t: Tenant,
}

pub(super) async fn fixture(b: Backend) -> Fixture {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    let p = super::platform(store.clone());
    Fixture { _env: env, store, p, t }
}

pub(super) fn kind(r: Result<impl std::fmt::Debug, CoreError>) -> ErrorKind {
    r.expect_err("an error").kind()
}

pub(super) fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

pub(super) fn sensor(title: &str) -> Value {
    json!({
        "title": title,
        "@type": ["Sensor"],
        "properties": {
            "temperature": {"type": "number", "minimum": -50, "maximum": 100},
            "mode": {"type": "string", "enum": ["eco", "boost", "off"]},
            "label": {"type": "string"},
            "on": {"type": "boolean"},
        },
    })
}

pub(super) fn uids(page: &[thingstead_core::things::Thing]) -> Vec<String> {
    page.iter().map(|t| t.uid.clone()).collect()
}

async fn categories_follow_the_name_rule_are_unique_paged_renamed_and_deleted(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let c = p
        .create_category(
            t,
            &json!({"name": "Sensors", "description": "all", "model": {"name": "m", "version": "1"}}),
        )
        .await
        .unwrap();
    assert_eq!(c.to_json()["model"], json!({"name": "m", "version": "1"}));
    assert!(c.to_json()["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        kind(p.create_category(t, &json!({"name": "Sensors"})).await),
        ErrorKind::Conflict
    );
    for bad in [
        json!({"name": "no spaces"}),
        json!({"name": "x".repeat(27)}),
        json!({"description": "x"}),
    ] {
        assert_eq!(kind(p.create_category(t, &bad).await), ErrorKind::Invalid, "{bad}");
    }
    for i in 0..5 {
        p.create_category(t, &json!({"name": format!("c{i}")})).await.unwrap();
    }
    // Paged by name with an opaque cursor.
    let mut seen = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let mut q = pairs(&[("limit", "2")]);
        if let Some(c) = &cursor {
            q.push(("next_cursor".into(), c.clone()));
        }
        let page = p.list_categories(t, &q).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|c| c.name.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["Sensors", "c0", "c1", "c2", "c3", "c4"]);
    assert_eq!(
        kind(p.list_categories(t, &pairs(&[("next_cursor", "nope")])).await),
        ErrorKind::Invalid
    );

    // Renaming moves the things in it; deleting leaves them outside.
    let mut thing = sensor("s1");
    thing["categories"] = json!(["Sensors", "c0"]);
    let s1 = p.create_thing(t, &thing, None).await.unwrap();
    let renamed = p
        .update_category(t, "Sensors", &json!({"name": "Meters", "description": "renamed"}))
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_deref()),
        ("Meters", Some("renamed"))
    );
    assert_eq!(kind(p.category(t, "Sensors").await), ErrorKind::NotFound);
    let mut cats = p.thing(t, &s1.uid).await.unwrap().categories();
    cats.sort();
    assert_eq!(cats, ["Meters", "c0"]);
    let in_meters = ThingQuery::from_pairs(&pairs(&[("category[]", "Meters")])).unwrap();
    assert_eq!(
        uids(&p.list_things(t, &in_meters).await.unwrap().items),
        [s1.uid.as_str()]
    );
    assert_eq!(
        kind(p.update_category(t, "c1", &json!({"name": "c2"})).await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(p.update_category(t, "nope", &json!({"name": "x"})).await),
        ErrorKind::NotFound
    );
    p.delete_category(t, "Meters").await.unwrap();
    assert_eq!(p.thing(t, &s1.uid).await.unwrap().categories(), ["c0"]);
    assert!(p.list_things(t, &in_meters).await.unwrap().items.is_empty());
    assert_eq!(kind(p.delete_category(t, "Meters").await), ErrorKind::NotFound);
    // Made under /categories/{c}/things: in that category.
    let inside = p.create_thing_in_category(t, "c3", &sensor("s2"), None).await.unwrap();
    assert_eq!(inside.categories(), ["c3"]);
    assert!(p.thing_in_category(t, "c3", &inside.uid).await.is_ok());
    assert_eq!(
        kind(p.thing_in_category(t, "c0", &inside.uid).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(p.create_thing_in_category(t, "Meters", &sensor("s3"), None).await),
        ErrorKind::NotFound
    );
}

async fn a_thing_is_one_record_with_its_application_platform_document(b: Backend) {
    let f = fixture(b).await;
    let (p, t, store) = (&f.p, &f.t, &f.store);
    // Made here, read, renamed and deleted as an /api/things document.
    let thing = p.create_thing(t, &sensor("Boiler"), Some("client-1")).await.unwrap();
    p.update_property(t, &thing.uid, "temperature", &json!(21.5), true)
        .await
        .unwrap();
    let body: Value = serde_json::from_str(
        &store
            .document(t, Collection::Things, &thing.uid)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (body["uuid"].as_str(), body["name"].as_str()),
        (Some(thing.uid.as_str()), Some("Boiler"))
    );
    let mut doc = body.as_object().unwrap().clone();
    doc.insert("name".into(), json!("Renamed"));
    doc.insert("location".into(), json!({"uuid": "l1"}));
    store
        .update_document(t, NewDocument::new(Collection::Things, &thing.uid, doc).unwrap())
        .await
        .unwrap();
    let read = p.thing(t, &thing.uid).await.unwrap();
    assert_eq!(read.title(), Some("Renamed"));
    assert_eq!(
        read.status["temperature"],
        json!(21.5),
        "values survive a document save"
    );
    let shown = read.to_json("https://h/spaces/acme/things/x");
    assert_eq!(shown["client_id"], "client-1");
    assert_eq!(shown["uid"], json!(thing.uid));
    // A replace through the things API keeps what the application platform stored.
    p.replace_thing(t, &thing.uid, &sensor("Again")).await.unwrap();
    let body: Value = serde_json::from_str(
        &store
            .document(t, Collection::Things, &thing.uid)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (body["name"].as_str(), &body["location"]),
        (Some("Again"), &json!({"uuid": "l1"}))
    );
    store.delete_document(t, Collection::Things, &thing.uid).await.unwrap();
    assert_eq!(kind(p.thing(t, &thing.uid).await), ErrorKind::NotFound);
    assert_eq!(
        kind(p.property_history(t, &thing.uid, None, &HistoryQuery::default()).await),
        ErrorKind::NotFound
    );

    // Made as a document, read, renamed and deleted here.
    let Value::Object(doc) = json!({"name": "Lamp", "location": {"uuid": "l2"}}) else {
        unreachable!()
    };
    store
        .create_document(t, NewDocument::new(Collection::Things, "lamp-1", doc).unwrap())
        .await
        .unwrap();
    let lamp = p.thing(t, "lamp-1").await.unwrap();
    assert_eq!(lamp.title(), Some("Lamp"));
    assert!(lamp.status.is_empty() && lamp.categories().is_empty());
    p.patch_thing(
        t,
        "lamp-1",
        &json!([{"op": "replace", "path": "/title", "value": "Lamp 2"}]),
    )
    .await
    .unwrap();
    let body: Value =
        serde_json::from_str(&store.document(t, Collection::Things, "lamp-1").await.unwrap().unwrap()).unwrap();
    assert_eq!(body["name"], "Lamp 2");
    assert_eq!(body["location"], json!({"uuid": "l2"}));
    p.delete_thing(t, "lamp-1").await.unwrap();
    assert!(store.document(t, Collection::Things, "lamp-1").await.unwrap().is_none());
    assert_eq!(kind(p.delete_thing(t, "lamp-1").await), ErrorKind::NotFound);
}

async fn invalid_things_and_unknown_categories_are_refused(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    for bad in [
        json!("x"),
        json!({"title": 5}),
        json!({"properties": {"t": {"type": "float"}}}),
        json!({"actions": {"a": {"input": {"type": "string", "pattern": "x"}}}}),
        json!({"uid": "has space"}),
    ] {
        assert_eq!(kind(p.create_thing(t, &bad, None).await), ErrorKind::Invalid, "{bad}");
    }
    let err = p
        .create_thing(t, &json!({"title": "x", "categories": ["Ghosts"]}), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("Ghosts"), "{err}");
    // A given uid is kept, and taken once.
    let a = p
        .create_thing(
            t,
            &json!({"uid": "my-thing", "title": "a", "field_context": null}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(a.uid, "my-thing");
    assert_eq!(
        kind(p.create_thing(t, &json!({"uid": "my-thing"}), None).await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(p.replace_thing(t, "my-thing", &json!({"categories": ["Ghosts"]})).await),
        ErrorKind::NotFound
    );
    assert_eq!(kind(p.replace_thing(t, "nope", &json!({})).await), ErrorKind::NotFound);
}

async fn a_failing_patch_changes_nothing_and_multi_patch_reports_each_item(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let a = p.create_thing(t, &sensor("A"), None).await.unwrap();
    let before = p.thing(t, &a.uid).await.unwrap();
    let failing = [
        // The first op would apply; the test fails: nothing changes.
        json!([{"op": "replace", "path": "/title", "value": "Z"}, {"op": "test", "path": "/title", "value": "nope"}]),
        json!([{"op": "remove", "path": "/missing"}]),
        json!([{"op": "replace", "path": "/properties/temperature/type", "value": "float"}]),
        json!({"op": "replace"}),
    ];
    for patch in failing {
        assert_eq!(
            kind(p.patch_thing(t, &a.uid, &patch).await),
            ErrorKind::Invalid,
            "{patch}"
        );
        assert_eq!(p.thing(t, &a.uid).await.unwrap(), before, "{patch} changed nothing");
    }
    // Replacing a member that is not there says how to make it.
    let missing = json!([{"op": "replace", "path": "/description", "value": "d"}]);
    let e = p.patch_thing(t, &a.uid, &missing).await.unwrap_err().to_string();
    assert!(e.contains("add makes one"), "{e}");
    let patched = p
        .patch_thing(
            t,
            &a.uid,
            &json!([{"op": "add", "path": "/description", "value": "d"}, {"op": "remove", "path": "/properties/mode"}]),
        )
        .await
        .unwrap();
    assert_eq!(patched.body["description"], "d");
    assert!(!patched.has_property("mode"));
    let b2 = p.create_thing(t, &sensor("B"), None).await.unwrap();
    let results = p
        .patch_things(
            t,
            &json!([
                {"id": a.uid, "patch": [{"op": "replace", "path": "/description", "value": "x"}]},
                {"id": "nope", "patch": []},
                {"id": b2.uid, "patch": [{"op": "test", "path": "/title", "value": "wrong"}]},
                {"id": b2.uid, "patch": [{"op": "replace", "path": "/title", "value": "B2"}]},
            ]),
        )
        .await
        .unwrap();
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed, [1, 2]);
    assert_eq!(p.thing(t, &a.uid).await.unwrap().body["description"], "x");
    assert_eq!(p.thing(t, &b2.uid).await.unwrap().title(), Some("B2"));
}

async fn another_organizations_things_are_never_visible(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let other = f.store.create_org(&org("globex")).await.unwrap();
    let mine = p.create_thing(t, &sensor("mine"), None).await.unwrap();
    p.update_property(t, &mine.uid, "temperature", &json!(3), true)
        .await
        .unwrap();
    p.create_category(t, &json!({"name": "Mine"})).await.unwrap();
    let u = &mine.uid;
    assert_eq!(kind(p.thing(&other, u).await), ErrorKind::NotFound);
    assert_eq!(
        kind(p.replace_thing(&other, u, &sensor("x")).await),
        ErrorKind::NotFound
    );
    assert_eq!(kind(p.patch_thing(&other, u, &json!([])).await), ErrorKind::NotFound);
    assert_eq!(kind(p.delete_thing(&other, u).await), ErrorKind::NotFound);
    assert_eq!(kind(p.properties(&other, u).await), ErrorKind::NotFound);
    assert_eq!(
        kind(p.update_properties(&other, u, &json!({"temperature": 1}), true).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(p.property_history(&other, u, None, &HistoryQuery::default()).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.delete_property_history(&other, u, None, &HistoryDelete::default())
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(kind(p.category(&other, "Mine").await), ErrorKind::NotFound);
    assert!(
        p.list_things(&other, &ThingQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(p.list_categories(&other, &[]).await.unwrap().items.is_empty());
    let all = ThingQuery::from_pairs(&pairs(&[("thingID[]", u)])).unwrap();
    assert!(p.delete_things(&other, &all.filter).await.unwrap().is_empty());
    assert_eq!(p.prune_property_history(&other, i64::MAX).await.unwrap(), 0);
    // Another organization may make a category of the same name, and a thing with the same uid.
    p.create_category(&other, &json!({"name": "Mine"})).await.unwrap();
    p.create_thing(&other, &json!({"uid": "shared", "title": "o"}), None)
        .await
        .unwrap();
    p.create_thing(t, &json!({"uid": "shared", "title": "m"}), None)
        .await
        .unwrap();
    assert_eq!(p.thing(t, "shared").await.unwrap().title(), Some("m"));
    assert_eq!(p.thing(t, u).await.unwrap().status["temperature"], json!(3));
}

async fn paging_terminates_without_duplicates_under_concurrent_inserts(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    for i in 0..25 {
        let th = p
            .create_thing(t, &sensor(&format!("t{:02}", i % 7)), None)
            .await
            .unwrap();
        if i % 3 != 0 {
            p.update_property(t, &th.uid, "temperature", &json!(i % 5), false)
                .await
                .unwrap();
        }
    }
    for sort in [
        "",
        "-title",
        "status.temperature",
        "-status.temperature,title",
        "properties.temperature.maximum,-title",
        "modified",
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        let mut inserted = 0;
        loop {
            let mut q = pairs(&[("limit", "4"), ("sort", sort)]);
            if let Some(c) = &cursor {
                q.push(("next_cursor".into(), c.clone()));
            }
            let page = p.list_things(t, &ThingQuery::from_pairs(&q).unwrap()).await.unwrap();
            pages += 1;
            assert!(pages < 100, "paging with sort {sort:?} does not terminate");
            seen.extend(uids(&page.items));
            // Things arrive between pages.
            if inserted < 3 {
                p.create_thing(t, &sensor("t00"), None).await.unwrap();
                inserted += 1;
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no duplicates with sort {sort:?}");
        let total = p
            .list_things(
                t,
                &ThingQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
            .len();
        assert!(
            seen.len() >= total - 3 && seen.len() <= total,
            "sort {sort:?}: {} of {total}",
            seen.len()
        );
    }
    // An ordered list is in order.
    let q = ThingQuery::from_pairs(&pairs(&[("limit", "1000"), ("sort", "-title")])).unwrap();
    let titles: Vec<String> = p
        .list_things(t, &q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|t| t.title().unwrap().to_owned())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(titles, sorted);
    let q = ThingQuery::from_pairs(&pairs(&[("limit", "1000"), ("sort", "status.temperature")])).unwrap();
    let temps: Vec<Value> = p
        .list_things(t, &q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|t| t.status.get("temperature").cloned().unwrap_or(Value::Null))
        .collect();
    let numbers: Vec<f64> = temps.iter().map_while(Value::as_f64).collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{temps:?}");
    assert!(
        temps[numbers.len()..].iter().all(Value::is_null),
        "things without the value come last: {temps:?}"
    );
}

async fn every_filter_and_sort_selects_what_it_says(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    p.create_category(t, &json!({"name": "Kitchen"})).await.unwrap();
    p.create_category(t, &json!({"name": "Garden"})).await.unwrap();
    let mk = |title: &str, temp: Value, mode: &str, cats: Value, extra: Value| {
        let mut td = sensor(title);
        td["categories"] = cats;
        if let Value::Object(e) = extra {
            for (k, v) in e {
                match k.as_str() {
                    // A member of a property's schema, numbers or not.
                    "floor" => td["properties"]["label"]["floor"] = v,
                    _ => td[k] = v,
                }
            }
        }
        (td, temp, mode.to_owned())
    };
    let specs = [
        mk(
            "a",
            json!(5),
            "eco",
            json!(["Kitchen"]),
            json!({"model": {"name": "m1", "version": "1"}, "floor": 9, "links": [{"href": "https://a", "rel": "manual"}]}),
        ),
        mk(
            "b",
            json!(20),
            "boost",
            json!(["Garden"]),
            json!({"model": {"name": "m1", "version": "2"}, "floor": 10, "@type": "Lamp"}),
        ),
        mk(
            "c",
            json!(25.5),
            "off",
            json!([]),
            json!({"model": {"name": "m2"}, "floor": "roof"}),
        ),
        mk("d", Value::Null, "eco", json!(["Kitchen", "Garden"]), json!({})),
    ];
    let mut ids = Vec::new();
    for (td, temp, mode) in specs {
        let th = p.create_thing(t, &td, None).await.unwrap();
        let mut values = json!({"mode": mode, "label": format!("label-{}", th.title().unwrap())});
        if !temp.is_null() {
            values["temperature"] = temp;
        }
        p.update_properties(t, &th.uid, &values, false).await.unwrap();
        ids.push(th.uid);
    }
    let titles = |q: &[(&str, &str)]| {
        let q = ThingQuery::from_pairs(&pairs(q)).unwrap();
        async move {
            let mut v: Vec<String> = p
                .list_things(t, &q)
                .await
                .unwrap()
                .items
                .iter()
                .map(|t| t.title().unwrap().to_owned())
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(titles(&[("title", "b")]).await, ["b"]);
    assert_eq!(titles(&[("@type", "Lamp")]).await, ["b"]);
    assert_eq!(titles(&[("@type", "Sensor")]).await, ["a", "c", "d"]);
    assert_eq!(titles(&[("model", "m1")]).await, ["a", "b"]);
    assert_eq!(titles(&[("model", "m1"), ("version", "2")]).await, ["b"]);
    assert_eq!(
        titles(&[("thingID[]", &ids[0]), ("thingID[]", &ids[2])]).await,
        ["a", "c"]
    );
    assert_eq!(titles(&[("category[]", "Kitchen")]).await, ["a", "d"]);
    assert_eq!(
        titles(&[("category[]", "Kitchen"), ("category[]", "Garden")]).await,
        ["a", "b", "d"]
    );
    assert_eq!(titles(&[("in_category", "True")]).await, ["a", "b", "d"]);
    assert_eq!(titles(&[("in_category", "False")]).await, ["c"]);
    assert_eq!(titles(&[("links.rel", "manual")]).await, ["a"]);
    assert_eq!(titles(&[("links.href", "https://a")]).await, ["a"]);
    // Property filters: numbers numerically (5 < 20 although "5" > "20"), strings alphabetically.
    assert_eq!(titles(&[("property:temperature", "20")]).await, ["b"]);
    assert_eq!(titles(&[("property:temperature", "eq:20")]).await, ["b"]);
    assert_eq!(
        titles(&[("property:temperature", "neq:20")]).await,
        ["a", "c"],
        "d lacks it"
    );
    assert_eq!(titles(&[("property:temperature", "gt:5")]).await, ["b", "c"]);
    assert_eq!(titles(&[("property:temperature", "gte:5")]).await, ["a", "b", "c"]);
    assert_eq!(titles(&[("property:temperature", "lt:20")]).await, ["a"]);
    assert_eq!(titles(&[("property:temperature", "lte:25.5")]).await, ["a", "b", "c"]);
    assert_eq!(titles(&[("property:mode", "eco")]).await, ["a", "d"]);
    assert_eq!(titles(&[("property:mode", "gt:eco")]).await, ["c"]);
    assert_eq!(titles(&[("property:mode", "lt:eco")]).await, ["b"]);
    assert_eq!(titles(&[("property:label", "contains:bel-c")]).await, ["c"]);
    assert_eq!(
        titles(&[("property:mode", "eco"), ("category[]", "Garden")]).await,
        ["d"]
    );
    assert_eq!(titles(&[("property:nothing", "neq:1")]).await, Vec::<String>::new());
    // A TD with more affordance leaves than a document keeps terms is still found by its members.
    let mut big = sensor("big");
    big["categories"] = json!(["Kitchen"]);
    big["model"] = json!({"name": "m9"});
    for i in 0..600 {
        big["actions"][format!("a{i:04}")] = json!({"title": format!("action {i}"), "description": "d"});
    }
    p.create_thing(t, &big, None).await.unwrap();
    assert_eq!(
        titles(&[("model", "m9"), ("category[]", "Kitchen"), ("title", "big")]).await,
        ["big"]
    );
    p.delete_things(t, &ThingQuery::from_pairs(&pairs(&[("title", "big")])).unwrap().filter)
        .await
        .unwrap();
    // Under /categories/{c}/things: on top of the other filters.
    let mut q = ThingQuery::from_pairs(&pairs(&[("category[]", "Garden")])).unwrap();
    q.filter = q.filter.within_category("Kitchen");
    assert_eq!(uids(&p.list_things(t, &q).await.unwrap().items), [ids[3].as_str()]);
    let ordered = |sort: &str| {
        let q = ThingQuery::from_pairs(&pairs(&[("sort", sort)])).unwrap();
        async move {
            p.list_things(t, &q)
                .await
                .unwrap()
                .items
                .iter()
                .map(|t| t.title().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ordered("status.temperature").await, ["a", "b", "c", "d"]);
    assert_eq!(ordered("-status.temperature").await, ["c", "b", "a", "d"]);
    assert_eq!(ordered("status.mode,-title").await, ["b", "d", "a", "c"]);
    assert_eq!(ordered("-model.version,title").await, ["b", "a", "c", "d"]);
    // A TD path holding numbers: by value (9 before 10), then texts, then
    // things without it, as for status.
    assert_eq!(ordered("properties.label.floor").await, ["a", "b", "c", "d"]);
    assert_eq!(ordered("-properties.label.floor").await, ["b", "a", "c", "d"]);
}

async fn deleting_by_filter_refuses_an_empty_filter(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let a = p.create_thing(t, &sensor("a"), None).await.unwrap();
    let b2 = p.create_thing(t, &sensor("b"), None).await.unwrap();
    p.update_property(t, &a.uid, "temperature", &json!(30), true)
        .await
        .unwrap();
    p.update_property(t, &b2.uid, "temperature", &json!(10), true)
        .await
        .unwrap();
    assert_eq!(
        kind(p.delete_things(t, &ThingFilter::default()).await),
        ErrorKind::Invalid
    );
    let only_unknown = ThingQuery::from_pairs(&pairs(&[("limit", "5"), ("whatever", "x")])).unwrap();
    assert_eq!(kind(p.delete_things(t, &only_unknown.filter).await), ErrorKind::Invalid);
    let bare_in_category = ThingFilter::default().within_category("Anything");
    assert_eq!(kind(p.delete_things(t, &bare_in_category).await), ErrorKind::Invalid);
    let hot = ThingQuery::from_pairs(&pairs(&[("property:temperature", "gt:20")])).unwrap();
    assert_eq!(p.delete_things(t, &hot.filter).await.unwrap(), [a.uid.as_str()]);
    assert_eq!(kind(p.thing(t, &a.uid).await), ErrorKind::NotFound);
    assert!(p.thing(t, &b2.uid).await.is_ok());
}

async fn every_change_is_published_after_commit(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let mut sub = p.events().subscribe(Filter::any_tenant("registry.thing.>").unwrap());
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    p.update_property(t, &s.uid, "temperature", &json!(1), true)
        .await
        .unwrap();
    assert!(
        p.update_property(t, &s.uid, "temperature", &json!(1000), true)
            .await
            .is_err()
    );
    p.patch_thing(t, &s.uid, &json!([{"op": "replace", "path": "/title", "value": "T"}]))
        .await
        .unwrap();
    p.delete_thing(t, &s.uid).await.unwrap();
    for want in [Change::Created, Change::Updated, Change::Updated, Change::Deleted] {
        let e = tokio::time::timeout(Duration::from_secs(2), sub.recv())
            .await
            .unwrap()
            .unwrap();
        let BusEvent::Registry(r) = e else { panic!("{e:?}") };
        assert_eq!(
            (r.kind, r.change, r.id.as_str(), r.org.as_str()),
            (RegistryKind::Thing, want, s.uid.as_str(), "acme")
        );
        assert_eq!(r.channel_name().as_deref(), Some(s.uid.as_str()));
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(100), sub.recv())
            .await
            .is_err(),
        "a refused write publishes nothing"
    );
}
