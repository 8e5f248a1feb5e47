//! `thingstead::app` logins, refresh, stop and errors against the real
//! server (WIRE.md B.2).

use serde_json::Value;
use thingstead::app::{App, Error, Options};
use thingstead_server::testing::TestServer;

use super::app_support::{PASSWORD, alice, options, org};

#[tokio::test]
async fn users_devices_consumer_apps_and_pairing_devices_log_in() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;

    let user = alice(&server, "acme").await;
    let auth = user.get_auth().await.unwrap();
    assert_eq!(
        (auth.identity.kind.as_str(), auth.identity.organization.as_str()),
        ("user", "acme")
    );
    assert!(auth.expiration > thingstead_now_ms(), "absolute ms");
    assert!(auth.restricted_token.is_some());
    assert!(
        user.get_current_device().await.unwrap().is_none(),
        "users have no current device"
    );

    let device = App::start(options(&server).device(&acme.device_uuid, &acme.device_secret))
        .await
        .unwrap();
    let auth = device.get_auth().await.unwrap();
    assert_eq!(auth.identity.kind, "device");
    assert_eq!(auth.identity.uuid, acme.device_uuid);

    let consumer = App::start(options(&server).consumer_app(&acme.app_uuid, &acme.api_key))
        .await
        .unwrap();
    assert_eq!(consumer.get_auth().await.unwrap().identity.kind, "consumerApp");

    let pairing = App::start(options(&server).allow_pairing(true)).await.unwrap();
    assert_eq!(pairing.get_auth().await.unwrap().identity.kind, "pairing");
    // A device with a wrong secret but allow_pairing falls back to pairing.
    let fallback = App::start(
        options(&server)
            .device(&acme.device_uuid, "not the secret")
            .allow_pairing(true),
    )
    .await
    .unwrap();
    assert_eq!(fallback.get_auth().await.unwrap().identity.kind, "pairing");
    server.stop().await;
}

fn thingstead_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn bad_credentials_are_authentication_errors_and_bad_options_runtime_errors() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;
    for wrong in [
        options(&server).user("alice", "wrong", "acme"),
        options(&server).user("alice", PASSWORD, "nope"),
        options(&server).device(&acme.device_uuid, "wrong"),
        options(&server).consumer_app(&acme.app_uuid, "wrong"),
    ] {
        let err = App::start(wrong).await.unwrap_err();
        assert!(matches!(err, Error::Authentication(_)), "{err:?}");
    }
    for inconsistent in [
        options(&server),
        options(&server).username("alice").password(PASSWORD),
        options(&server).user("alice", PASSWORD, "acme").uuid("x"),
        options(&server).uuid("x"),
        options(&server).uuid("x").secret("s").api_key("k"),
        options(&server).consumer_app("x", "k").allow_pairing(true),
        Options::new("ftp://nowhere").user("a", "b", "c"),
    ] {
        let err = App::start(inconsistent.clone()).await.unwrap_err();
        assert!(matches!(err, Error::Runtime(_)), "{inconsistent:?}: {err:?}");
    }
    // Nobody listening: a network error, not a panic or a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let err = App::start(Options::new(format!("http://{addr}")).user("a", "b", "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn refresh_gives_a_new_token_that_works_and_api_errors_carry_code_and_status() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let app = alice(&server, "acme").await;
    let first = app.get_auth().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = app.refresh_auth().await.unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(first.identity, second.identity);
    assert_eq!(
        app.get_auth().await.unwrap().token,
        second.token,
        "the new token is the current one"
    );

    let err = app.get("/api/no/such/route", &[]).await.unwrap_err();
    match err {
        Error::Api {
            status, code, payload, ..
        } => {
            assert_eq!((status, code.as_str()), (404, "route_not_found"));
            assert_eq!(payload["status"], Value::from(404));
        }
        other => panic!("{other:?}"),
    }
    assert!(!app.is_stopped(), "an API error does not stop the instance");
    server.stop().await;
}

#[tokio::test]
async fn a_revoked_device_gets_an_authentication_error_and_its_instance_stops() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;
    let device = App::start(options(&server).device(&acme.device_uuid, &acme.device_secret))
        .await
        .unwrap();
    let t = server.platform().tenant("acme").await.unwrap();
    server.platform().delete_device(&t, &acme.device_uuid).await.unwrap();

    // Refresh is refused (401), so the SDK logs in again, which is refused too.
    let err = device.refresh_auth().await.unwrap_err();
    assert!(matches!(err, Error::Authentication(_)), "{err:?}");
    assert!(device.is_stopped());
    let err = device.get_auth().await.unwrap_err();
    assert!(matches!(&err, Error::Runtime(m) if m.contains("stopped")), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_stopped_instance_fails_every_later_call_clearly_and_others_go_on() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let one = alice(&server, "acme").await;
    let two = alice(&server, "acme").await;
    one.stop();
    assert!(one.is_stopped() && !two.is_stopped());
    for err in [
        one.get_auth().await.unwrap_err(),
        one.devices().find(&[]).await.unwrap_err(),
        one.get_channel("x", false, false).unwrap_err(),
    ] {
        assert!(matches!(&err, Error::Runtime(m) if m.contains("stopped")), "{err:?}");
    }
    // (`stop_all` is process-wide, so it is tested in the library's unit
    // tests, not beside other tests' instances.)
    assert!(two.get_auth().await.is_ok());
    drop(two.clone());
    assert!(!two.is_stopped(), "dropping one handle of several does not stop it");
    server.stop().await;
}

#[test]
fn the_blocking_facade_logs_in_and_refuses_to_run_inside_a_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = TestServer::start().await;
        org(&server, "acme").await;
        server
    });
    let app = thingstead::app::blocking::App::start(options(&server).user("alice", PASSWORD, "acme")).unwrap();
    assert_eq!(app.get_auth().unwrap().identity.organization, "acme");
    let err = app.get("/api/no/such/route", &[]).unwrap_err();
    assert_eq!(err.status(), Some(404));
    rt.block_on(async {
        let err = app.get_auth().unwrap_err();
        assert!(matches!(err, Error::Runtime(_)), "{err:?}");
    });
    app.stop();
    drop(app);
    rt.block_on(server.stop());
}

/// The background refresh (after ~75 % of the token's life) is what turns
/// a waiting pairing device into the paired device: pairing sessions last
/// 60 s, so without it the device would never learn it was paired.
#[tokio::test]
async fn a_pairing_device_becomes_the_paired_device_by_its_automatic_refresh() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;
    let waiting = App::start(options(&server).allow_pairing(true)).await.unwrap();
    let pairing = waiting.get_auth().await.unwrap();
    assert_eq!(pairing.identity.kind, "pairing");

    let user = alice(&server, "acme").await;
    let body = serde_json::json!({ "pairingId": pairing.identity.uuid });
    user.post(&format!("/api/devices/{}/pair", acme.device_uuid), Some(&body), &[])
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(70);
    loop {
        let auth = waiting.get_auth().await.unwrap();
        if auth.identity.kind == "device" {
            assert_eq!(auth.identity.uuid, acme.device_uuid);
            assert_ne!(auth.token, pairing.token);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never refreshed into the device"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let me = waiting.get_current_device().await;
    // Device documents arrive with the resources routes; until then only
    // the identity is checked.
    if let Ok(Some(me)) = me {
        assert_eq!(me.uuid(), acme.device_uuid);
    }
    server.stop().await;
}
