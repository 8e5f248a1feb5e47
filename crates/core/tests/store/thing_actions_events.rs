//! Actions and events of things, cursor paging, space retention and its
//! sweep, on every backend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use thingstead_core::bus::local::LocalBus;
use thingstead_core::bus::{BusEvent, Change, Filter, Subscriber};
use thingstead_core::paging::PageRequest;
use thingstead_core::store::Store;
use thingstead_core::things_activity::{
    NewThingAction, NewThingEvent, SpaceRetention, SpaceRetentionChange, ThingActionUpdate,
};
use thingstead_core::{ErrorKind, Platform, Tenant};

use super::{Backend, Env, org};

both!(
    an_action_is_requested_pending_updated_and_deleted,
    time_completed_follows_the_status,
    an_event_is_recorded_read_and_deleted,
    lists_page_newest_first_by_thing_and_name_and_terminate_under_inserts,
    a_malformed_or_foreign_cursor_is_invalid_input,
    actions_and_events_never_cross_organizations_or_things,
    a_deleted_thing_or_organization_takes_its_actions_and_events,
    space_retention_is_unlimited_until_set_and_changes_per_limit,
    old_events_are_deleted_in_bounded_batches_oldest_first,
    the_sweep_removes_events_past_each_space_limit_only,
    changes_are_published_after_commit,
    deleting_a_thing_by_any_face_deletes_its_actions_and_events,
);

async fn acme(b: Backend) -> (Env, Arc<dyn Store>, Tenant) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    (env, store, t)
}

fn platform(store: &Arc<dyn Store>) -> Platform {
    Platform::new(store.clone(), Arc::new(LocalBus::default()))
}

fn page(limit: u32, cursor: Option<&str>) -> PageRequest {
    PageRequest::new(Some(limit), cursor).unwrap()
}

