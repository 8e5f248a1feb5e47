//! Raw mode against a plain TCP server, and the exact bytes of cloud frames.

use thingstead::device::{Authentication, Credentials, DeviceClient, DeviceError, Mode, SDK_VERSION};
use thingstead_proto::device::ResultCode;

use super::peer::RawPeer;

#[tokio::test]
async fn raw_mode_sends_bytes_unchanged_and_returns_the_raw_reply() {
    let peer = RawPeer::start(b"whatever you say").await;
    let client = DeviceClient::builder(Credentials::default().with_port(peer.port))
        .mode(Mode::Raw)
        .build()
        .await
        .unwrap();
    let outcome = client.send_message("PING héllo\r\r", &["not-sent"]).await.unwrap();
    assert_eq!(outcome.reply(), Some(&b"whatever you say"[..]));
    assert_eq!(outcome.result_code(), Some(ResultCode::Unknown));
    assert_eq!(client.send_raw(b"\x00\x01bytes").await.unwrap(), b"whatever you say");
    assert_eq!(
        peer.received(),
        vec!["PING héllo\r\r".as_bytes().to_vec(), b"\x00\x01bytes".to_vec()]
    );
    assert!(matches!(
        client.send_sms("+15555550123", "x").await,
        Err(DeviceError::Unsupported(_))
    ));
}

#[tokio::test]
async fn csrpsk_frames_are_byte_identical_to_hologram_python() {
    let peer = RawPeer::start(b"[3,0]").await;
    let client = DeviceClient::new(Credentials::new("abcd", "1234").with_port(peer.port)).unwrap();
    let outcome = client.send_message("h\u{e9}llo", &["a", "b"]).await.unwrap();
    assert_eq!(outcome.result_code(), Some(ResultCode::AuthInvalid));
    assert_eq!(outcome.description(), "Auth section of the message was invalid");
    let expected = format!(
        "{{\"k\": \"abcd1234\", \"m\": \"\\u0001agnostic-{SDK_VERSION}\", \"t\": [\"a\", \"b\"], \"d\": \"h\\u00e9llo\"}}\r\r"
    );
    assert_eq!(String::from_utf8(peer.received()[0].clone()).unwrap(), expected);
    // Topics are not sticky: the next message without topics carries none.
    client.send_message("x", &[]).await.unwrap();
    let second = String::from_utf8(peer.received()[1].clone()).unwrap();
    assert!(!second.contains("\"t\""), "{second}");
}

#[tokio::test]
async fn sms_frame_and_digit_reply() {
    let peer = RawPeer::start(b"0").await;
    let client = DeviceClient::new(Credentials::new("abcd", "1234").with_port(peer.port)).unwrap();
    let outcome = client.send_sms("+15555550123", "hello there").await.unwrap();
    assert!(outcome.is_success());
    assert_eq!(peer.received()[0], b"Sabcd1234+15555550123 hello there\r\r");
    // Client-side checks: nothing reaches the server.
    assert!(matches!(
        client.send_sms("15555550123", "x").await,
        Err(DeviceError::InvalidDestination { .. })
    ));
    assert!(matches!(
        client.send_sms("+12ab", "x").await,
        Err(DeviceError::InvalidDestination { .. })
    ));
    assert!(matches!(
        client.send_sms("+15555550123", &"x".repeat(161)).await,
        Err(DeviceError::SmsTooLong { .. })
    ));
    assert_eq!(peer.received().len(), 1);
}

#[tokio::test]
async fn totp_frames_carry_the_uuid_and_a_fresh_code() {
    let peer = RawPeer::start(b"[0,0]").await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let client = DeviceClient::builder(Credentials::totp("dev-uuid-1", secret).with_port(peer.port))
        .authentication(Authentication::Totp)
        .build()
        .await
        .unwrap();
    assert!(client.send_message("t", &["x"]).await.unwrap().is_success());
    let frame: serde_json::Value = serde_json::from_slice(peer.received()[0].strip_suffix(b"\r\r").unwrap()).unwrap();
    assert_eq!(frame["u"], "dev-uuid-1");
    assert_eq!(frame["o"].as_str().unwrap().len(), 6);
    assert_eq!(frame["t"][0], "x");
    assert_eq!(frame["d"], "t");
}

#[tokio::test]
async fn unreachable_server_without_buffer_is_an_error() {
    let client = DeviceClient::new(Credentials::new("abcd", "1234").with_port(super::peer::closed_port())).unwrap();
    let err = client.send_message("x", &[]).await.unwrap_err();
    assert!(matches!(err, DeviceError::Unreachable { .. }), "{err}");
    let missing = DeviceClient::new(Credentials::default().with_port(1)).unwrap();
    assert!(matches!(
        missing.send_message("x", &[]).await,
        Err(DeviceError::MissingDeviceKey)
    ));
}
