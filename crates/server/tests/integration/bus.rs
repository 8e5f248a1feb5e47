//! The bus seen from outside: admin changes reach a running server through
//! `bus.sock`; on NATS, events stored on one node reach subscribers on
//! another (a real nats-server, `thingstead_testkit::nats`).

use std::time::Duration;

use thingstead_core::OrgName;
use thingstead_core::bus::{BusEvent, Change, Filter, RegistryChange, RegistryKind, Subscriber};
use thingstead_server::settings::{BusBackend, Settings};
use thingstead_server::testing::TestServer;
use thingstead_server::{OpenMode, open_platform};
use thingstead_testkit::nats::NatsServer;

use super::common::{message_frame, send_frame};

async fn next(sub: &mut Subscriber) -> BusEvent {
    tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await
        .expect("an event within 5 s")
        .expect("a live subscription")
}

#[tokio::test]
async fn an_admin_change_on_the_embedded_store_reaches_the_running_server() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let sock = server.data_dir().join(thingstead_server::data_dir::BUS_SOCKET);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o600);
    let acme = OrgName::parse("acme").unwrap();
    let mut registry = server
        .platform()
        .events()
        .subscribe(Filter::tenant(&acme, "registry.>").unwrap());

    // What `thingstead admin device create --org acme` does, in another "process".
    let settings = Settings {
        data_dir: server.data_dir().to_owned(),
        ..Settings::default()
    };
    let admin = open_platform(&settings, OpenMode::Existing).await.unwrap();
    let tenant = admin.tenant("acme").await.unwrap();
    let device = admin.create_device(&tenant, None).await.unwrap();
    admin.delete_device(&tenant, &device.uuid).await.unwrap();
    admin.close().await;

    let change = |change| {
        BusEvent::Registry(RegistryChange {
            org: "acme".into(),
            kind: RegistryKind::Device,
            id: device.uuid.clone(),
            change,
        })
    };
    assert_eq!(next(&mut registry).await, change(Change::Created));
    assert_eq!(next(&mut registry).await, change(Change::Deleted));
    server.stop().await;
    assert!(!sock.exists(), "the socket goes with the server");
}

fn on_nats(url: String) -> impl FnOnce(&mut Settings) {
    move |s| {
        s.bus.backend = BusBackend::Nats;
        s.bus.url = url;
    }
}

#[tokio::test]
async fn on_nats_a_message_stored_on_one_node_reaches_a_subscriber_on_another() {
    let nats = NatsServer::start();
    let a = TestServer::start_with(on_nats(nats.url())).await;
    let b = TestServer::start_with(on_nats(nats.url())).await;
    a.create_org("acme").await;
    let d = a.create_device("acme").await;
    let acme = OrgName::parse("acme").unwrap();
    let mut on_b = b
        .platform()
        .events()
        .subscribe(Filter::tenant(&acme, "message.>").unwrap());
    let mut other_on_b = b
        .platform()
        .events()
        .subscribe(Filter::tenant(&OrgName::parse("other").unwrap(), ">").unwrap());

    assert_eq!(
        send_frame(a.device_tcp, &message_frame(&d.devicekey, &["t"], "hi")).await,
        b"[0,0]"
    );
    let BusEvent::MessageStored(m) = next(&mut on_b).await else {
        panic!("expected a stored message")
    };
    assert_eq!(
        (m.device_uuid.as_str(), m.payload.as_slice()),
        (d.uuid.as_str(), &b"hi"[..])
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), other_on_b.recv())
            .await
            .is_err(),
        "another tenant's subscriber heard acme's message"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn serve_fails_clearly_and_quickly_when_nats_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().join("data"),
        http: "127.0.0.1:0".into(),
        device_tcp: "127.0.0.1:0".into(),
        ..Settings::default()
    };
    on_nats(format!("nats://127.0.0.1:{port}"))(&mut settings);
    settings.bus.connect_timeout_ms = 1_000;
    let started = std::time::Instant::now();
    let err = thingstead_server::start(settings)
        .await
        .err()
        .expect("no NATS, no server")
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(err.contains("NATS") && err.contains(&port.to_string()), "{err}");
}