async fn an_action_is_requested_pending_updated_and_deleted(b: Backend) {
    let (_env, store, t) = acme(b).await;
    let p = platform(&store);
    let a = p
        .create_thing_action(&t, "lamp", "fade", Some(json!({"to": 0, "ms": [1, 2]})))
        .await
        .unwrap();
    assert_eq!(a.status, "pending");
    assert_eq!((a.thing.as_str(), a.name.as_str()), ("lamp", "fade"));
    assert_eq!(a.input, Some(json!({"to": 0, "ms": [1, 2]})));
    assert_eq!((a.output.clone(), a.time_completed), (None, None));
    assert!((thingstead_core::now_ms() - a.time_requested).abs() < 60_000);
    assert_eq!(p.thing_action(&t, "lamp", "fade", &a.id).await.unwrap(), a);
    // No input is none; a null input too.
    let bare = p
        .create_thing_action(&t, "lamp", "toggle", Some(serde_json::Value::Null))
        .await
        .unwrap();
    assert_eq!(bare.input, None);
    assert_ne!(bare.id, a.id);

    let u = ThingActionUpdate::new(Some("running"), Some(json!("half way"))).unwrap();
    let running = p.update_thing_action(&t, "lamp", "fade", &a.id, u).await.unwrap();
    assert_eq!(
        (running.status.as_str(), running.output.clone()),
        ("running", Some(json!("half way")))
    );
    assert_eq!(
        (running.input.clone(), running.time_requested),
        (a.input.clone(), a.time_requested)
    );
    assert_eq!(p.thing_action(&t, "lamp", "fade", &a.id).await.unwrap(), running);
    // Only the output: the status stays.
    let u = ThingActionUpdate::new(None, Some(json!({"level": 50}))).unwrap();
    let more = p.update_thing_action(&t, "lamp", "fade", &a.id, u).await.unwrap();
    assert_eq!(
        (more.status.as_str(), more.output.clone()),
        ("running", Some(json!({"level": 50})))
    );

    // Unknown ids, names and things are not found, and change nothing.
    let u = || ThingActionUpdate::new(Some("completed"), None).unwrap();
    for (thing, name, id) in [
        ("lamp", "toggle", a.id.as_str()),
        ("fan", "fade", &a.id),
        ("lamp", "fade", "nope"),
    ] {
        assert_eq!(
            p.thing_action(&t, thing, name, id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            p.update_thing_action(&t, thing, name, id, u())
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            p.delete_thing_action(&t, thing, name, id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    assert_eq!(p.thing_action(&t, "lamp", "fade", &a.id).await.unwrap(), more);

    p.delete_thing_action(&t, "lamp", "fade", &a.id).await.unwrap();
    assert_eq!(
        p.thing_action(&t, "lamp", "fade", &a.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        p.delete_thing_action(&t, "lamp", "fade", &a.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let left = p
        .list_thing_actions(&t, "lamp", None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(left.items, vec![bare]);

    // Oversized values and bad names never reach the store.
    let big = json!("x".repeat(thingstead_core::things_activity::MAX_VALUE_BYTES));
    for r in [
        p.create_thing_action(&t, "lamp", "fade", Some(big.clone())).await,
        p.create_thing_action(&t, "", "fade", None).await,
        p.create_thing_action(&t, "lamp", "fa\nde", None).await,
    ] {
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Invalid);
    }
    assert!(ThingActionUpdate::new(Some(""), None).is_err());
    assert!(ThingActionUpdate::new(None, Some(big)).is_err());
}

async fn time_completed_follows_the_status(b: Backend) {
    let (_env, store, t) = acme(b).await;
    let a = store
        .create_thing_action(&t, NewThingAction::new("lamp", "fade", None).unwrap())
        .await
        .unwrap();
    let set = |status: Option<&str>, output: Option<serde_json::Value>| ThingActionUpdate::new(status, output).unwrap();
    let update = |u: ThingActionUpdate, now: i64| {
        let store = store.clone();
        let (t, id) = (t.clone(), a.id.clone());
        async move {
            store
                .update_thing_action(&t, "lamp", "fade", &id, u, now)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(update(set(Some("running"), None), 10).await.time_completed, None);
    let done = update(set(Some("completed"), Some(json!(1))), 20).await;
    assert_eq!((done.status.as_str(), done.time_completed), ("completed", Some(20)));
    // The same status again, or only an output: the completion time stays.
    assert_eq!(update(set(Some("completed"), None), 30).await.time_completed, Some(20));
    assert_eq!(update(set(None, Some(json!(2))), 40).await.time_completed, Some(20));
    // Completed then failed: the time of the new final status.
    assert_eq!(update(set(Some("failed"), None), 50).await.time_completed, Some(50));
    // Running again: not completed any more.
    let again = update(set(Some("running"), None), 60).await;
    assert_eq!((again.time_completed, again.output), (None, Some(json!(2))));
    assert_eq!(update(set(Some("failed"), None), 70).await.time_completed, Some(70));
}

async fn an_event_is_recorded_read_and_deleted(b: Backend) {
    let (_env, store, t) = acme(b).await;
    let p = platform(&store);
    let e = p
        .create_thing_event(&t, "lamp", "overheated", Some(json!({"celsius": 81.5, "ü": null})))
        .await
        .unwrap();
    assert_eq!(e.data, json!({"celsius": 81.5, "ü": null}));
    assert!((thingstead_core::now_ms() - e.timestamp).abs() < 60_000);
    assert_eq!(p.thing_event(&t, "lamp", "overheated", &e.id).await.unwrap(), e);
    let none = p.create_thing_event(&t, "lamp", "clicked", None).await.unwrap();
    assert_eq!(none.data, serde_json::Value::Null);
    let late = p
        .record_thing_event(
            &t,
            NewThingEvent::new("lamp", "clicked", Some(json!(3))).unwrap().at(1_000),
        )
        .await
        .unwrap();
    assert_eq!(late.timestamp, 1_000);
    for (thing, name, id) in [
        ("lamp", "clicked", e.id.as_str()),
        ("fan", "overheated", &e.id),
        ("lamp", "overheated", "x"),
    ] {
        assert_eq!(
            p.thing_event(&t, thing, name, id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            p.delete_thing_event(&t, thing, name, id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
    p.delete_thing_event(&t, "lamp", "overheated", &e.id).await.unwrap();
    assert_eq!(
        p.thing_event(&t, "lamp", "overheated", &e.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let left = p
        .list_thing_events(&t, "lamp", None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(left.items, vec![late, none]);
    assert_eq!(left.next_cursor, None);
}

async fn lists_page_newest_first_by_thing_and_name_and_terminate_under_inserts(b: Backend) {
    let (_env, store, t) = acme(b).await;
    let p = platform(&store);
    let mut created = Vec::new();
    for i in 0..7 {
        let name = if i % 2 == 0 { "even" } else { "odd" };
        created.push(p.create_thing_event(&t, "lamp", name, Some(json!(i))).await.unwrap().id);
        p.create_thing_action(&t, "lamp", name, Some(json!(i))).await.unwrap();
    }
    p.create_thing_event(&t, "fan", "even", None).await.unwrap();

    // Pages of 3 while new events keep arriving: every event that existed
    // at the start is seen once, newest first, and the paging ends.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let got = p
            .list_thing_events(&t, "lamp", None, &page(3, cursor.as_deref()))
            .await
            .unwrap();
        assert!(got.items.len() <= 3);
        seen.extend(got.items.iter().map(|e| e.id.clone()));
        p.create_thing_event(&t, "lamp", "even", Some(json!("late")))
            .await
            .unwrap();
        pages += 1;
        assert!(pages < 10, "paging must end");
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());

    // One name only, and the last page has no cursor.
    let odd = p
        .list_thing_actions(&t, "lamp", Some("odd"), &page(2, None))
        .await
        .unwrap();
    assert_eq!(
        odd.items.iter().map(|a| a.input.clone().unwrap()).collect::<Vec<_>>(),
        vec![json!(5), json!(3)]
    );
    let rest = p
        .list_thing_actions(&t, "lamp", Some("odd"), &page(2, odd.next_cursor.as_deref()))
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|a| a.input.clone().unwrap()).collect::<Vec<_>>(),
        vec![json!(1)]
    );
    assert_eq!(rest.next_cursor, None);
    // A page exactly full has no cursor when nothing follows.
    let all = p.list_thing_actions(&t, "lamp", None, &page(7, None)).await.unwrap();
    assert_eq!((all.items.len(), all.next_cursor), (7, None));
    assert!(all.items.windows(2).all(|w| w[0].seq > w[1].seq));
    let evens = p
        .list_thing_events(&t, "fan", Some("even"), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(evens.items.len(), 1);
    assert!(
        p.list_thing_events(&t, "nothing", None, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn a_malformed_or_foreign_cursor_is_invalid_input(b: Backend) {
    let (_env, store, t) = acme(b).await;
    let p = platform(&store);
    for _ in 0..3 {
        p.create_thing_action(&t, "lamp", "fade", None).await.unwrap();
        p.create_thing_event(&t, "lamp", "clicked", None).await.unwrap();
    }
    let actions = p.list_thing_actions(&t, "lamp", None, &page(1, None)).await.unwrap();
    let events = p.list_thing_events(&t, "lamp", None, &page(1, None)).await.unwrap();
    let (ac, ec) = (actions.next_cursor.unwrap(), events.next_cursor.unwrap());
    for bad in ["garbage!", "eyJ4IjoxfQ", ec.as_str()] {
        let e = p
            .list_thing_actions(&t, "lamp", None, &page(1, Some(bad)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{bad}");
    }
    let e = p
        .list_thing_events(&t, "lamp", None, &page(1, Some(&ac)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(PageRequest::new(Some(0), None).is_err());
}

async fn actions_and_events_never_cross_organizations_or_things(b: Backend) {
    let (_env, store, acme) = acme(b).await;
    let globex = store.create_org(&org("globex")).await.unwrap();
    let p = platform(&store);
    let a = p.create_thing_action(&acme, "lamp", "fade", None).await.unwrap();
    let e = p.create_thing_event(&acme, "lamp", "clicked", None).await.unwrap();
    assert_eq!(
        p.thing_action(&globex, "lamp", "fade", &a.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        p.thing_event(&globex, "lamp", "clicked", &e.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let u = ThingActionUpdate::new(Some("completed"), None).unwrap();
    assert!(p.update_thing_action(&globex, "lamp", "fade", &a.id, u).await.is_err());
    assert!(p.delete_thing_action(&globex, "lamp", "fade", &a.id).await.is_err());
    assert!(p.delete_thing_event(&globex, "lamp", "clicked", &e.id).await.is_err());
    let d = PageRequest::default();
    assert!(
        p.list_thing_actions(&globex, "lamp", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        p.list_thing_events(&globex, "lamp", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        p.list_thing_events(&acme, "lamp2", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Still there, unchanged, in their own organization.
    assert_eq!(p.thing_action(&acme, "lamp", "fade", &a.id).await.unwrap(), a);
    assert_eq!(p.thing_event(&acme, "lamp", "clicked", &e.id).await.unwrap(), e);
    // Retention of one organization never touches another's events.
    assert_eq!(
        store.delete_thing_events_before(&globex, i64::MAX, 100).await.unwrap(),
        0
    );
    assert_eq!(p.thing_event(&acme, "lamp", "clicked", &e.id).await.unwrap(), e);
}

async fn a_deleted_thing_or_organization_takes_its_actions_and_events(b: Backend) {
    let (_env, store, acme) = acme(b).await;
    let p = platform(&store);
    for thing in ["lamp", "fan"] {
        p.create_thing_action(&acme, thing, "fade", None).await.unwrap();
        p.create_thing_event(&acme, thing, "clicked", None).await.unwrap();
        p.create_thing_event(&acme, thing, "clicked", None).await.unwrap();
    }
    assert_eq!(p.delete_thing_activity(&acme, "lamp").await.unwrap(), 3);
    let d = PageRequest::default();
    assert!(
        p.list_thing_events(&acme, "lamp", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        p.list_thing_actions(&acme, "lamp", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        p.list_thing_events(&acme, "fan", None, &d).await.unwrap().items.len(),
        2
    );

    p.set_space_retention(
        &acme,
        SpaceRetentionChange {
            events_days: Some(Some(3)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    store.delete_org(&acme).await.unwrap();
    let again = store.create_org(&org("acme")).await.unwrap();
    assert!(
        p.list_thing_events(&again, "fan", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        p.list_thing_actions(&again, "fan", None, &d)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(p.space_retention(&again).await.unwrap().is_unlimited());
    assert!(store.limited_spaces().await.unwrap().is_empty());
}

async fn space_retention_is_unlimited_until_set_and_changes_per_limit(b: Backend) {
    let (_env, store, acme) = acme(b).await;
    let globex = store.create_org(&org("globex")).await.unwrap();
    let p = platform(&store);
    assert_eq!(p.space_retention(&acme).await.unwrap(), SpaceRetention::default());
    assert!(store.limited_spaces().await.unwrap().is_empty());

    let set = |h: Option<Option<u32>>, e: Option<Option<u32>>| SpaceRetentionChange {
        history_days: h,
        events_days: e,
    };
    let r = p.set_space_retention(&acme, set(Some(Some(30)), None)).await.unwrap();
    assert_eq!((r.history_days, r.events_days), (Some(30), None));
    let r = p.set_space_retention(&acme, set(None, Some(Some(7)))).await.unwrap();
    assert_eq!((r.history_days, r.events_days), (Some(30), Some(7)));
    assert_eq!(p.space_retention(&acme).await.unwrap(), r);
    assert_eq!(p.space_retention(&globex).await.unwrap(), SpaceRetention::default());
    let limited = store.limited_spaces().await.unwrap();
    assert_eq!(limited.len(), 1);
    assert_eq!((limited[0].0.name().as_str(), limited[0].1), ("acme", r));

    // Bad limits change nothing.
    for bad in [0, thingstead_core::things_activity::MAX_RETENTION_DAYS + 1] {
        let e = p
            .set_space_retention(&acme, set(Some(Some(bad)), None))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
    }
    assert_eq!(p.space_retention(&acme).await.unwrap(), r);

    let r = p.set_space_retention(&acme, set(Some(None), None)).await.unwrap();
    assert_eq!((r.history_days, r.events_days), (None, Some(7)));
    let r = p.set_space_retention(&acme, set(None, Some(None))).await.unwrap();
    assert!(r.is_unlimited());
    assert!(store.limited_spaces().await.unwrap().is_empty());
    // A first setting of only one limit leaves the other unlimited.
    let r = p.set_space_retention(&globex, set(None, Some(Some(1)))).await.unwrap();
    assert_eq!((r.history_days, r.events_days), (None, Some(1)));
}

async fn old_events_are_deleted_in_bounded_batches_oldest_first(b: Backend) {
    let (_env, store, t) = acme(b).await;
    for at in [50, 10, 40, 20, 30, 1_000] {
        let e = NewThingEvent::new("lamp", "tick", Some(json!(at))).unwrap().at(at);
        store.create_thing_event(&t, e).await.unwrap();
    }
    let left = |store: Arc<dyn Store>, t: Tenant| async move {
        let mut ats: Vec<i64> = store
            .list_thing_events(&t, "lamp", None, None, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.timestamp)
            .collect();
        ats.sort();
        ats
    };
    assert_eq!(store.delete_thing_events_before(&t, 100, 2).await.unwrap(), 2);
    assert_eq!(left(store.clone(), t.clone()).await, vec![30, 40, 50, 1_000]);
    assert_eq!(store.delete_thing_events_before(&t, 100, 2).await.unwrap(), 2);
    assert_eq!(left(store.clone(), t.clone()).await, vec![50, 1_000]);
    assert_eq!(store.delete_thing_events_before(&t, 100, 2).await.unwrap(), 1);
    assert_eq!(store.delete_thing_events_before(&t, 100, 2).await.unwrap(), 0);
    assert_eq!(left(store.clone(), t.clone()).await, vec![1_000]);
}

async fn the_sweep_removes_events_past_each_space_limit_only(b: Backend) {
    let (_env, store, acme) = acme(b).await;
    let globex = store.create_org(&org("globex")).await.unwrap();
    let initech = store.create_org(&org("initech")).await.unwrap();
    let p = platform(&store);
    let day = 86_400_000_i64;
    let now = thingstead_core::now_ms();
    let batch = thingstead_core::RETENTION_BATCH as i64;
    // acme keeps 2 days: more old events than one batch, and new ones.
    for i in 0..batch + 5 {
        let e = NewThingEvent::new("lamp", "tick", None).unwrap().at(now - 3 * day - i);
        store.create_thing_event(&acme, e).await.unwrap();
    }
    let kept = p.create_thing_event(&acme, "lamp", "tick", None).await.unwrap();
    let recent = p
        .record_thing_event(&acme, NewThingEvent::new("lamp", "tick", None).unwrap().at(now - day))
        .await
        .unwrap();
    // globex has a history limit only; initech no limit: nothing of theirs goes.
    for t in [&globex, &initech] {
        let old = NewThingEvent::new("lamp", "tick", None).unwrap().at(now - 400 * day);
        store.create_thing_event(t, old).await.unwrap();
    }
    let change = |h, e| SpaceRetentionChange {
        history_days: h,
        events_days: e,
    };
    p.set_space_retention(&acme, change(None, Some(Some(2)))).await.unwrap();
    p.set_space_retention(&globex, change(Some(Some(1)), None))
        .await
        .unwrap();

    let sweep = p.enforce_space_retention().await.unwrap();
    assert_eq!(sweep.events, (batch + 5) as u64);
    let d = PageRequest::default();
    let ids: Vec<String> = p
        .list_thing_events(&acme, "lamp", None, &d)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, vec![recent.id, kept.id]);
    for t in [&globex, &initech] {
        assert_eq!(p.list_thing_events(t, "lamp", None, &d).await.unwrap().items.len(), 1);
    }
    // Idempotent: a second sweep finds nothing.
    assert_eq!(p.enforce_space_retention().await.unwrap().events, 0);
}

async fn next(sub: &mut Subscriber) -> BusEvent {
    tokio::time::timeout(Duration::from_secs(2), sub.recv())
        .await
        .expect("an event")
        .expect("a live bus")
}

async fn changes_are_published_after_commit(b: Backend) {
    let (_env, store, t) = acme(b).await;
    let p = platform(&store);
    let mut sub = p.events().subscribe(Filter::tenant(t.name(), "thing.>").unwrap());
    let a = p.create_thing_action(&t, "lamp", "fade", Some(json!(1))).await.unwrap();
    let e = next(&mut sub).await;
    assert_eq!(
        e.subject(),
        format!("thingstead.acme.thing.lamp.action.fade.{}.created", a.id)
    );
    let BusEvent::ThingAction { change, action, .. } = e else {
        panic!("{e:?}")
    };
    assert_eq!((change, &action), (Change::Created, &a));
    // What was published is what a reader sees: it was committed.
    assert_eq!(p.thing_action(&t, "lamp", "fade", &a.id).await.unwrap(), action);

    let u = ThingActionUpdate::new(Some("completed"), Some(json!("ok"))).unwrap();
    let done = p.update_thing_action(&t, "lamp", "fade", &a.id, u).await.unwrap();
    let BusEvent::ThingAction { change, action, .. } = next(&mut sub).await else {
        panic!()
    };
    assert_eq!((change, action), (Change::Updated, done));

    let ev = p
        .create_thing_event(&t, "lamp", "clicked", Some(json!({"n": 2})))
        .await
        .unwrap();
    let e = next(&mut sub).await;
    assert_eq!(
        e.subject(),
        format!("thingstead.acme.thing.lamp.event.clicked.{}.created", ev.id)
    );
    let BusEvent::ThingEvent { change, event, .. } = e else {
        panic!("{e:?}")
    };
    assert_eq!((change, event), (Change::Created, ev.clone()));

    p.delete_thing_event(&t, "lamp", "clicked", &ev.id).await.unwrap();
    let BusEvent::ThingEvent { change, .. } = next(&mut sub).await else {
        panic!()
    };
    assert_eq!(change, Change::Deleted);
    p.delete_thing_action(&t, "lamp", "fade", &a.id).await.unwrap();
    let BusEvent::ThingAction { change, .. } = next(&mut sub).await else {
        panic!()
    };
    assert_eq!(change, Change::Deleted);
    // A failed change publishes nothing.
    assert!(p.delete_thing_action(&t, "lamp", "fade", &a.id).await.is_err());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), sub.recv())
            .await
            .is_err()
    );
}

/// `admin migrate` copies actions, events and retention settings to
/// PostgreSQL as they are, and advances the id sequences past them, so
/// records made afterwards list first and old cursors keep working.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_only_actions_events_and_retention_survive_admin_migrate() {
    let (sqlite_env, sqlite, t) = acme(Backend::Sqlite).await;
    let p = platform(&sqlite);
    let mut actions = Vec::new();
    for i in 0..3 {
        actions.push(p.create_thing_action(&t, "lamp", "fade", Some(json!(i))).await.unwrap());
    }
    let u = ThingActionUpdate::new(Some("completed"), Some(json!({"ok": true}))).unwrap();
    actions[1] = p
        .update_thing_action(&t, "lamp", "fade", &actions[1].id, u)
        .await
        .unwrap();
    let event = p
        .create_thing_event(&t, "lamp", "clicked", Some(json!("ü")))
        .await
        .unwrap();
    let retention = SpaceRetentionChange {
        history_days: Some(Some(9)),
        events_days: Some(Some(3)),
    };
    p.set_space_retention(&t, retention).await.unwrap();
    let first_page = p.list_thing_actions(&t, "lamp", None, &page(2, None)).await.unwrap();
    sqlite.close().await;

    let pg_env = Env::new(Backend::Postgres).await;
    let url = pg_env.url.clone().unwrap();
    thingstead_core::store::migrate::sqlite_to_postgres(
        sqlite_env.dir.path(),
        sqlite_env.key(),
        &url,
        &thingstead_core::store::postgres::PgTls::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let pg = pg_env.open_with(sqlite_env.key()).await.unwrap();
    let t = pg.tenant(&org("acme")).await.unwrap().unwrap();
    let p = platform(&pg);
    for a in &actions {
        assert_eq!(&p.thing_action(&t, "lamp", "fade", &a.id).await.unwrap(), a);
    }
    assert_eq!(p.thing_event(&t, "lamp", "clicked", &event.id).await.unwrap(), event);
    let r = p.space_retention(&t).await.unwrap();
    assert_eq!((r.history_days, r.events_days), (Some(9), Some(3)));
    // A cursor handed out before the move still pages on.
    let rest = p
        .list_thing_actions(&t, "lamp", None, &page(2, first_page.next_cursor.as_deref()))
        .await
        .unwrap();
    assert_eq!(rest.items, vec![actions[0].clone()]);
    // New records get ids past the copied ones: they list first.
    let newer = p.create_thing_action(&t, "lamp", "fade", None).await.unwrap();
    assert!(newer.seq > actions[2].seq);
    let newest = p.list_thing_actions(&t, "lamp", None, &page(1, None)).await.unwrap();
    assert_eq!(newest.items, vec![newer]);
    let e2 = p.create_thing_event(&t, "lamp", "clicked", None).await.unwrap();
    assert!(e2.seq > event.seq);
}

async fn deleting_a_thing_by_any_face_deletes_its_actions_and_events(b: Backend) {
    let (_env, store, acme) = acme(b).await;
    let p = platform(&store);
    let d = PageRequest::default();
    for uid in ["lamp", "fan", "kept"] {
        p.create_thing(&acme, &json!({"uid": uid, "title": uid}), None)
            .await
            .unwrap();
        p.create_thing_action(&acme, uid, "fade", None).await.unwrap();
        p.create_thing_event(&acme, uid, "clicked", None).await.unwrap();
    }
    // Through the things API, and as an `/api/things` document.
    p.delete_thing(&acme, "lamp").await.unwrap();
    store
        .delete_document(&acme, thingstead_core::documents::Collection::Things, "fan")
        .await
        .unwrap();
    for gone in ["lamp", "fan"] {
        assert!(
            p.list_thing_actions(&acme, gone, None, &d)
                .await
                .unwrap()
                .items
                .is_empty(),
            "{gone}"
        );
        assert!(
            p.list_thing_events(&acme, gone, None, &d)
                .await
                .unwrap()
                .items
                .is_empty(),
            "{gone}"
        );
    }
    assert_eq!(
        p.list_thing_actions(&acme, "kept", None, &d).await.unwrap().items.len(),
        1
    );
    assert_eq!(
        p.list_thing_events(&acme, "kept", None, &d).await.unwrap().items.len(),
        1
    );
}
