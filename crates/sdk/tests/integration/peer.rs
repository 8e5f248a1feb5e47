//! A plain TCP peer for raw mode ("any TCP server"): records what each
//! connection sent (until `\r\r`, EOF or 1 s) and answers a fixed reply.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct RawPeer {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawPeer {
    pub async fn start(reply: &'static [u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut data = Vec::new();
                let mut chunk = [0u8; 1024];
                let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
                while !data.ends_with(b"\r\r") {
                    match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
                        Ok(Ok(n)) if n > 0 => data.extend_from_slice(&chunk[..n]),
                        _ => break,
                    }
                }
                log.lock().unwrap().push(data);
                let _ = stream.write_all(reply).await;
            }
        });
        Self { port, received, task }
    }

    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` connections were recorded (at most 10 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} connections, got {:?}", self.received());
    }
}

impl Drop for RawPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port on which nothing listens (bound then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
