//! `Wifi` over D-Bus against the NetworkManager double of
//! thingstead-testkit (the hardware boundary), on a private `dbus-daemon`
//! bus started by each test; the end-to-end test's traffic reaches a real
//! Thingstead server through the host's TCP stack.

use std::sync::Arc;
use std::time::{Duration, Instant};

use thingstead::device::{
    Credentials, DeviceClient, Event, FullPolicy, Network, NetworkType, OfflineBuffer, SendOutcome, Wifi, WifiError,
    WifiOptions,
};
use thingstead_server::testing::TestServer;
use thingstead_testkit::network_manager::{AccessPointConfig, NetworkManagerSimulator, STATE_ACTIVATED};

const SSID: &str = "workshop";
const BSSID: &str = "02:00:00:00:00:01";
const PSK: &str = "correct horse";

fn workshop() -> AccessPointConfig {
    AccessPointConfig::new(SSID, BSSID, 70, PSK)
}

async fn nm() -> NetworkManagerSimulator {
    NetworkManagerSimulator::start(vec![
        workshop(),
        AccessPointConfig::new("neighbour", "02:00:00:00:00:99", 90, "other key"),
    ])
    .await
    .expect("dbus-daemon and the NetworkManager double (scripts/test-engines installs dbus-daemon)")
}

fn options(nm: &NetworkManagerSimulator, psk: &str) -> WifiOptions {
    let mut options = WifiOptions::new(SSID).with_psk(psk).with_dbus_address(nm.address());
    options.connect_timeout = Duration::from_secs(3);
    options.scan_timeout = Duration::from_millis(500);
    options.call_timeout = Duration::from_secs(2);
    options.sample_interval = Duration::from_millis(100);
    options
}

