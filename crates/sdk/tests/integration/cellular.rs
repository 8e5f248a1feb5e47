//! `Cellular` through the real serial path (tokio-serial on a pty) against
//! the u-blox SARA-R4 simulator of thingstead-testkit, the test double at
//! the hardware boundary; its sockets reach a real Thingstead server.

use std::time::Duration;

use futures::StreamExt;
use thingstead::device::{Cellular, CellularError, CellularOptions, Event, Network, NetworkType, RegStatus, SimStatus};
use thingstead_proto::device::{DeviceFrame, DeviceKey, MessageFrame, TERMINATOR};
use thingstead_server::testing::TestServer;
use thingstead_testkit::modem::{ModemSimulator, SentSms, SimConfig};

fn options(sim: &ModemSimulator) -> CellularOptions {
    let mut options = CellularOptions::new(sim.path());
    options.command_timeout = Duration::from_secs(2);
    options.network_timeout = Duration::from_secs(5);
    options.register_timeout = Duration::from_secs(1);
    options
}

async fn open(config: SimConfig) -> (ModemSimulator, Cellular) {
    let sim = ModemSimulator::start(config).expect("simulator");
    let modem = Cellular::open(options(&sim)).await.expect("the modem answers");
    (sim, modem)
}

async fn next_event(events: &mut tokio::sync::broadcast::Receiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event in time")
        .expect("events open")
}

#[tokio::test]
async fn the_modem_reports_its_identity_sim_operator_signal_and_registration() {
    let (sim, modem) = open(SimConfig::default()).await;
    let id = modem.identity().await.unwrap();
    assert_eq!(
        (
            id.manufacturer.as_str(),
            id.model.as_str(),
            id.iccid.as_str(),
            id.imsi.as_str()
        ),
        ("u-blox", "SARA-R410M-02B", "8944500102198304826", "234507095123456")
    );
    assert_eq!(modem.sim_status().await.unwrap(), SimStatus::Ready);
    assert_eq!(
        modem.operator().await.unwrap().as_deref(),
        Some("Thingstead Test Network")
    );
    let signal = modem.signal().await.unwrap();
    assert_eq!((signal.rssi, signal.dbm, signal.bars), (20, Some(-73), 3));
    assert_eq!(modem.registration().await.unwrap(), RegStatus::Home);
    assert_eq!(modem.network_type(), NetworkType::Cellular);
    modem.connect().await.unwrap();
    assert!(modem.is_connected());
    // The setup the SDK did: no echo, verbose errors, SMS text mode, hex sockets.
    let commands = sim.commands();
    for expected in ["ATE0", "AT+CMEE=2", "AT+CMGF=1", "AT+UDCONF=1,1"] {
        assert!(commands.iter().any(|c| c == expected), "{expected} in {commands:?}");
    }
}

#[tokio::test]
async fn losing_and_regaining_coverage_are_events() {
    let (sim, modem) = open(SimConfig::default()).await;
    let mut events = modem.events();
    sim.set_registration(2);
    assert_eq!(next_event(&mut events).await, Event::CellularDisconnected);
    assert_eq!(next_event(&mut events).await, Event::NetworkDisconnected);
    assert!(!modem.is_connected());
    sim.set_registration(5);
    assert_eq!(next_event(&mut events).await, Event::CellularConnected);
    assert_eq!(next_event(&mut events).await, Event::NetworkConnected);
    assert!(modem.is_connected());
}

