//! Hostile device clients: credential guessing, idle connections, internal
//! failures. Real sockets against the real server; 127.0.0.2 stands for
//! another source address.

use std::net::SocketAddr;
use std::time::Duration;

use thingstead_proto::device::{DeviceFrame, TotpFrame, TotpPayload};
use thingstead_server::testing::TestServer;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::common::{connect_from, message_frame, metric, read_to_close, send_frame};

/// Sends one frame from `from` and reads the reply until the server closes.
async fn send_frame_from(from: &str, server: SocketAddr, frame: &[u8]) -> Vec<u8> {
    let mut s = connect_from(from, server).await;
    s.write_all(frame).await.expect("write");
    read_to_close(&mut s).await
}

fn totp_frame(uuid: &str, otp: &str) -> Vec<u8> {
    DeviceFrame::Totp(TotpFrame {
        uuid: uuid.into(),
        otp: otp.into(),
        payload: TotpPayload::Message {
            metadata: None,
            topics: vec![],
            data: "totp".into(),
            idempotency_key: None,
        },
    })
    .encode()
}

/// A wrong key for the same alphabet and length as real ones.
fn wrong_key(i: usize) -> String {
    format!("zz{i:06}")
}

#[tokio::test]
async fn guessing_device_keys_from_one_address_is_throttled_but_other_addresses_are_served() {
    let server = TestServer::start().await; // 2 failures/s, burst 10
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let throttled = "thingstead_device_auth_refused_total{reason=\"address_throttled\"}";
    let failures = "thingstead_auth_failures_total{face=\"device\",method=\"devicekey\"}";
    let (throttled_before, failures_before) = (metric(&server, throttled).await, metric(&server, failures).await);

    for i in 0..50 {
        let reply = send_frame(server.device_tcp, &message_frame(&wrong_key(i), &[], "guess")).await;
        assert_eq!(reply, b"[3,0]");
    }
    let refused_unchecked = metric(&server, throttled).await - throttled_before;
    assert!(
        refused_unchecked >= 35.0,
        "after a burst of 10 failures most guesses are refused unchecked, got {refused_unchecked}"
    );
    assert!(
        metric(&server, failures).await - failures_before >= 10.0,
        "failures are counted"
    );

    // The guessing address gets no answer about keys any more, not even a right one.
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "from the guesser")).await,
        b"[3,0]"
    );
    // A device on another address is served at once.
    let reply = tokio::time::timeout(
        Duration::from_secs(1),
        send_frame_from(
            "127.0.0.2",
            server.device_tcp,
            &message_frame(&d.devicekey, &[], "elsewhere"),
        ),
    )
    .await
    .expect("answered within 1 s");
    assert_eq!(reply, b"[0,0]");
    let stored = server.messages("acme").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].payload, b"elsewhere");
    server.stop().await;
}

#[tokio::test]
async fn an_address_is_served_again_once_its_guessing_stops() {
    let server = TestServer::start_with(|s| {
        s.device.auth_failures_per_sec = 5.0;
        s.device.auth_failure_burst = 2;
    })
    .await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    for i in 0..5 {
        send_frame(server.device_tcp, &message_frame(&wrong_key(i), &[], "guess")).await;
    }
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "too soon")).await,
        b"[3,0]"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        send_frame(server.device_tcp, &message_frame(&d.devicekey, &[], "later")).await,
        b"[0,0]",
        "tokens come back at the configured rate"
    );
    server.stop().await;
}

#[tokio::test]
async fn ten_bad_totp_codes_lock_the_device_out_until_its_backoff_ends() {
    let server = TestServer::start_with(|s| {
        // Isolate the per-device lock-out from the per-address throttle.
        s.device.auth_failure_burst = 1000;
    })
    .await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let seed = server.provision_totp(&d.uuid).await;
    let bytes = totp_rs::Secret::Encoded(seed).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "x".into()).unwrap();
    let locked = "thingstead_device_auth_refused_total{reason=\"totp_locked_out\"}";
    let failures = "thingstead_auth_failures_total{face=\"device\",method=\"totp\"}";
    let (locked_before, failures_before) = (metric(&server, locked).await, metric(&server, failures).await);

    // Codes that are valid at no step near now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let valid: Vec<String> = [now - 30, now, now + 30].iter().map(|t| totp.generate(*t)).collect();
    let wrong: Vec<String> = (0..100_000u32)
        .map(|n| format!("{:06}", n * 7 % 1_000_000))
        .filter(|c| !valid.contains(c))
        .take(10)
        .collect();
    for code in &wrong {
        assert_eq!(
            send_frame(server.device_tcp, &totp_frame(&d.uuid, code)).await,
            b"[3,0]"
        );
    }
    let good = totp.generate_current().unwrap();
    assert_eq!(
        send_frame(server.device_tcp, &totp_frame(&d.uuid, &good)).await,
        b"[3,0]",
        "a locked-out device is refused even with the right code"
    );
    assert!(server.messages("acme").await.is_empty());
    assert!(
        metric(&server, failures).await - failures_before >= 10.0,
        "failures are counted"
    );
    assert!(
        metric(&server, locked).await - locked_before >= 1.0,
        "refusals are counted"
    );

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let good = totp.generate_current().unwrap();
    assert_eq!(
        send_frame(server.device_tcp, &totp_frame(&d.uuid, &good)).await,
        b"[0,0]",
        "the first lock-out lasts 1 s; the right code is then accepted"
    );
    assert_eq!(server.messages("acme").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_from_one_address_do_not_delay_devices_on_another() {
    let server = TestServer::start_with(|s| {
        s.device.max_connections = 32;
        s.device.max_connections_per_ip = 8;
        s.device.idle_timeout_ms = 30_000;
        s.device.first_byte_timeout_ms = 30_000;
    })
    .await;
    server.create_org("acme").await;
    let d = server.create_device("acme").await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(server.device_tcp).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = tokio::time::timeout(
        Duration::from_secs(1),
        send_frame_from(
            "127.0.0.2",
            server.device_tcp,
            &message_frame(&d.devicekey, &[], "real"),
        ),
    )
    .await
    .expect("a real device is answered within 1 s");
    assert_eq!(reply, b"[0,0]");
    assert!(
        metric(
            &server,
            "thingstead_connections_refused_total{listener=\"device_tcp\",reason=\"per_address_cap\"}"
        )
        .await
            >= 1.0,
        "connections over the per-address cap are counted"
    );
    drop(idle);
    server.stop().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_first_byte_deadline() {
    let server = TestServer::start_with(|s| {
        s.device.idle_timeout_ms = 30_000;
        s.device.first_byte_timeout_ms = 200;
    })
    .await;
    let mut silent = TcpStream::connect(server.device_tcp).await.expect("connect");
    let started = tokio::time::Instant::now();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::io::AsyncReadExt::read_to_end(&mut silent, &mut buf),
    )
    .await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "closed without a reply, long before the idle timeout"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "not before the deadline"
    );
    server.stop().await;
}
