//! The offline buffer with a network the test switches, against a plain TCP
//! server in raw mode (the server-backed variant is in `server_offline`).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thingstead::device::{
    BufferError, Credentials, DeviceClient, DeviceError, Event, EventName, FLUSHED_MESSAGE_LOG, FullPolicy, Mode,
    Network, OfflineBuffer, SendOutcome, StaticNetwork,
};

use super::peer::{RawPeer, closed_port};

/// Everything logged by this test binary (one global subscriber: scoped
/// ones race with other tests' callsite registration).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

fn logs() -> &'static Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn raw_client(port: u16, dir: &std::path::Path, network: Arc<StaticNetwork>) -> DeviceClient {
    DeviceClient::builder(Credentials::default().with_port(port))
        .mode(Mode::Raw)
        .network(network)
        .offline_buffer(OfflineBuffer::open(dir, 100, FullPolicy::DropOldest).unwrap())
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn messages_wait_offline_survive_a_restart_and_flush_in_order_on_connect() {
    let logs = logs();

    let peer = RawPeer::start(b"ok").await;
    let dir = tempfile::tempdir().unwrap();
    // An outage: the link cannot come up, so sends buffer.
    let network = Arc::new(StaticNetwork::new(false).refusing_connect());
    {
        let client = raw_client(peer.port, dir.path(), network.clone()).await;
        for i in 0..3 {
            assert_eq!(
                client.send_message(&format!("m{i}"), &["t"]).await.unwrap(),
                SendOutcome::Buffered
            );
        }
        assert_eq!(client.buffered_count().await.unwrap(), 3);
    } // "restart": the client is gone, the files stay.
    assert!(peer.received().is_empty());

    let client = raw_client(peer.port, dir.path(), network.clone()).await;
    let connected = Arc::new(Mutex::new(0));
    let c = connected.clone();
    client.subscribe(
        EventName::NetworkConnected,
        Arc::new(move |_: &Event| *c.lock().unwrap() += 1),
    );
    assert_eq!(client.buffered_count().await.unwrap(), 3);
    network.set_refusing_connect(false);
    network.connect().await.unwrap();
    let got = peer.wait_for(3).await;
    assert_eq!(got, vec![b"m0".to_vec(), b"m1".to_vec(), b"m2".to_vec()]);
    for _ in 0..100 {
        if client.buffered_count().await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(client.buffered_count().await.unwrap(), 0);
    // The watcher may flush (seeing the network up) before it re-broadcasts
    // the queued connect event: wait for the event, bounded.
    for _ in 0..100 {
        if *connected.lock().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*connected.lock().unwrap(), 1);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let ours = format!("{FLUSHED_MESSAGE_LOG} buffer={}", dir.path().display());
    assert_eq!(text.lines().filter(|l| l.contains(&ours)).count(), 3, "{text}");

    // Online again: new messages go straight out.
    assert!(matches!(
        client.send_message("m3", &[]).await.unwrap(),
        SendOutcome::Answered { .. }
    ));
    assert_eq!(peer.received().len(), 4);
}

#[tokio::test]
async fn an_unreachable_server_buffers_and_a_later_flush_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let network = Arc::new(StaticNetwork::new(true));
    let client = raw_client(closed_port(), dir.path(), network).await;
    assert_eq!(client.send_message("late", &[]).await.unwrap(), SendOutcome::Buffered);
    let peer = RawPeer::start(b"ok").await;
    client
        .set_credentials(Credentials::default().with_port(peer.port))
        .unwrap();
    // The client's own start-up flush may deliver it first; either way it
    // arrives exactly once and leaves the buffer.
    let report = client.flush_buffer().await.unwrap();
    assert_eq!(report.remaining, 0);
    assert_eq!(peer.wait_for(1).await, vec![b"late".to_vec()]);
    assert_eq!(client.buffered_count().await.unwrap(), 0);
}

#[tokio::test]
async fn no_buffer_means_network_down_errors_and_reject_policy_refuses() {
    let network = Arc::new(StaticNetwork::new(false).refusing_connect());
    let client = DeviceClient::builder(Credentials::new("abcd", "1234"))
        .network(network.clone())
        .build()
        .await
        .unwrap();
    assert!(matches!(
        client.send_message("x", &[]).await,
        Err(DeviceError::NetworkDown)
    ));

    let dir = tempfile::tempdir().unwrap();
    let client = DeviceClient::builder(Credentials::new("abcd", "1234"))
        .network(network)
        .offline_buffer(OfflineBuffer::open(dir.path(), 1, FullPolicy::Reject).unwrap())
        .build()
        .await
        .unwrap();
    assert_eq!(client.send_message("one", &[]).await.unwrap(), SendOutcome::Buffered);
    assert!(matches!(
        client.send_message("two", &[]).await,
        Err(DeviceError::Buffer(BufferError::Full { max: 1 }))
    ));
}

#[tokio::test]
async fn network_events_reach_the_client_bus() {
    let network = Arc::new(StaticNetwork::new(true));
    let client = DeviceClient::builder(Credentials::default())
        .network(network.clone())
        .build()
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    for name in [EventName::NetworkConnected, EventName::NetworkDisconnected] {
        let log = seen.clone();
        client.subscribe(name, Arc::new(move |e: &Event| log.lock().unwrap().push(e.name())));
    }
    network.disconnect().await.unwrap();
    network.connect().await.unwrap();
    for _ in 0..100 {
        if seen.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec![EventName::NetworkDisconnected, EventName::NetworkConnected]
    );
    // Another client's bus hears nothing of it.
    let other = DeviceClient::new(Credentials::default()).unwrap();
    assert_eq!(other.events().subscriber_count(EventName::NetworkConnected), 0);
}

#[tokio::test]
async fn periodic_send_repeats_until_stopped() {
    let peer = RawPeer::start(b"ok").await;
    let client = DeviceClient::builder(Credentials::default().with_port(peer.port))
        .mode(Mode::Raw)
        .build()
        .await
        .unwrap();
    assert!(matches!(
        client.start_periodic(Duration::from_millis(500), "beat", &[]),
        Err(DeviceError::IntervalTooShort)
    ));
    client.start_periodic(Duration::from_secs(1), "beat", &[]).unwrap();
    assert!(client.is_periodic_running());
    assert!(matches!(
        client.start_periodic(Duration::from_secs(1), "beat", &[]),
        Err(DeviceError::AlreadyRunning(_))
    ));
    peer.wait_for(2).await;
    assert!(client.stop_periodic());
    assert!(!client.is_periodic_running());
    // A send already on the wire may still land; nothing starts after that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let count = peer.received().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(peer.received().len(), count, "no send after stop");
}
