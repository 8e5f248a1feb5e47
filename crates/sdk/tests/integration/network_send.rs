//! Sending while the network is down, against the real server: the send
//! connects the network first; while it cannot come up, messages buffer
//! (or fail clearly without a buffer); concurrent senders share one
//! attempt, and failed attempts pause further ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use thingstead::device::{
    ConnectPolicy, Credentials, DeviceClient, DeviceError, Event, EventName, FullPolicy, Network, NetworkError,
    NetworkType, OfflineBuffer, SendOutcome, StaticNetwork,
};
use thingstead_server::testing::TestServer;
use tokio::sync::broadcast;

/// A [`StaticNetwork`] that counts `connect` calls, and can be slow to
/// answer them or never answer at all.
#[derive(Debug)]
struct Counted {
    inner: StaticNetwork,
    connects: AtomicUsize,
    delay: Duration,
    hang: bool,
}

impl Counted {
    fn new(inner: StaticNetwork) -> Arc<Self> {
        Self::slow(inner, Duration::ZERO)
    }

    fn slow(inner: StaticNetwork, delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            inner,
            connects: AtomicUsize::new(0),
            delay,
            hang: false,
        })
    }

    fn hanging() -> Arc<Self> {
        Arc::new(Self {
            inner: StaticNetwork::new(false),
            connects: AtomicUsize::new(0),
            delay: Duration::ZERO,
            hang: true,
        })
    }

    fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Network for Counted {
    fn network_type(&self) -> NetworkType {
        self.inner.network_type()
    }

    async fn connect(&self) -> Result<(), NetworkError> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.delay).await;
        self.inner.connect().await
    }

    async fn disconnect(&self) -> Result<(), NetworkError> {
        self.inner.disconnect().await
    }

    fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events()
    }
}

fn credentials(server: &TestServer, devicekey: &str) -> Credentials {
    Credentials::from_devicekey(devicekey)
        .unwrap()
        .with_host(server.device_tcp.ip().to_string())
        .with_port(server.device_tcp.port())
}

async fn payloads(server: &TestServer) -> Vec<String> {
    server
        .messages("acme")
        .await
        .iter()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect()
}

/// Waits (bounded) until the buffer is empty.
async fn drained(client: &DeviceClient) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.buffered_count().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the buffer did not flush");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn server_with_device() -> (TestServer, String) {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let device = server.create_device("acme").await;
    (server, device.devicekey)
}

