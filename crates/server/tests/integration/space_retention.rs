//! Per-space retention of thing events, enforced by the server's
//! background retention task.

use thingstead_core::paging::PageRequest;
use thingstead_core::things_activity::{NewThingEvent, SpaceRetentionChange};
use thingstead_server::testing::TestServer;

use super::common::eventually;

#[tokio::test]
async fn the_retention_task_prunes_old_events_and_keeps_new_ones() {
    let server = TestServer::start_with(|s| s.retention.interval_secs = 1).await;
    server.create_org("short").await;
    server.create_org("forever").await;
    let p = server.platform();
    let short = p.tenant("short").await.unwrap();
    let forever = p.tenant("forever").await.unwrap();
    let three_days_ago = thingstead_core::now_ms() - 3 * 86_400_000;
    let old = |org| {
        let e = NewThingEvent::new("lamp", "clicked", None).unwrap().at(three_days_ago);
        p.record_thing_event(org, e)
    };
    let old_short = old(&short).await.unwrap();
    old(&forever).await.unwrap();
    let new = p.create_thing_event(&short, "lamp", "clicked", None).await.unwrap();
    let ids = |org| async move {
        p.list_thing_events(org, "lamp", None, &PageRequest::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&short).await, vec![new.id.clone(), old_short.id]);

    let change = SpaceRetentionChange {
        events_days: Some(Some(1)),
        ..Default::default()
    };
    p.set_space_retention(&short, change).await.unwrap();
    let pruned = eventually(5, || async { ids(&short).await.len() == 1 }).await;
    assert!(pruned, "events older than the space's retention are deleted");
    assert_eq!(ids(&short).await, vec![new.id], "newer events stay");
    assert_eq!(ids(&forever).await.len(), 1, "a space without a limit keeps everything");
    server.stop().await;
}