async fn next_event(events: &mut tokio::sync::broadcast::Receiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event in time")
        .expect("events open")
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn connecting_with_the_right_key_joins_the_ssid_and_samples_its_signal() {
    let nm = nm().await;
    let wifi = Wifi::open(options(&nm, PSK)).await.unwrap();
    assert_eq!(wifi.network_type(), NetworkType::Wifi);
    assert!(!wifi.is_connected());
    assert_eq!((wifi.ap_address(), wifi.avg_signal_strength()), (None, None));
    let mut events = wifi.events();

    wifi.connect().await.unwrap();
    assert!(wifi.is_connected());
    assert_eq!(next_event(&mut events).await, Event::WifiConnected);
    assert_eq!(next_event(&mut events).await, Event::NetworkConnected);
    assert_eq!(nm.device_state(), STATE_ACTIVATED);
    assert_eq!(wifi.ssid(), SSID);
    assert_eq!(wifi.ap_address().as_deref(), Some(BSSID));
    assert_eq!(wifi.max_signal_strength(), Some(70));
    let calls = nm.calls();
    assert!(calls.iter().any(|c| c == "AddAndActivateConnection"), "{calls:?}");
    assert_eq!(nm.saved_connections(), 1);

    // Samples are taken while connected: average and maximum follow the signal.
    nm.set_strength(SSID, 30);
    until("a sample of 30", || {
        wifi.avg_signal_strength().is_some_and(|a| a < 70.0)
    })
    .await;
    let avg = wifi.avg_signal_strength().unwrap();
    assert!((30.0..70.0).contains(&avg), "{avg}");
    assert_eq!(wifi.max_signal_strength(), Some(70));

    let status = wifi.status().await.unwrap();
    assert_eq!(
        (status.interface.as_str(), status.state.as_str(), status.connected),
        ("wlan0", "activated", true)
    );
    assert_eq!(
        (status.ssid.as_deref(), status.bssid.as_deref(), status.signal),
        (Some(SSID), Some(BSSID), Some(30))
    );
}

#[tokio::test]
async fn a_saved_connection_for_the_ssid_is_reused() {
    let nm = nm().await;
    nm.save_connection(SSID, Some(PSK)).await.unwrap();
    // No key given: the saved connection has it.
    let mut options = options(&nm, "");
    options.psk = None;
    let wifi = Wifi::open(options).await.unwrap();
    wifi.connect().await.unwrap();
    assert!(wifi.is_connected());
    let calls = nm.calls();
    assert!(calls.iter().any(|c| c == "ActivateConnection"), "{calls:?}");
    assert!(!calls.iter().any(|c| c == "AddAndActivateConnection"), "{calls:?}");
    assert_eq!(nm.saved_connections(), 1);
}

#[tokio::test]
async fn a_wrong_key_is_a_wrong_key_error() {
    let nm = nm().await;
    let wifi = Wifi::open(options(&nm, "wrong key")).await.unwrap();
    let mut events = wifi.events();
    let err = wifi.join().await.unwrap_err();
    assert_eq!(err, WifiError::WrongKey { ssid: SSID.into() });
    assert!(!wifi.is_connected());
    assert!(events.try_recv().is_err(), "no event: {:?}", events.try_recv());
    // Through the Network trait the message says the same.
    let err = wifi.connect().await.unwrap_err();
    assert!(err.to_string().contains("wrong key"), "{err}");

    // NetworkManager kept the connection it added; the right key given later replaces its key.
    assert_eq!(nm.saved_connections(), 1);
    let wifi = Wifi::open(options(&nm, PSK)).await.unwrap();
    wifi.join().await.unwrap();
    assert!(wifi.is_connected());
    assert_eq!(nm.saved_connections(), 1);
    assert!(nm.calls().iter().any(|c| c == "Update"), "{:?}", nm.calls());
}

#[tokio::test]
async fn an_ssid_no_scan_finds_is_an_unknown_ssid_error() {
    let nm = nm().await;
    let mut options = options(&nm, PSK);
    options.ssid = "nowhere".into();
    let wifi = Wifi::open(options).await.unwrap();
    let started = Instant::now();
    let err = wifi.join().await.unwrap_err();
    assert_eq!(err, WifiError::UnknownSsid { ssid: "nowhere".into() });
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(nm.calls().iter().any(|c| c == "RequestScan"), "a scan was asked for");
}

#[tokio::test]
async fn no_network_manager_and_no_wifi_device_are_clear_errors() {
    let bare = NetworkManagerSimulator::start_without_network_manager().unwrap();
    let err = Wifi::open(options(&bare, PSK)).await.unwrap_err();
    assert_eq!(err, WifiError::NoNetworkManager);
    assert!(err.to_string().contains("NetworkManager is not running"), "{err}");

    let nm = nm().await;
    let mut named = options(&nm, PSK);
    named.interface = Some("wlan7".into());
    let err = Wifi::open(named).await.unwrap_err();
    assert_eq!(
        err,
        WifiError::NoWifiDevice {
            interface: Some("wlan7".into())
        }
    );

    // The device goes away after open: connecting says so.
    let wifi = Wifi::open(options(&nm, PSK)).await.unwrap();
    nm.remove_wifi_device().await.unwrap();
    assert_eq!(
        wifi.join().await.unwrap_err(),
        WifiError::NoWifiDevice { interface: None }
    );
    assert!(matches!(
        Wifi::open(options(&nm, PSK)).await,
        Err(WifiError::NoWifiDevice { .. })
    ));

    // A bus that is not there.
    let gone = WifiOptions::new(SSID).with_dbus_address("unix:path=/nonexistent/thingstead-bus");
    assert!(matches!(Wifi::open(gone).await, Err(WifiError::Bus { .. })));
}

#[tokio::test]
async fn a_slow_activation_times_out_within_the_connect_timeout() {
    let nm = nm().await;
    nm.set_activation_delay(Duration::from_secs(30));
    let mut options = options(&nm, PSK);
    options.connect_timeout = Duration::from_millis(800);
    let wifi = Wifi::open(options).await.unwrap();
    let started = Instant::now();
    let err = wifi.join().await.unwrap_err();
    assert!(matches!(err, WifiError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(!wifi.is_connected());
    // The activation was cancelled rather than left to finish behind the caller's back.
    assert!(nm.calls().iter().any(|c| c == "Disconnect"), "{:?}", nm.calls());
}

#[tokio::test]
async fn an_access_point_lost_while_connected_is_noticed() {
    let nm = nm().await;
    let wifi = Wifi::open(options(&nm, PSK)).await.unwrap();
    wifi.connect().await.unwrap();
    let mut events = wifi.events();
    nm.remove_access_point(SSID).await.unwrap();
    assert_eq!(next_event(&mut events).await, Event::WifiDisconnected);
    assert_eq!(next_event(&mut events).await, Event::NetworkDisconnected);
    assert!(!wifi.is_connected());
    assert_eq!(wifi.ap_address(), None);
    // And while it is gone, joining it is an unknown SSID.
    assert_eq!(
        wifi.join().await.unwrap_err(),
        WifiError::UnknownSsid { ssid: SSID.into() }
    );
}

#[tokio::test]
async fn disconnect_and_reconnect_emit_their_events() {
    let nm = nm().await;
    let wifi = Wifi::open(options(&nm, PSK)).await.unwrap();
    let mut events = wifi.events();
    wifi.connect().await.unwrap();
    wifi.disconnect().await.unwrap();
    assert!(!wifi.is_connected());
    assert_ne!(nm.device_state(), STATE_ACTIVATED);
    wifi.reconnect().await.unwrap();
    assert!(wifi.is_connected());
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(next_event(&mut events).await);
    }
    assert_eq!(
        seen,
        [
            Event::WifiConnected,
            Event::NetworkConnected,
            Event::WifiDisconnected,
            Event::NetworkDisconnected,
            Event::WifiConnected,
            Event::NetworkConnected
        ]
    );
    assert!(events.try_recv().is_err(), "each change once");
    // A second disconnect is harmless.
    wifi.disconnect().await.unwrap();
    wifi.disconnect().await.unwrap();
}

#[tokio::test]
async fn the_device_client_sends_over_wifi_and_buffers_while_the_access_point_is_gone() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let nm = nm().await;
    let wifi = Wifi::open(options(&nm, PSK)).await.unwrap();
    wifi.connect().await.unwrap();
    let buffer_dir = tempfile::tempdir().unwrap();
    let credentials = Credentials::from_devicekey(&device.devicekey)
        .unwrap()
        .with_host(server.device_tcp.ip().to_string())
        .with_port(server.device_tcp.port());
    let client = DeviceClient::builder(credentials)
        .network(Arc::new(wifi.clone()))
        .offline_buffer(OfflineBuffer::open(buffer_dir.path(), 100, FullPolicy::Reject).unwrap())
        .build()
        .await
        .unwrap();

    assert!(client.send_message("m0", &["wifi"]).await.unwrap().is_success());

    // The access point goes away: messages wait in the buffer.
    let mut events = wifi.events();
    nm.remove_access_point(SSID).await.unwrap();
    assert_eq!(next_event(&mut events).await, Event::WifiDisconnected);
    for m in ["m1", "m2", "m3"] {
        assert_eq!(client.send_message(m, &["wifi"]).await.unwrap(), SendOutcome::Buffered);
    }
    assert_eq!(server.messages("acme").await.len(), 1);

    // It comes back and the Wi-Fi reconnects: the buffer flushes by itself, in order, each once.
    nm.add_access_point(workshop()).await.unwrap();
    wifi.reconnect().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while client.buffered_count().await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the buffer did not flush");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(client.send_message("m4", &["wifi"]).await.unwrap().is_success());
    let stored: Vec<Vec<u8>> = server.messages("acme").await.into_iter().map(|m| m.payload).collect();
    assert_eq!(stored, [b"m0", b"m1", b"m2", b"m3", b"m4"].map(|m| m.to_vec()));
    server.stop().await;
}

#[tokio::test]
async fn the_wifi_network_type_alone_is_refused_with_what_to_do() {
    let err = DeviceClient::builder(Credentials::default())
        .network_type(NetworkType::Wifi)
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Wifi::open"), "{err}");
}
