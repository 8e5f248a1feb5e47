//! Per-organization message retention, enforced in the background.

use std::time::Duration;

use thingstead_server::testing::TestServer;

use super::common::{eventually, message_frame, send_frame};

#[tokio::test]
async fn old_messages_go_only_where_retention_is_set() {
    let server = TestServer::start_with(|s| s.retention.interval_secs = 1).await;
    server.create_org("short").await;
    server.create_org("forever").await;
    let s = server.create_device("short").await;
    let f = server.create_device("forever").await;
    let t = server.platform().tenant("short").await.unwrap();
    server.platform().set_message_retention(&t, Some(1)).await.unwrap();
    send_frame(server.device_tcp, &message_frame(&s.devicekey, &[], "fleeting")).await;
    send_frame(server.device_tcp, &message_frame(&f.devicekey, &[], "kept")).await;
    assert_eq!(server.messages("short").await.len(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let gone = eventually(5, || async { server.messages("short").await.is_empty() }).await;
    assert!(gone, "messages older than the retention are deleted");
    assert_eq!(server.messages("forever").await.len(), 1);
    server.stop().await;
}
