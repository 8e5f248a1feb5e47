//! The device TCP protocol: replies, storage, limits, hostile clients.

use std::time::Duration;

use thingstead_server::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::common::{message_frame, read_to_close, send_frame};

#[tokio::test]
async fn a_message_is_acknowledged_only_once_stored() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let reply = send_frame(
        server.device_tcp,
        &message_frame(&d.devicekey, &["a", "b"], "hello ünï 😀"),
    )
    .await;
    assert_eq!(reply, b"[0,0]");
    let stored = server.messages("acme").await;
    assert_eq!(stored.len(), 1);
    let m = &stored[0];
    assert_eq!(m.device_uuid, d.uuid);
    assert_eq!(m.topics, ["a", "b"]);
    assert_eq!(m.payload, "hello ünï 😀".as_bytes());
    assert_eq!(m.sdk.as_deref(), Some("0.9.1"));
    assert_eq!(m.modem.as_deref(), Some("agnostic"));
    assert!(m.peer.starts_with("127.0.0.1:"));
    let t = server.platform().tenant("acme").await.unwrap();
    let dev = server.platform().device(&t, &d.uuid).await.unwrap();
    assert_eq!(dev.last_seen_addr.as_deref(), Some("127.0.0.1"));
    server.stop().await;
}

#[tokio::test]
async fn stored_messages_are_published_on_the_bus_after_commit() {
    use thingstead_core::bus::BusEvent;
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let acme = thingstead_core::OrgName::parse("acme").unwrap();
    let mut events = server
        .platform()
        .events()
        .subscribe(thingstead_core::bus::Filter::tenant(&acme, "message.>").unwrap());
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &["live"], "now")).await,
        b"[0,0]"
    );
    let event = tokio::time::timeout(Duration::from_secs(2), events.recv())
        .await
        .unwrap()
        .unwrap();
    let subject = event.subject();
    let BusEvent::MessageStored(m) = event else {
        panic!("expected a stored message, got {event:?}")
    };
    assert_eq!(
        (m.org.as_str(), m.device_uuid.as_str(), m.payload.as_slice()),
        ("acme", d.uuid.as_str(), &b"now"[..])
    );
    assert_eq!(server.messages("acme").await[0].id, m.id, "published only once stored");
    assert_eq!(subject, format!("thingstead.acme.message.{}", d.uuid));
    server.stop().await;
}

#[tokio::test]
async fn a_resent_message_with_the_same_idempotency_key_is_acknowledged_but_stored_once() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let mut events = server
        .platform()
        .events()
        .subscribe(thingstead_core::bus::Filter::any_tenant("message.>").unwrap());
    let frame = format!("{{\"k\": \"{}\", \"d\": \"once\", \"i\": \"buf-1\"}}\r\r", d.devicekey);
    assert_eq!(send_frame(server.device_tcp, frame.as_bytes()).await, b"[0,0]");
    assert_eq!(
        send_frame(server.device_tcp, frame.as_bytes()).await,
        b"[0,0]",
        "a resend is a success"
    );
    let other = format!("{{\"k\": \"{}\", \"d\": \"twice\", \"i\": \"buf-2\"}}\r\r", d.devicekey);
    assert_eq!(send_frame(server.device_tcp, other.as_bytes()).await, b"[0,0]");
    let stored = server.messages("acme").await;
    let payloads: Vec<_> = stored.iter().map(|m| m.payload.clone()).collect();
    assert_eq!(payloads, [b"once".to_vec(), b"twice".to_vec()]);
    assert_eq!(stored[0].idempotency_key.as_deref(), Some("buf-1"));
    // One bus event per stored message, none for the resend.
    let mut published = 0;
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
        published += 1;
    }
    assert_eq!(published, 2);
    server.stop().await;
}

#[tokio::test]
async fn errors_get_the_documented_codes_and_store_nothing() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let k = &d.devicekey;
    let cases: Vec<(Vec<u8>, &[u8])> = vec![
        (message_frame("zzzzzzzz", &[], "x"), b"[3,0]"),
        (b"not json at all\r\r".to_vec(), b"[2,0]"),
        (b"{\"k\": \"abc\r\r".to_vec(), b"[2,0]"),
        (b"{\"d\": \"no key\"}\r\r".to_vec(), b"[3,0]"),
        (
            format!("{{\"k\": \"{k}\", \"t\": [\"\"], \"d\": \"x\"}}\r\r").into_bytes(),
            b"[8,0]",
        ),
        (
            format!("{{\"k\": \"{k}\", \"t\": [7], \"d\": \"x\"}}\r\r").into_bytes(),
            b"[8,0]",
        ),
        (
            format!("{{\"k\": \"{k}\", \"m\": 12, \"d\": \"x\"}}\r\r").into_bytes(),
            b"[7,0]",
        ),
        (format!("{{\"k\": \"{k}\", \"d\": 12}}\r\r").into_bytes(), b"[4,0]"),
        (format!("S{k}+12ab hello\r\r").into_bytes(), b"2"),
        (b"Szzzzzzzz+15555550123 hello\r\r".to_vec(), b"3"),
    ];
    for (frame, want) in cases {
        let got = send_frame(server.device_tcp, &frame).await;
        assert_eq!(got, want, "frame {:?}", String::from_utf8_lossy(&frame));
    }
    assert!(server.messages("acme").await.is_empty());
    assert!(server.sms("acme").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn sms_frames_are_queued_and_answered_with_bare_digits() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let reply = send_frame(
        server.device_tcp,
        format!("S{}+15555550123 hello there\r\r", d.devicekey).as_bytes(),
    )
    .await;
    assert_eq!(reply, b"0");
    let outbox = server.sms("acme").await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].destination, "+15555550123");
    assert_eq!(outbox[0].text, "hello there");
    assert_eq!(outbox[0].device_uuid.as_deref(), Some(d.uuid.as_str()));
    server.stop().await;
}

