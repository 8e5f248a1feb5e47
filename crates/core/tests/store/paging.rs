//! `previous_cursor` on every backend: each list (things under several
//! sorts, nulls included; categories; actions; events; property history,
//! grouped or not, of all properties or one) walked forward
//! from its first page, then backward from its last, gives the same pages,
//! and a cursor of one list is refused by another.

use std::sync::Arc;

use serde_json::{Value, json};
use thingstead_core::bus::local::LocalBus;
use thingstead_core::paging::{CursorPage, PageRequest};
use thingstead_core::store::Store;
use thingstead_core::things::{HistoryQuery, ThingQuery};
use thingstead_core::{ErrorKind, Platform, Tenant};

use super::{Backend, Env, org};

both!(every_list_pages_backward_as_it_pages_forward);

fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Walks a list forward then backward; `read` answers the page for the
/// given query pairs as (item keys, next, previous).
async fn walk<F, Fut>(what: &str, limit: usize, read: F) -> Vec<String>
where
    F: Fn(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = (Vec<String>, Option<String>, Option<String>)>,
{
    let l = limit.to_string();
    let (mut items, mut next, mut prev) = read(pairs(&[("limit", &l)])).await;
    assert_eq!(prev, None, "{what}");
    let mut forward = Vec::new();
    while let Some(c) = next {
        forward.push(items);
        assert!(forward.len() < 50, "{what}: does not end");
        (items, next, prev) = read(pairs(&[("limit", &l), ("next_cursor", &c)])).await;
        assert!(prev.is_some(), "{what}");
    }
    forward.push(items);
    let mut backward = vec![forward[forward.len() - 1].clone()];
    while let Some(c) = prev {
        let (items, next, p) = read(pairs(&[("limit", &l), ("previous_cursor", &c)])).await;
        assert!(next.is_some(), "{what}");
        backward.push(items);
        prev = p;
        assert!(backward.len() <= forward.len(), "{what}: runs past the start");
    }
    backward.reverse();
    assert_eq!(backward, forward, "{what} by {limit}");
    forward.concat()
}

fn keys<T>(page: CursorPage<T>, key: impl Fn(&T) -> String) -> (Vec<String>, Option<String>, Option<String>) {
    (
        page.items.iter().map(key).collect(),
        page.next_cursor,
        page.previous_cursor,
    )
}

async fn every_list_pages_backward_as_it_pages_forward(b: Backend) {
    let env = Env::new(b).await;
    let store: Arc<dyn Store> = env.open().await;
    let t: Tenant = store.create_org(&org("acme")).await.unwrap();
    let p = Platform::new(store.clone(), Arc::new(LocalBus::default()));
    for i in 0..7 {
        p.create_category(&t, &json!({"name": format!("c{i}"), "description": "d"}))
            .await
            .unwrap();
        let td = json!({
            "uid": format!("t{i}"),
            "title": format!("thing {}", i % 3),
            "properties": {"temperature": {"type": "number"}, "label": {"type": "string"}},
            "actions": {"go": {}},
            "events": {"beep": {}}
        });
        p.create_thing(&t, &td, None).await.unwrap();
        if i % 3 != 0 {
            let v: Value = json!({"temperature": 20 - (i % 4), "label": format!("l{}", i % 2)});
            p.update_properties(&t, &format!("t{i}"), &v, false).await.unwrap();
        }
        p.create_thing_action(&t, "t0", "go", None).await.unwrap();
        p.create_thing_event(&t, "t0", "beep", Some(json!(i))).await.unwrap();
        // History of t0: 7 instants, 11 values (a label every other instant).
        let mut values = json!({"temperature": i});
        if i % 2 == 0 {
            values["label"] = json!(format!("l{i}"));
        }
        let point = json!({"at": format!("2024-01-0{}T00:00:00Z", i + 1), "properties": values});
        p.add_property_history(&t, "t0", None, &point).await.unwrap();
    }
    for limit in [1, 3, 7] {
        let all = walk("categories", limit, |q| {
            let p = &p;
            let t = &t;
            async move { keys(p.list_categories(t, &q).await.unwrap(), |c| c.name.clone()) }
        })
        .await;
        assert_eq!(all.len(), 7);
        for sort in [
            "",
            "-created",
            "status.temperature",
            "-status.temperature",
            "status.label,-title",
            "title",
        ] {
            let all = walk(&format!("things sorted by {sort:?}"), limit, |mut q| {
                let (p, t) = (&p, &t);
                if !sort.is_empty() {
                    q.push(("sort".into(), sort.into()));
                }
                async move {
                    let query = ThingQuery::from_pairs(&q).unwrap();
                    keys(p.list_things(t, &query).await.unwrap(), |x| x.uid.clone())
                }
            })
            .await;
            let mut unique = all.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 7, "{sort}: {all:?}");
        }
        let all = walk("actions", limit, |q| {
            let (p, t) = (&p, &t);
            async move {
                let page = PageRequest::from_pairs(&q).unwrap();
                keys(p.list_thing_actions(t, "t0", None, &page).await.unwrap(), |a| {
                    a.id.clone()
                })
            }
        })
        .await;
        assert_eq!(all.len(), 7);
        let all = walk("events", limit, |q| {
            let (p, t) = (&p, &t);
            async move {
                let page = PageRequest::from_pairs(&q).unwrap();
                keys(p.list_thing_events(t, "t0", Some("beep"), &page).await.unwrap(), |e| {
                    e.id.clone()
                })
            }
        })
        .await;
        assert_eq!(all.len(), 7);
        for (group, property, expected) in [
            (false, None, 11),
            (true, None, 7),
            (false, Some("label"), 4),
            (true, Some("label"), 4),
        ] {
            let what = format!("history of {property:?}, grouped {group}");
            let all = walk(&what, limit, |mut q| {
                let (p, t) = (&p, &t);
                q.push(("group".into(), group.to_string()));
                async move {
                    let query = HistoryQuery::from_pairs(&q).unwrap();
                    keys(p.property_history(t, "t0", property, &query).await.unwrap(), |h| {
                        let names: Vec<&String> = h.properties.keys().collect();
                        format!("{} {names:?}", h.at)
                    })
                }
            })
            .await;
            let mut unique = all.clone();
            unique.dedup();
            assert_eq!((all.len(), unique.len()), (expected, expected), "{what}: {all:?}");
            assert!(all.windows(2).all(|w| w[0] < w[1]), "{what}: oldest first: {all:?}");
        }
    }
    // A cursor of one list is invalid input on another.
    let one = PageRequest::new(Some(1), None).unwrap();
    let actions = p.list_thing_actions(&t, "t0", None, &one).await.unwrap();
    let cursor = actions.next_cursor.expect("more actions");
    let e = p
        .list_categories(&t, &pairs(&[("previous_cursor", &cursor)]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = ThingQuery::from_pairs(&pairs(&[("next_cursor", &cursor)])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let page = PageRequest::from_pairs(&pairs(&[("previous_cursor", &cursor)])).unwrap();
    let e = p.list_thing_events(&t, "t0", None, &page).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    for key in ["next_cursor", "previous_cursor"] {
        let e = HistoryQuery::from_pairs(&pairs(&[(key, &cursor)])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "an action cursor on history");
    }
    let first = HistoryQuery::from_pairs(&pairs(&[("limit", "2")])).unwrap();
    let history = p.property_history(&t, "t0", None, &first).await.unwrap();
    let cursor = history.next_cursor.expect("more history");
    let page = PageRequest::from_pairs(&pairs(&[("previous_cursor", &cursor)])).unwrap();
    let e = p.list_thing_actions(&t, "t0", None, &page).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "a history cursor on actions");
    let both = pairs(&[("next_cursor", &cursor), ("previous_cursor", &cursor)]);
    assert_eq!(HistoryQuery::from_pairs(&both).unwrap_err().kind(), ErrorKind::Invalid);
}
