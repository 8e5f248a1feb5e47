//! Property values of things and their history, on every backend, through
//! the platform.

use std::sync::Arc;

use serde_json::{Value, json};
use thingstead_core::ErrorKind;
use thingstead_core::store::{PropertyWrite, Store};
use thingstead_core::things::{HistoryDelete, HistoryQuery, ThingQuery};

use super::things::{fixture, kind, pairs, sensor, uids};
use super::{Backend, Env, org};

both!(
    status_always_equals_the_last_writes,
    writes_and_td_changes_racing_all_land,
    property_writes_are_validated_against_their_schemas,
    history_ranges_groups_pages_deletes_and_prunes,
    a_write_committed_late_does_not_hide_a_newer_value,
    a_td_changed_through_another_platform_is_seen_by_the_next_write,
);

async fn status_always_equals_the_last_writes(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    assert_eq!(p.property(t, &s.uid, "temperature").await.unwrap(), Value::Null);
    let writers: Vec<_> = (0..40)
        .map(|i| {
            let (p, t, uid) = (p.clone(), t.clone(), s.uid.clone());
            tokio::spawn(async move {
                p.update_properties(&t, &uid, &json!({"temperature": i, "label": format!("w{i}")}), true)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    p.update_properties(t, &s.uid, &json!({"temperature": 42.5, "mode": "eco"}), true)
        .await
        .unwrap();
    let status = p.properties(t, &s.uid).await.unwrap();
    assert_eq!(status["temperature"], json!(42.5));
    assert_eq!(status["mode"], "eco");
    assert!(status["label"].as_str().unwrap().starts_with('w'));
    assert_eq!(
        p.thing(t, &s.uid).await.unwrap().status,
        status,
        "status on the thing is the current values"
    );
    // Without history, the value changes but no point is added.
    let before = p
        .property_history(
            t,
            &s.uid,
            Some("temperature"),
            &HistoryQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        p.update_property(t, &s.uid, "temperature", &json!(1), false)
            .await
            .unwrap(),
        json!(1)
    );
    assert_eq!(p.property(t, &s.uid, "temperature").await.unwrap(), json!(1));
    let after = p
        .property_history(
            t,
            &s.uid,
            Some("temperature"),
            &HistoryQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(before.items.len(), after.items.len());
    assert!(!after.items.is_empty());
    // A property the TD stops declaring has no current value any more.
    p.patch_thing(t, &s.uid, &json!([{"op": "remove", "path": "/properties/mode"}]))
        .await
        .unwrap();
    assert!(!p.properties(t, &s.uid).await.unwrap().contains_key("mode"));
    p.patch_thing(
        t,
        &s.uid,
        &json!([{"op": "add", "path": "/properties/mode", "value": {"type": "string"}}]),
    )
    .await
    .unwrap();
    assert!(
        !p.properties(t, &s.uid).await.unwrap().contains_key("mode"),
        "not resurrected"
    );
}

async fn property_writes_are_validated_against_their_schemas(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    p.update_properties(t, &s.uid, &json!({"temperature": 20}), true)
        .await
        .unwrap();
    for bad in [
        json!({"temperature": 101}),
        json!({"temperature": "hot"}),
        json!({"mode": "turbo"}),
        json!({"on": 1}),
        // One bad value: nothing of the call is written.
        json!({"label": "fine", "temperature": -51}),
        json!({"unknown": 1}),
        json!([1]),
        json!({}),
    ] {
        assert_eq!(
            kind(p.update_properties(t, &s.uid, &bad, true).await),
            ErrorKind::Invalid,
            "{bad}"
        );
    }
    let status = p.properties(t, &s.uid).await.unwrap();
    assert_eq!(status, *json!({"temperature": 20}).as_object().unwrap());
    assert_eq!(kind(p.property(t, &s.uid, "unknown").await), ErrorKind::NotFound);
    assert_eq!(
        kind(p.update_properties(t, "nope", &json!({"temperature": 1}), true).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.add_property_history(
                t,
                &s.uid,
                None,
                &json!({"at": "2022-01-01T00:00:00Z", "properties": {"temperature": 500}})
            )
            .await
        ),
        ErrorKind::Invalid
    );
}

async fn history_ranges_groups_pages_deletes_and_prunes(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    let u = &s.uid;
    let points = json!([
        {"at": "2022-11-30T23:00:00Z", "properties": {"temperature": 1, "mode": "eco"}},
        {"at": "2022-12-15T10:00:00Z", "properties": {"temperature": 2, "mode": "off"}},
        {"at": "2023-03-31T23:59:59.999Z", "properties": {"temperature": 3}},
        {"at": 1685577600, "properties": {"temperature": 4}},
    ]);
    let added = p.add_property_history(t, u, None, &points).await.unwrap();
    assert_eq!(added.len(), 4);
    assert_eq!(added[3].to_json()["at"], "2023-06-01T00:00:00.000Z");
    // The same property at the same instant again: a conflict, and nothing of the batch is added.
    let dup = json!([{"at": "2024-01-01T00:00:00Z", "properties": {"temperature": 9}}, {"at": "2022-12-15T10:00:00Z", "properties": {"temperature": 5}}]);
    assert_eq!(
        kind(p.add_property_history(t, u, None, &dup).await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(
            p.add_property_history(
                t,
                u,
                Some("mode"),
                &json!({"at": "2024-01-01T00:00:00Z", "properties": {"temperature": 1}})
            )
            .await
        ),
        ErrorKind::Invalid
    );
    let q = |at: Option<&str>, group: bool, limit: u32| {
        let mut pr = vec![
            ("limit".to_owned(), limit.to_string()),
            ("group".to_owned(), if group { "True" } else { "False" }.to_owned()),
        ];
        if let Some(at) = at {
            pr.push(("at".into(), at.into()));
        }
        HistoryQuery::from_pairs(&pr).unwrap()
    };
    let all = p.property_history(t, u, None, &q(None, false, 100)).await.unwrap();
    assert_eq!(all.items.len(), 6);
    assert!(all.next_cursor.is_none());
    let grouped = p.property_history(t, u, None, &q(None, true, 100)).await.unwrap();
    assert_eq!(grouped.items.len(), 4);
    assert_eq!(
        grouped.items[0].to_json(),
        json!({"at": "2022-11-30T23:00:00.000Z", "properties": {"mode": "eco", "temperature": 1}})
    );
    let in_range = p
        .property_history(t, u, None, &q(Some("2022-12|2023-03"), true, 100))
        .await
        .unwrap();
    assert_eq!(
        in_range
            .items
            .iter()
            .map(|i| i.properties["temperature"].clone())
            .collect::<Vec<_>>(),
        [json!(2), json!(3)]
    );
    let years = p
        .property_history(t, u, Some("temperature"), &q(Some("2022|2023"), false, 100))
        .await
        .unwrap();
    assert_eq!(years.items.len(), 4);
    let instant = p
        .property_history(t, u, None, &q(Some("2022-12-15T10:00:00Z"), false, 100))
        .await
        .unwrap();
    assert_eq!(instant.items.len(), 2);
    // Cursor paging, grouped and not.
    for group in [false, true] {
        let mut cursor = None::<String>;
        let mut items = Vec::new();
        loop {
            let mut query = q(None, group, 1);
            if let Some(c) = &cursor {
                query = HistoryQuery::from_pairs(&[
                    ("limit".into(), "1".into()),
                    ("group".into(), group.to_string()),
                    ("next_cursor".into(), c.clone()),
                ])
                .unwrap();
            }
            let page = p.property_history(t, u, None, &query).await.unwrap();
            items.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(items.len(), if group { 4 } else { 6 }, "group {group}");
    }
    assert!(HistoryQuery::from_pairs(&pairs(&[("next_cursor", "zzz")])).is_err());
    // The history of a property the thing does not declare is not there.
    assert_eq!(
        kind(p.property_history(t, u, Some("nosuch"), &q(None, false, 100)).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.delete_property_history(t, u, Some("nosuch"), &HistoryDelete::default())
                .await
        ),
        ErrorKind::NotFound
    );
    // Deletes by range and property.
    let del = HistoryDelete::from_pairs(&pairs(&[("at", "2022"), ("property_name[]", "mode")])).unwrap();
    assert_eq!(p.delete_property_history(t, u, None, &del).await.unwrap(), 2);
    let only_temp = HistoryDelete::from_pairs(&pairs(&[("at", "2023-03-31T23:59:59.999Z")])).unwrap();
    assert_eq!(
        p.delete_property_history(t, u, Some("temperature"), &only_temp)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        p.property_history(t, u, None, &q(None, false, 100))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    // Prune: older than a cutoff, nothing newer.
    let cutoff = thingstead_core::things::time::parse_instant("2023-01-01").unwrap();
    assert_eq!(p.prune_property_history(t, cutoff).await.unwrap(), 2);
    let left = p.property_history(t, u, None, &q(None, false, 100)).await.unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].properties["temperature"], json!(4));
}

/// `admin migrate` copies things with their categories, current values
/// (numbers included) and history, and they work the same on PostgreSQL.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_migrate_copies_things_values_and_history() {
    use thingstead_core::store::postgres::{PgStore, PgTls};

    let env = Env::new(Backend::Postgres).await;
    let data = env.dir.path().join("data");
    let sqlite: Arc<dyn Store> = Arc::new(thingstead_core::store::sqlite::SqliteStore::open(&data, env.key()).unwrap());
    let t = sqlite.create_org(&org("acme")).await.unwrap();
    let p = super::platform(sqlite.clone());
    p.create_category(&t, &json!({"name": "Hot", "model": {"name": "m"}}))
        .await
        .unwrap();
    let mut td = sensor("S");
    td["categories"] = json!(["Hot"]);
    let s = p.create_thing(&t, &td, None).await.unwrap();
    p.update_properties(&t, &s.uid, &json!({"temperature": 21.25, "mode": "eco"}), true)
        .await
        .unwrap();
    sqlite.close().await;
    drop((p, sqlite));
    thingstead_core::store::migrate::sqlite_to_postgres(
        &data,
        env.key(),
        env.url.as_deref().unwrap(),
        &PgTls::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let pg: Arc<dyn Store> = Arc::new(PgStore::open(env.url.as_deref().unwrap(), env.key()).await.unwrap());
    let t = pg.tenant(&org("acme")).await.unwrap().unwrap();
    let p = super::platform(pg);
    assert_eq!(p.category(&t, "Hot").await.unwrap().model.unwrap().name, "m");
    let moved = p.thing(&t, &s.uid).await.unwrap();
    assert_eq!(moved.status["temperature"], json!(21.25));
    assert_eq!(moved.categories(), ["Hot"]);
    let warm = ThingQuery::from_pairs(&pairs(&[("property:temperature", "gt:21.2"), ("category[]", "Hot")])).unwrap();
    assert_eq!(uids(&p.list_things(&t, &warm).await.unwrap().items), [s.uid.as_str()]);
    let history = p
        .property_history(&t, &s.uid, None, &HistoryQuery::default())
        .await
        .unwrap();
    assert_eq!(history.items.len(), 2);
}

async fn writes_and_td_changes_racing_all_land(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (p, t, uid) = (p.clone(), t.clone(), s.uid.clone());
        tasks.push(tokio::spawn(async move {
            if i % 6 == 0 {
                let patch = json!([{"op": "add", "path": "/description", "value": format!("v{i}")}]);
                p.patch_thing(&t, &uid, &patch).await.map(|_| ())
            } else {
                p.update_property(&t, &uid, "temperature", &json!(i), true)
                    .await
                    .map(|_| ())
            }
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("a write racing TD changes still lands");
    }
    // The current value is one of the values written (the last to commit);
    // the TD changes all landed too.
    let current = p.property(t, &s.uid, "temperature").await.unwrap();
    let i = current.as_i64().expect("a number");
    assert!((1..30).contains(&i) && i % 6 != 0, "{current}");
    assert!(p.thing(t, &s.uid).await.unwrap().body["description"].is_string());
    let history = p
        .property_history(
            t,
            &s.uid,
            Some("temperature"),
            &HistoryQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!history.items.is_empty() && history.items.len() <= 25);
}

/// Two writes of one property whose commits come in the other order than
/// their instants (a write that took its instant first but lost the race
/// to the writer): the current value stays the one of the newest instant,
/// which is also the newest history point, whatever the commit order.
async fn a_write_committed_late_does_not_hide_a_newer_value(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    let body = f.store.thing(t, &s.uid).await.unwrap().unwrap().body;
    let write = |v: i64| vec![PropertyWrite::new("temperature", &json!(v))];
    let now = thingstead_core::now_ms();
    f.store
        .write_properties(t, &s.uid, body.clone(), write(2), now, true)
        .await
        .unwrap();
    f.store
        .write_properties(t, &s.uid, body.clone(), write(1), now - 1000, true)
        .await
        .unwrap();
    assert_eq!(
        p.property(t, &s.uid, "temperature").await.unwrap(),
        json!(2),
        "the value of the newest instant is current"
    );
    let history = p
        .property_history(
            t,
            &s.uid,
            Some("temperature"),
            &HistoryQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let values: Vec<Value> = history
        .items
        .iter()
        .map(|i| i.properties["temperature"].clone())
        .collect();
    assert_eq!(values, vec![json!(1), json!(2)], "history in instant order");
    // The same instant: the later commit wins in both.
    f.store
        .write_properties(t, &s.uid, body, write(3), now, true)
        .await
        .unwrap();
    assert_eq!(p.property(t, &s.uid, "temperature").await.unwrap(), json!(3));
}

/// Another node (another platform over the same store) changes a thing's
/// TD after this platform wrote a property: the next write here follows
/// the new TD both ways (a value only the new schema allows is taken, a
/// property it no longer declares is refused), and a deleted thing is gone.
async fn a_td_changed_through_another_platform_is_seen_by_the_next_write(b: Backend) {
    let f = fixture(b).await;
    let (p, t) = (&f.p, &f.t);
    let other = super::platform(f.store.clone());
    let s = p.create_thing(t, &sensor("S"), None).await.unwrap();
    p.update_property(t, &s.uid, "temperature", &json!(50), true)
        .await
        .unwrap();
    p.update_property(t, &s.uid, "label", &json!("before"), true)
        .await
        .unwrap();
    other
        .patch_thing(
            t,
            &s.uid,
            &json!([
                {"op": "replace", "path": "/properties/temperature/maximum", "value": 1000},
                {"op": "remove", "path": "/properties/label"}
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        p.update_property(t, &s.uid, "temperature", &json!(500), true)
            .await
            .unwrap(),
        json!(500),
        "the new maximum applies"
    );
    assert_eq!(
        kind(p.update_property(t, &s.uid, "label", &json!("after"), true).await),
        ErrorKind::NotFound,
        "label is no longer declared: the property a path names is not there"
    );
    assert_eq!(
        kind(p.update_properties(t, &s.uid, &json!({"label": "after"}), true).await),
        ErrorKind::Invalid,
        "label is no longer declared: a body naming it is wrong"
    );
    let status = p.properties(t, &s.uid).await.unwrap();
    assert_eq!(status.get("temperature"), Some(&json!(500)));
    assert!(!status.contains_key("label"));
    other.delete_thing(t, &s.uid).await.unwrap();
    assert_eq!(
        kind(p.update_property(t, &s.uid, "temperature", &json!(1), true).await),
        ErrorKind::NotFound
    );
}