#[tokio::test]
async fn a_missing_sim_and_no_registration_are_clear_errors() {
    let (sim, modem) = open(SimConfig {
        sim_present: false,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(modem.sim_status().await.unwrap(), SimStatus::Missing);
    assert!(matches!(modem.identity().await, Err(CellularError::NoSim)));
    let err = modem.connect().await.unwrap_err();
    assert!(err.to_string().contains("no SIM"), "{err}");

    sim.set_sim_present(true);
    sim.set_registration(2);
    let started = std::time::Instant::now();
    let err = modem.connect().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "bounded wait: {:?}",
        started.elapsed()
    );
    assert!(matches!(err, thingstead::device::NetworkError::NotConnected), "{err}");
}

#[tokio::test]
async fn sms_go_out_and_come_in_as_a_stream_a_queue_and_events() {
    let (sim, modem) = open(SimConfig::default()).await;
    let reference = modem.send_sms("+15555550123", "hello from the modem").await.unwrap();
    assert!(reference > 0);
    assert_eq!(
        sim.sent_sms(),
        [SentSms {
            to: "+15555550123".into(),
            text: "hello from the modem".into()
        }]
    );
    assert!(
        modem.send_sms("15555550123", "no plus").await.is_err(),
        "checked before sending"
    );

    let mut stream = Box::pin(modem.received_sms());
    let mut events = modem.events();
    sim.deliver_sms("+447700900123", "+1 for the pump: ON");
    let sms = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("in time")
        .expect("an SMS");
    assert_eq!(
        (sms.from.as_str(), sms.text.as_str()),
        ("+447700900123", "+1 for the pump: ON")
    );
    assert_eq!(next_event(&mut events).await, Event::SmsReceived(sms.clone()));
    assert_eq!(modem.pop_received_sms(), Some(sms));
    assert_eq!(modem.pop_received_sms(), None);
    assert!(
        sim.commands().iter().any(|c| c.starts_with("AT+CMGD=")),
        "read SMS are deleted"
    );

    // Without coverage the modem refuses, and the SDK says so.
    sim.set_registration(0);
    assert!(modem.send_sms("+15555550123", "lost").await.is_err());
}

#[tokio::test]
async fn slow_and_garbled_answers_are_survived_and_bounded() {
    let (sim, modem) = open(SimConfig::default()).await;
    sim.garble_next(3);
    assert_eq!(modem.sim_status().await.unwrap(), SimStatus::Ready);
    assert_eq!(modem.signal().await.unwrap().rssi, 20);

    sim.set_answer_delay(Duration::from_secs(3));
    let started = std::time::Instant::now();
    let err = modem.signal().await.unwrap_err();
    assert!(err.to_string().contains("no answer"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    sim.set_answer_delay(Duration::ZERO);
    // The late answer is not taken for the next command's.
    assert_eq!(
        modem.operator().await.unwrap().as_deref(),
        Some("Thingstead Test Network")
    );
}

#[tokio::test]
async fn nothing_on_the_port_is_no_modem_and_a_bad_port_is_a_port_error() {
    let sim = ModemSimulator::start(SimConfig {
        answer_delay: Duration::from_secs(30),
        ..SimConfig::default()
    })
    .unwrap();
    let mut options = options(&sim);
    options.command_timeout = Duration::from_millis(200);
    let err = Cellular::open(options).await.unwrap_err();
    assert!(matches!(err, CellularError::NoModem { .. }), "{err}");
    let err = Cellular::open(CellularOptions::new("/nonexistent/ttyUSB9"))
        .await
        .unwrap_err();
    assert!(matches!(err, CellularError::Port { .. }), "{err}");
}

#[tokio::test]
async fn a_message_goes_through_the_modems_socket_and_is_stored_by_the_server() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let (_sim, modem) = open(SimConfig::default()).await;

    let frame = DeviceFrame::Message(MessageFrame {
        key: DeviceKey::parse(&device.devicekey).unwrap(),
        metadata: None,
        topics: vec!["cellular".parse().unwrap()],
        data: "via the modem".into(),
        idempotency_key: None,
    });
    let bytes = frame.encode();
    assert!(bytes.ends_with(TERMINATOR));
    let socket = modem
        .connect_socket(server.device_tcp.ip(), server.device_tcp.port())
        .await
        .unwrap();
    socket.write_all(&bytes).await.unwrap();
    let mut reply = Vec::new();
    loop {
        let chunk = socket.read(Duration::from_secs(5)).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        reply.extend(chunk);
    }
    assert_eq!(reply, b"[0,0]");
    socket.close().await.unwrap();
    let stored = server.messages("acme").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].payload, b"via the modem");
    assert_eq!(stored[0].topics, ["cellular"]);
    server.stop().await;
}

#[tokio::test]
async fn the_device_client_sends_through_the_modem_and_buffers_while_coverage_is_lost() {
    use std::sync::Arc;
    use thingstead::device::{Credentials, DeviceClient, FullPolicy, OfflineBuffer, SendOutcome};

    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    let (sim, modem) = open(SimConfig::default()).await;
    let buffer_dir = tempfile::tempdir().unwrap();
    let credentials = Credentials::from_devicekey(&device.devicekey)
        .unwrap()
        .with_host(server.device_tcp.ip().to_string())
        .with_port(server.device_tcp.port());
    let client = DeviceClient::builder(credentials)
        .network(Arc::new(modem.clone()))
        .offline_buffer(OfflineBuffer::open(buffer_dir.path(), 100, FullPolicy::Reject).unwrap())
        .build()
        .await
        .unwrap();

    let sent = client.send_message("m0", &["cell"]).await.unwrap();
    assert!(sent.is_success(), "{sent:?}");
    assert!(
        sim.commands().iter().any(|c| c.starts_with("AT+USOWR=")),
        "the frame went through the modem's socket"
    );

    // Coverage lost: messages wait in the buffer.
    let mut events = modem.events();
    sim.set_registration(0);
    assert_eq!(next_event(&mut events).await, Event::CellularDisconnected);
    for m in ["m1", "m2", "m3"] {
        assert_eq!(client.send_message(m, &["cell"]).await.unwrap(), SendOutcome::Buffered);
    }
    assert_eq!(server.messages("acme").await.len(), 1);

    // Coverage back: the buffer flushes by itself, in order, each once.
    sim.set_registration(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while client.buffered_count().await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the buffer did not flush");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(client.send_message("m4", &["cell"]).await.unwrap().is_success());
    let stored: Vec<Vec<u8>> = server.messages("acme").await.into_iter().map(|m| m.payload).collect();
    assert_eq!(stored, [b"m0", b"m1", b"m2", b"m3", b"m4"].map(|m| m.to_vec()));
    server.stop().await;
}
