//! Actions and events of a thing through the things SDK against the real
//! server: request an action (pending), list, read, update its status and
//! output, delete; record, list, read and delete events; both under the
//! thing and under its category; ids parsed from `href`; 404s and 400s as
//! `ThingsError::Api` with their raw bodies.

use serde_json::json;
use thingstead::things::{NewCategory, Query, ThingsError};
use thingstead_server::testing::TestServer;

use super::things_support::{api_as, space};

fn lamp(uid: &str) -> serde_json::Value {
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

#[tokio::test]
async fn actions_are_requested_listed_read_updated_and_deleted() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["thing", "category"]).await;
    let space = api.space("acme");
    space
        .categories()
        .create(&NewCategory {
            name: "lamps".into(),
            ..Default::default()
        })
        .await
        .expect("category");
    space
        .category("lamps")
        .things()
        .create(&lamp("lamp-1"))
        .await
        .expect("thing");
    let lamp1 = space.thing("lamp-1");

    let fade = lamp1
        .action("fade")
        .create(json!({"level": 30}))
        .await
        .expect("requested");
    assert_eq!(fade.raw().status, 201);
    let fade = fade.into_inner();
    assert_eq!((fade.name.as_str(), fade.status.as_str()), ("fade", "pending"));
    assert_eq!(fade.input, Some(json!({"level": 30})));
    assert!(
        fade.time_requested.is_some() && fade.time_completed.is_none(),
        "{fade:?}"
    );
    assert!(fade.href.ends_with(&format!("/actions/fade/{}", fade.id)), "{fade:?}");
    let via_category = space
        .category("lamps")
        .thing("lamp-1")
        .action("fade")
        .create(json!({"level": 60}))
        .await
        .expect("requested under the category")
        .into_inner();
    let reboot = lamp1
        .action("reboot")
        .create(None)
        .await
        .expect("no input")
        .into_inner();
    assert_eq!(reboot.input, None);

    let all = lamp1.actions().list().collect_all(100).await.expect("all actions");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].id, reboot.id, "newest first");
    let fades: Vec<String> = lamp1
        .action("fade")
        .list_with(Query::new().limit(1))
        .collect_all(100)
        .await
        .expect("fades, one per page")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(fades, [via_category.id.clone(), fade.id.clone()]);

    let one = lamp1.action_instance("fade", &fade.id);
    assert_eq!(one.get().await.expect("read").value.id, fade.id);
    let done = one
        .update("completed", json!({"reached": 30}))
        .await
        .expect("updated")
        .into_inner();
    assert_eq!(done.status, "completed");
    assert_eq!(done.output, Some(json!({"reached": 30})));
    assert!(done.time_completed.is_some(), "{done:?}");
    assert_eq!(one.get().await.expect("read").value.status, "completed");
    let err = lamp1
        .action("fade")
        .create(json!({"level": 300}))
        .await
        .expect_err("above the maximum");
    assert!(matches!(err, ThingsError::Api { status: 400, .. }), "{err:?}");
    let deleted = one.delete().await.expect("deleted");
    assert_eq!(deleted.raw().status, 204);
    let err = one.get().await.expect_err("gone");
    let ThingsError::Api { status: 404, raw, .. } = &err else {
        panic!("expected 404: {err:?}");
    };
    assert!(
        raw.json().is_some_and(|b| b["error"]["status"] == 404),
        "{}",
        raw.text()
    );
    let err = space
        .thing("nope")
        .actions()
        .list()
        .first()
        .await
        .expect_err("unknown thing");
    assert!(matches!(err, ThingsError::Api { status: 404, .. }), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn events_are_recorded_listed_read_and_deleted() {
    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["thing"]).await;
    let space = api.space("acme");
    space.things().create(&lamp("lamp-1")).await.expect("thing");
    let lamp1 = space.thing("lamp-1");

    let hot = lamp1.event("overheated").create(json!(97.5)).await.expect("recorded");
    assert_eq!(hot.raw().status, 201);
    let hot = hot.into_inner();
    assert_eq!((hot.name.as_str(), hot.data.clone()), ("overheated", Some(json!(97.5))));
    assert!(hot.timestamp.is_some() && !hot.id.is_empty(), "{hot:?}");
    let ping = lamp1.event("ping").create(None).await.expect("no data").into_inner();
    let err = lamp1
        .event("overheated")
        .create(json!("hot"))
        .await
        .expect_err("wrong type");
    assert!(matches!(err, ThingsError::Api { status: 400, .. }), "{err:?}");

    let all = lamp1.events().list().collect_all(100).await.expect("events");
    assert_eq!(
        all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [ping.id.as_str(), hot.id.as_str()]
    );
    let pings = lamp1.event("ping").list().collect_all(100).await.expect("pings");
    assert_eq!(pings.len(), 1);
    let one = lamp1.event_instance("overheated", &hot.id);
    assert_eq!(one.get().await.expect("read").value.data, Some(json!(97.5)));
    assert_eq!(one.delete().await.expect("deleted").raw().status, 204);
    let err = one.get().await.expect_err("gone");
    assert!(matches!(err, ThingsError::Api { status: 404, .. }), "{err:?}");
    server.stop().await;
}