#[tokio::test]
async fn totp_frames_authenticate_once_per_code() {
    use thingstead_proto::device::{DeviceFrame, TotpFrame, TotpPayload};
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let seed = server.provision_totp(&d.uuid).await;
    let bytes = totp_rs::Secret::Encoded(seed).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "x".into()).unwrap();
    let frame = |otp: String| {
        DeviceFrame::Totp(TotpFrame {
            uuid: d.uuid.clone(),
            otp,
            payload: TotpPayload::Message {
                metadata: None,
                topics: vec![],
                data: "totp hello".into(),
                idempotency_key: None,
            },
        })
        .encode()
    };
    let code = totp.generate_current().unwrap();
    assert_eq!(send_frame(server.device_tcp, &frame(code.clone())).await, b"[0,0]");
    assert_eq!(
        send_frame(server.device_tcp, &frame(code.clone())).await,
        b"[3,0]",
        "a code is accepted once"
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(send_frame(server.device_tcp, &frame(wrong.into())).await, b"[3,0]");
    assert_eq!(server.messages("acme").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn frames_split_over_slow_writes_are_reassembled() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let frame = message_frame(&d.devicekey, &["slow"], "piece by piece");
    let mut s = TcpStream::connect(server.device_tcp).await.unwrap();
    for chunk in frame.chunks(7) {
        s.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(read_to_close(&mut s).await, b"[0,0]");
    assert_eq!(server.messages("acme").await[0].payload, b"piece by piece");
    server.stop().await;
}

#[tokio::test]
async fn oversized_frames_are_refused_and_closed() {
    let server = TestServer::start_with(|s| s.device.max_frame = 1024).await;
    let mut s = TcpStream::connect(server.device_tcp).await.unwrap();
    // The server answers as soon as the limit is passed, without waiting for the rest.
    let _ = s.write_all(&vec![b'x'; 1500]).await;
    assert_eq!(read_to_close(&mut s).await, b"[5,0]");
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_are_closed_and_do_not_block_others() {
    let server = TestServer::start_with(|s| s.device.idle_timeout_ms = 300).await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let mut idle = TcpStream::connect(server.device_tcp).await.unwrap();
    idle.write_all(b"{\"k\": ").await.unwrap();
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "meanwhile")).await,
        b"[0,0]"
    );
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(3), idle.read_to_end(&mut buf)).await;
    assert!(
        matches!(n, Ok(Ok(0)) | Ok(Err(_))),
        "idle connection closed without a reply"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_connection_cap_holds_new_connections_until_a_slot_frees() {
    let server = TestServer::start_with(|s| s.device.max_connections = 2).await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let hold1 = TcpStream::connect(server.device_tcp).await.unwrap();
    let hold2 = TcpStream::connect(server.device_tcp).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = server.device_tcp;
    let frame = message_frame(&d.devicekey, &[], "third");
    let third = tokio::spawn(async move { send_frame(addr, &frame).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection is not served while two are open"
    );
    drop(hold1);
    let reply = tokio::time::timeout(Duration::from_secs(3), third)
        .await
        .expect("served once a slot frees")
        .unwrap();
    assert_eq!(reply, b"[0,0]");
    drop(hold2);
    server.stop().await;
}

#[tokio::test]
async fn hostile_bytes_never_take_the_server_down() {
    let server = TestServer::start_with(|s| s.device.max_frame = 4096).await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..150 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 600) as usize;
        let mut bytes: Vec<u8> = (0..len)
            .map(|j| (seed.rotate_left(j as u32 % 64) & 0xff) as u8)
            .collect();
        if i % 2 == 0 {
            bytes.extend_from_slice(b"\r\r");
        }
        let mut s = TcpStream::connect(server.device_tcp).await.unwrap();
        let _ = s.write_all(&bytes).await;
        let _ = s.shutdown().await;
        let reply = read_to_close(&mut s).await;
        assert!(
            reply.is_empty() || reply.starts_with(b"[") || reply.iter().all(u8::is_ascii_digit),
            "{reply:?}"
        );
    }
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "still alive")).await,
        b"[0,0]"
    );
    server.stop().await;
}
