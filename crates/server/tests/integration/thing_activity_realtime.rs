//! Actions and events of a thing reach its realtime system channel as
//! `update` broadcasts, after they are stored.

use serde_json::json;
use thingstead_core::things_activity::ThingActionUpdate;
use thingstead_proto::channel::ChannelId;
use thingstead_server::testing::TestServer;

use super::realtime_clients::{Eio4, user_token};

#[tokio::test]
async fn actions_and_events_arrive_on_the_things_system_channel() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let token = user_token(&server, "acme", "alice").await;
    let channel = ChannelId::new("acme", "lamp-1", true, false).encode();
    let mut ws = Eio4::connected(&server, &token).await;
    assert_eq!(ws.subscribe(std::slice::from_ref(&channel)).await, [channel.as_str()]);
    let p = server.platform();
    let t = p.tenant("acme").await.unwrap();

    let a = p
        .create_thing_action(&t, "lamp-1", "fade", Some(json!({"to": 0})))
        .await
        .unwrap();
    let (name, b) = ws.next_event().await;
    assert_eq!(
        (name.as_str(), &b["channel"], &b["name"]),
        ("broadcast", &json!(channel), &json!("update"))
    );
    assert_eq!(b["payload"]["id"], a.id);
    assert_eq!(b["payload"]["kind"], "action");
    assert_eq!(b["payload"]["change"], "created");
    assert_eq!(b["payload"]["status"], "pending");
    assert_eq!(b["payload"]["input"], json!({"to": 0}));

    let u = ThingActionUpdate::new(Some("completed"), Some(json!("done"))).unwrap();
    p.update_thing_action(&t, "lamp-1", "fade", &a.id, u).await.unwrap();
    let (_, b) = ws.next_event().await;
    assert_eq!(
        (&b["payload"]["change"], &b["payload"]["status"]),
        (&json!("updated"), &json!("completed"))
    );
    assert_eq!(b["payload"]["output"], "done");
    assert!(b["payload"]["timeCompleted"].is_string(), "{b}");

    let e = p
        .create_thing_event(&t, "lamp-1", "clicked", Some(json!([1, "ü"])))
        .await
        .unwrap();
    let (_, b) = ws.next_event().await;
    assert_eq!(b["channel"], channel);
    assert_eq!(
        (&b["payload"]["id"], &b["payload"]["kind"], &b["payload"]["data"]),
        (&json!(e.id), &json!("event"), &json!([1, "ü"]))
    );
    server.stop().await;
}
