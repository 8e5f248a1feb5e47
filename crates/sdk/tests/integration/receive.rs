//! Inbound messages: a plain TCP connection pushes to the SDK's listener.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thingstead::device::{Callback, Credentials, DeviceClient, Event, EventName};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn push(addr: std::net::SocketAddr, data: &[u8]) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(data).await.unwrap();
    stream.shutdown().await.unwrap();
}

#[tokio::test]
async fn each_connection_is_one_message_queued_and_broadcast() {
    let client = DeviceClient::new(Credentials::default()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let cb: Callback = Arc::new(move |e: &Event| {
        if let Event::MessageReceived(m) = e {
            log.lock().unwrap().push(m.text());
        }
    });
    client.subscribe(EventName::MessageReceived, cb.clone());
    client.subscribe(EventName::MessageReceived, cb);
    let addr = client.start_receiving("127.0.0.1", 0).await.unwrap();
    assert!(client.is_receiving());

    push(addr, "héllo\nworld".as_bytes()).await;
    let first = tokio::time::timeout(Duration::from_secs(5), client.next_received())
        .await
        .unwrap();
    assert_eq!(first.text(), "héllo\nworld");

    // An empty connection is not a message; the next real one is.
    push(addr, b"").await;
    push(addr, b"second").await;
    let second = tokio::time::timeout(Duration::from_secs(5), client.next_received())
        .await
        .unwrap();
    assert_eq!(second.text(), "second");
    assert!(client.pop_received().is_none());
    // Subscribed twice, called once per message.
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["héllo\nworld".to_owned(), "second".to_owned()]
    );

    assert!(client.stop_receiving());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn a_sender_that_never_closes_is_cut_after_five_seconds() {
    let client = DeviceClient::new(Credentials::default()).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    client.subscribe(
        EventName::MessageReceived,
        Arc::new(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        }),
    );
    let addr = client.start_receiving("127.0.0.1", 0).await.unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"slow").await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(8), client.next_received())
        .await
        .unwrap();
    assert_eq!(m.text(), "slow");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn the_blocking_client_receives_too() {
    let client = thingstead::device::blocking::DeviceClient::new(Credentials::default()).unwrap();
    let addr = client.start_receiving("127.0.0.1", 0).unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stream, b"blocking").unwrap();
    drop(stream);
    let m = client.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(m.text(), "blocking");
}
