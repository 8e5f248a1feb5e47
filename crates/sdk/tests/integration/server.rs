//! The SDK against the real server (`thingstead_server::testing::TestServer`).

use std::sync::Arc;
use std::time::Duration;

use thingstead::device::{
    Authentication, Credentials, DeviceClient, DeviceError, FullPolicy, Mode, Network, OfflineBuffer, ResultCode,
    SendOutcome, StaticNetwork,
};
use thingstead_server::testing::TestServer;

fn credentials(server: &TestServer, devicekey: &str) -> Credentials {
    Credentials::from_devicekey(devicekey)
        .unwrap()
        .with_host(server.device_tcp.ip().to_string())
        .with_port(server.device_tcp.port())
}

#[tokio::test]
async fn csrpsk_messages_with_topics_and_unicode_are_stored() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let client = DeviceClient::new(credentials(&server, &device.devicekey)).unwrap();

    let one = client.send_message("plain", &[]).await.unwrap();
    assert_eq!((one.code(), one.description()), (0, "Message sent successfully"));
    let many = client
        .send_messages(&["héllo wörld ☃ \u{1F600}", "second"], &["a", "b/c", "température"])
        .await;
    assert!(
        many.iter().all(|r| r.as_ref().is_ok_and(SendOutcome::is_success)),
        "{many:?}"
    );

    let stored = server.messages("acme").await;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|m| m.device_uuid == device.uuid));
    assert_eq!(stored[0].payload, b"plain");
    assert!(stored[0].topics.is_empty());
    assert_eq!(stored[1].payload, "héllo wörld ☃ \u{1F600}".as_bytes());
    assert_eq!(stored[1].topics, ["a", "b/c", "température"]);
    assert_eq!(stored[2].payload, b"second");
    assert!(
        stored[1]
            .sdk
            .as_deref()
            .is_some_and(|s| s.contains(thingstead::device::SDK_VERSION)),
        "{:?}",
        stored[1].sdk
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_key_is_answered_3() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let client = DeviceClient::new(credentials(&server, "zzzz9999")).unwrap();
    let outcome = client.send_message("x", &["t"]).await.unwrap();
    assert_eq!(outcome.result_code(), Some(ResultCode::AuthInvalid));
    assert!(!outcome.is_success());
    assert!(server.messages("acme").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn sms_is_queued_and_bad_destinations_never_leave_the_device() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let client = DeviceClient::new(credentials(&server, &device.devicekey)).unwrap();

    let outcome = client.send_sms("+15555550123", "hello there").await.unwrap();
    assert_eq!(outcome.code(), 0, "{}", outcome.description());
    for bad in ["15555550123", "+12ab"] {
        assert!(matches!(
            client.send_sms(bad, "x").await,
            Err(DeviceError::InvalidDestination { .. })
        ));
    }
    assert!(matches!(
        client.send_sms("+15555550123", &"x".repeat(161)).await,
        Err(DeviceError::SmsTooLong { .. })
    ));
    let outbox = server.sms("acme").await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (outbox[0].destination.as_str(), outbox[0].text.as_str()),
        ("+15555550123", "hello there")
    );
    server.stop().await;
}

#[tokio::test]
async fn totp_authenticated_messages_and_sms_are_accepted_without_reusing_a_code() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let secret = server.provision_totp(&device.uuid).await;
    let credentials = Credentials::totp(&device.uuid, secret)
        .with_host(server.device_tcp.ip().to_string())
        .with_port(server.device_tcp.port());
    let client = DeviceClient::builder(credentials)
        .authentication(Authentication::Totp)
        .build()
        .await
        .unwrap();

    // Two frames in a row: the second waits for the next 30 s step instead of
    // reusing a code the server would refuse.
    let first = client.send_message("by totp", &["t1", "t2"]).await.unwrap();
    assert!(first.is_success(), "{}", first.description());
    let sms = client.send_sms("+15555550123", "totp sms").await.unwrap();
    assert!(sms.is_success(), "{}", sms.description());

    let stored = server.messages("acme").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].device_uuid.as_str(), stored[0].payload.as_slice()),
        (device.uuid.as_str(), &b"by totp"[..])
    );
    assert_eq!(stored[0].topics, ["t1", "t2"]);
    assert_eq!(server.sms("acme").await.len(), 1);

    // A wrong seed is refused with 3.
    let wrong = Credentials::totp(&device.uuid, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        .with_host(server.device_tcp.ip().to_string())
        .with_port(server.device_tcp.port());
    let wrong = DeviceClient::builder(wrong)
        .authentication(Authentication::Totp)
        .build()
        .await
        .unwrap();
    assert_eq!(
        wrong.send_message("x", &[]).await.unwrap().result_code(),
        Some(ResultCode::AuthInvalid)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_offline_buffer_flushes_to_the_server_in_order_and_empties() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let dir = tempfile::tempdir().unwrap();
    // An outage: the link cannot come up, so sends buffer.
    let network = Arc::new(StaticNetwork::new(false).refusing_connect());
    let client = DeviceClient::builder(credentials(&server, &device.devicekey))
        .network(network.clone())
        .offline_buffer(OfflineBuffer::open(dir.path(), 10, FullPolicy::DropOldest).unwrap())
        .build()
        .await
        .unwrap();
    for i in 0..3 {
        assert_eq!(
            client
                .send_message(&format!("offline {i}"), &["buffered"])
                .await
                .unwrap(),
            SendOutcome::Buffered
        );
    }
    assert!(server.messages("acme").await.is_empty());

    network.set_refusing_connect(false);
    network.connect().await.unwrap();
    let mut stored = Vec::new();
    for _ in 0..200 {
        stored = server.messages("acme").await;
        if stored.len() >= 3 && client.buffered_count().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let payloads: Vec<_> = stored
        .iter()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect();
    assert_eq!(payloads, ["offline 0", "offline 1", "offline 2"]);
    assert!(stored.iter().all(|m| m.topics == ["buffered"]));
    assert_eq!(client.buffered_count().await.unwrap(), 0);
    assert!(
        stored.iter().all(|m| m.idempotency_key.is_some()),
        "buffered messages carry idempotency keys"
    );
    let left = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".msg"))
        .count();
    assert_eq!(left, 0, "entries deleted after the success reply");

    // Online: straight to the server, after what was buffered.
    assert!(client.send_message("online", &[]).await.unwrap().is_success());
    assert_eq!(server.messages("acme").await.len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn raw_mode_against_the_server_returns_its_raw_reply() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let client = DeviceClient::builder(
        Credentials::default()
            .with_host(server.device_tcp.ip().to_string())
            .with_port(server.device_tcp.port()),
    )
    .mode(Mode::Raw)
    .build()
    .await
    .unwrap();
    let frame = format!("{{\"k\": \"{}\", \"d\": \"raw hello\"}}\r\r", device.devicekey);
    let outcome = client.send_message(&frame, &[]).await.unwrap();
    assert_eq!(outcome.reply(), Some(&b"[0,0]"[..]));
    assert_eq!(outcome.result_code(), Some(ResultCode::Sent));
    assert_eq!(client.send_raw(b"not a frame\r\r").await.unwrap(), b"[2,0]");
    let sms = format!("S{}+15555550123 raw sms\r\r", device.devicekey);
    assert_eq!(client.send_raw(sms.as_bytes()).await.unwrap(), b"0");
    assert_eq!(server.messages("acme").await[0].payload, b"raw hello");
    server.stop().await;
}
