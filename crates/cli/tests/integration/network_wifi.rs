//! `--network wifi` of the device tools and `thingstead network status
//! --network wifi`, against the NetworkManager double of thingstead-testkit
//! on a private D-Bus bus (`--dbus-address` / `THINGSTEAD_DBUS_ADDRESS`).

use thingstead_testkit::network_manager::{AccessPointConfig, NetworkManagerSimulator};

use crate::support::{Env, Output, all_messages, org_with_device_and_key};

fn tool(env: &Env, args: &[&str], psk: Option<&str>) -> Output {
    let mut c = env.bare();
    c.args(args);
    if let Some(psk) = psk {
        c.env("THINGSTEAD_WIFI_PSK", psk);
    }
    env.run(c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_joins_the_wifi_and_network_status_reports_it() {
    let env = Env::new();
    let server = env.start();
    let (key, apikey, _) = org_with_device_and_key(&env, "acme");
    let port = server.device_tcp.port().to_string();
    let nm = NetworkManagerSimulator::start(vec![AccessPointConfig::new(
        "workshop",
        "02:00:00:00:00:01",
        70,
        "correct horse",
    )])
    .await
    .expect("dbus-daemon and the NetworkManager double (scripts/test-engines installs dbus-daemon)");
    let bus = nm.address().to_owned();
    let send = |psk: Option<&str>, extra: &[&str], message: &str| {
        let mut args = vec![
            "send",
            "--devicekey",
            &key,
            "--host",
            "127.0.0.1",
            "-p",
            &port,
            "--network",
            "wifi",
            "--dbus-address",
            &bus,
        ];
        args.extend_from_slice(extra);
        args.push(message);
        tool(&env, &args, psk)
    };

    // A wrong key (from the environment) is refused and says so.
    let out = send(Some("wrong"), &["--ssid", "workshop"], "refused");
    assert!(!out.status.success(), "{}", out.stdout);
    assert!(out.error_line().contains("wrong key"), "{}", out.stderr);
    // No SSID: the flag it needs is named.
    let out = send(Some("correct horse"), &[], "nowhere");
    assert!(out.error_line().contains("--ssid"), "{}", out.stderr);

    // The key from the environment: joined, and the message is stored.
    let out = send(Some("correct horse"), &["--ssid", "workshop"], "over wi-fi");
    out.ok();
    assert!(
        nm.calls().iter().any(|c| c == "AddAndActivateConnection"),
        "{:?}",
        nm.calls()
    );
    let stored: Vec<String> = all_messages(server.http, &apikey)
        .await
        .into_iter()
        .map(|m| m.payload)
        .collect();
    assert_eq!(stored, ["over wi-fi"]);

    // Piped, the status is one JSON object (the bus from the environment).
    let mut c = env.bare();
    c.args(["network", "status", "--network", "wifi"])
        .env("THINGSTEAD_DBUS_ADDRESS", &bus);
    let status = env.run(c).json();
    assert_eq!(status["network"], "wifi", "{status}");
    assert_eq!(status["interface"], "wlan0", "{status}");
    assert_eq!(status["state"], "connected", "{status}");
    assert_eq!(status["ssid"], "workshop", "{status}");
    assert_eq!(status["bssid"], "02:00:00:00:00:01", "{status}");
    assert_eq!(status["signal"], 70, "{status}");

    // Without NetworkManager on the bus, the status says so.
    let bare = NetworkManagerSimulator::start_without_network_manager().unwrap();
    let out = tool(
        &env,
        &[
            "network",
            "status",
            "--network",
            "wifi",
            "--dbus-address",
            bare.address(),
        ],
        None,
    );
    assert!(
        out.error_line().contains("NetworkManager is not running"),
        "{}",
        out.stderr
    );
    server.stop().await;
}