#[tokio::test]
async fn a_down_network_that_can_connect_is_connected_by_the_send_and_nothing_is_buffered() {
    let (server, key) = server_with_device().await;
    let network = Counted::new(StaticNetwork::new(false));
    let dir = tempfile::tempdir().unwrap();
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(network.clone())
        .offline_buffer(OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap())
        .build()
        .await
        .unwrap();
    let connected = Arc::new(AtomicUsize::new(0));
    let seen = connected.clone();
    client.subscribe(
        EventName::NetworkConnected,
        Arc::new(move |_: &Event| {
            seen.fetch_add(1, Ordering::SeqCst);
        }),
    );

    let outcome = client.send_message("first", &["up"]).await.unwrap();
    assert!(outcome.is_success(), "sent, not buffered: {outcome:?}");
    assert_eq!(network.connects(), 1);
    assert!(network.is_connected());
    assert_eq!(client.buffered_count().await.unwrap(), 0);
    assert_eq!(payloads(&server).await, ["first"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while connected.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "network.connected reached the client's bus");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // An SMS (never buffered) connects a down network too.
    network.disconnect().await.unwrap();
    let sms = client.send_sms("+15555550123", "pump on").await.unwrap();
    assert!(sms.is_success(), "{sms:?}");
    assert_eq!(network.connects(), 2);
    assert_eq!(server.sms("acme").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn while_connect_is_refused_messages_buffer_and_the_next_send_that_connects_flushes_them_in_order() {
    let (server, key) = server_with_device().await;
    let network = Arc::new(StaticNetwork::new(false).refusing_connect());
    let dir = tempfile::tempdir().unwrap();
    let backoff = Duration::from_millis(200);
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(network.clone())
        .offline_buffer(OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap())
        .connect_policy(ConnectPolicy::default().with_backoff(backoff, backoff))
        .build()
        .await
        .unwrap();
    for i in 0..5 {
        assert_eq!(
            client.send_message(&format!("m{i}"), &["t"]).await.unwrap(),
            SendOutcome::Buffered
        );
    }
    assert_eq!(client.buffered_count().await.unwrap(), 5);
    assert!(server.messages("acme").await.is_empty());
    assert!(!network.is_connected());

    // The link can come up again; nobody connects it but the next send.
    network.set_refusing_connect(false);
    tokio::time::sleep(backoff + Duration::from_millis(100)).await;
    assert!(!network.is_connected());
    assert!(client.send_message("m5", &["t"]).await.unwrap().is_success());
    assert!(network.is_connected());
    drained(&client).await;
    assert_eq!(payloads(&server).await, ["m0", "m1", "m2", "m3", "m4", "m5"]);
    server.stop().await;
}

#[tokio::test]
async fn an_explicit_flush_on_a_down_network_connects_it_first() {
    let (server, key) = server_with_device().await;
    let network = Counted::new(StaticNetwork::new(false).refusing_connect());
    let dir = tempfile::tempdir().unwrap();
    let backoff = Duration::from_millis(200);
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(network.clone())
        .offline_buffer(OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap())
        .connect_policy(ConnectPolicy::default().with_backoff(backoff, backoff))
        .build()
        .await
        .unwrap();
    assert_eq!(client.send_message("kept", &[]).await.unwrap(), SendOutcome::Buffered);
    assert_eq!(client.flush_buffer().await.unwrap().remaining, 1, "paused: no attempt");
    assert_eq!(network.connects(), 1);
    network.inner.set_refusing_connect(false);
    tokio::time::sleep(backoff + Duration::from_millis(100)).await;
    let report = client.flush_buffer().await.unwrap();
    assert_eq!(report.remaining, 0, "{report:?}");
    // This flush or the one network.connected started sent it, once.
    assert_eq!(client.flushed_total().sent, 1);
    assert_eq!(network.connects(), 2);
    assert_eq!(payloads(&server).await, ["kept"]);
    server.stop().await;
}

#[tokio::test]
async fn the_buffer_flushes_when_network_connected_fires_though_connect_is_still_refused() {
    let (server, key) = server_with_device().await;
    let network = Arc::new(StaticNetwork::new(false).refusing_connect());
    let dir = tempfile::tempdir().unwrap();
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(network.clone())
        .offline_buffer(OfflineBuffer::open(dir.path(), 10, FullPolicy::Reject).unwrap())
        .build()
        .await
        .unwrap();
    for m in ["a", "b", "c"] {
        assert_eq!(client.send_message(m, &[]).await.unwrap(), SendOutcome::Buffered);
    }
    // The link comes up by itself (a supervisor, the modem): the event flushes.
    network.set_connected(true);
    drained(&client).await;
    assert_eq!(payloads(&server).await, ["a", "b", "c"]);
    server.stop().await;
}

#[tokio::test]
async fn a_burst_of_concurrent_sends_during_an_outage_makes_one_connect_attempt() {
    let (server, key) = server_with_device().await;
    // Each refusal takes a while, as a real link's would.
    let network = Counted::slow(StaticNetwork::new(false).refusing_connect(), Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let policy = ConnectPolicy::default().with_backoff(Duration::from_secs(60), Duration::from_secs(60));
    let buffered = DeviceClient::builder(credentials(&server, &key))
        .network(network.clone())
        .offline_buffer(OfflineBuffer::open(dir.path(), 1000, FullPolicy::Reject).unwrap())
        .connect_policy(policy)
        .build()
        .await
        .unwrap();
    const BURST: usize = 100;
    let started = Instant::now();
    let sends = (0..BURST).map(|i| {
        let client = buffered.clone();
        tokio::spawn(async move { client.send_message(&format!("b{i}"), &[]).await })
    });
    for result in futures::future::join_all(sends).await {
        assert_eq!(result.unwrap().unwrap(), SendOutcome::Buffered);
    }
    assert_eq!(network.connects(), 1, "one attempt shared by the whole burst");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "not one wait per send: {:?}",
        started.elapsed()
    );
    assert_eq!(buffered.buffered_count().await.unwrap(), BURST);

    // Without a buffer, the same burst fails at once with one more attempt
    // at most (a second client has its own pacing).
    let unbuffered = DeviceClient::builder(credentials(&server, &key))
        .network(network.clone())
        .connect_policy(policy)
        .build()
        .await
        .unwrap();
    let sends = (0..BURST).map(|_| {
        let client = unbuffered.clone();
        tokio::spawn(async move { client.send_message("x", &[]).await })
    });
    for result in futures::future::join_all(sends).await {
        assert!(matches!(result.unwrap(), Err(DeviceError::NetworkDown)));
    }
    assert_eq!(network.connects(), 2);

    // The outage ends: everything buffered arrives once.
    network.inner.set_refusing_connect(false);
    network.inner.set_connected(true);
    drained(&buffered).await;
    let mut stored = payloads(&server).await;
    stored.sort();
    let mut expected: Vec<String> = (0..BURST).map(|i| format!("b{i}")).collect();
    expected.sort();
    assert_eq!(stored, expected, "each buffered message stored exactly once");
    server.stop().await;
}

#[tokio::test]
async fn without_a_buffer_a_refused_or_hanging_connect_is_a_quick_clear_error() {
    let (server, key) = server_with_device().await;
    let refusing = Counted::new(StaticNetwork::new(false).refusing_connect());
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(refusing.clone())
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    let err = client.send_message("x", &[]).await.unwrap_err();
    assert!(matches!(err, DeviceError::NetworkDown), "{err}");
    assert_eq!(err.to_string(), "the network is not connected");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(refusing.connects(), 1);
    // Paused after the failure: the next sends do not try again.
    assert!(matches!(
        client.send_message("y", &[]).await,
        Err(DeviceError::NetworkDown)
    ));
    assert!(matches!(
        client.send_sms("+15555550123", "z").await,
        Err(DeviceError::NetworkDown)
    ));
    assert_eq!(refusing.connects(), 1);

    // A connect that never answers is cut off by the policy's timeout.
    let hanging = Counted::hanging();
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(hanging.clone())
        .connect_policy(ConnectPolicy::default().with_timeout(Duration::from_millis(300)))
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    assert!(matches!(
        client.send_message("x", &[]).await,
        Err(DeviceError::NetworkDown)
    ));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(hanging.connects(), 1);

    // With connecting turned off, a send never calls connect.
    let off = Counted::new(StaticNetwork::new(false));
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(off.clone())
        .connect_policy(ConnectPolicy::never())
        .build()
        .await
        .unwrap();
    assert!(matches!(
        client.send_message("x", &[]).await,
        Err(DeviceError::NetworkDown)
    ));
    assert_eq!(off.connects(), 0);
    assert!(server.messages("acme").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_cellular_modem_taken_down_is_connected_again_by_the_next_send() {
    use thingstead::device::{Cellular, CellularOptions};
    use thingstead_testkit::modem::{ModemSimulator, SimConfig};

    let (server, key) = server_with_device().await;
    let sim = ModemSimulator::start(SimConfig::default()).expect("simulator");
    let mut options = CellularOptions::new(sim.path());
    options.command_timeout = Duration::from_secs(2);
    options.network_timeout = Duration::from_secs(5);
    options.register_timeout = Duration::from_secs(1);
    let modem = Cellular::open(options).await.expect("the modem answers");
    let client = DeviceClient::builder(credentials(&server, &key))
        .network(Arc::new(modem.clone()))
        .build()
        .await
        .unwrap();
    modem.disconnect().await.unwrap();
    assert!(!modem.is_connected());
    let outcome = client.send_message("over the air", &["cell"]).await.unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    assert!(modem.is_connected(), "the send re-registered the modem");
    assert!(sim.commands().iter().any(|c| c.starts_with("AT+USOWR=")));
    assert_eq!(payloads(&server).await, ["over the air"]);
    server.stop().await;
}
