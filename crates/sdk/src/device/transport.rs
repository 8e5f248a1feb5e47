//! One frame over one TCP connection (WIRE C.1): connect, write the frame in
//! one write, read the reply until the server closes, 1024 bytes have
//! arrived or the read timeout expires, close.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::DeviceError;

/// The most reply bytes read, as hologram-python does.
pub(crate) const MAX_REPLY: usize = 1024;

/// Timeouts of one exchange.
///
/// ```
/// use thingstead::device::Timeouts;
/// let t = Timeouts::default();
/// assert_eq!(t.read.as_secs(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting, name resolution included.
    pub connect: Duration,
    /// Writing the frame.
    pub write: Duration,
    /// Reading the whole reply.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            write: Duration::from_secs(5),
            read: Duration::from_secs(5),
        }
    }
}

/// What came back from one exchange.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// The reply bytes (possibly empty).
    pub reply: Vec<u8>,
}

/// Sends `frame` to `host:port` and returns the reply.
///
/// Fails with [`DeviceError::Unreachable`] only when the frame certainly did
/// not reach the server (resolution, connect or write failed); a missing or
/// cut reply is an `Ok` with what was read.
pub(crate) async fn exchange(
    host: &str,
    port: u16,
    frame: &[u8],
    timeouts: Timeouts,
    on_connected: impl FnOnce(),
) -> Result<Exchange, DeviceError> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let unreachable = |source| DeviceError::Unreachable {
        target: target.clone(),
        source,
    };
    let mut stream = match timeout(timeouts.connect, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(unreachable(e)),
        Err(_) => {
            return Err(unreachable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            )));
        }
    };
    on_connected();
    // Small frames leave in one segment; Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    match timeout(timeouts.write, stream.write_all(frame)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(unreachable(e)),
        Err(_) => {
            return Err(unreachable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "write timed out",
            )));
        }
    }
    let reply = read_reply(&mut stream, timeouts.read).await;
    let _ = stream.shutdown().await;
    Ok(Exchange { reply })
}

/// Reads until EOF, [`MAX_REPLY`] bytes or the deadline; errors end the read.
async fn read_reply(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let deadline = Instant::now() + limit;
    let mut reply = Vec::with_capacity(64);
    let mut chunk = [0u8; MAX_REPLY];
    while reply.len() < MAX_REPLY {
        let want = MAX_REPLY - reply.len();
        match timeout_at(deadline, stream.read(&mut chunk[..want])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => reply.extend_from_slice(&chunk[..n]),
        }
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn reads_reply_until_close() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 64];
            let n = s.read(&mut buf).await.unwrap();
            s.write_all(b"[0,0]").await.unwrap();
            buf.truncate(n);
            buf
        });
        let mut connected = false;
        let ex = exchange("127.0.0.1", port, b"hi\r\r", Timeouts::default(), || connected = true)
            .await
            .unwrap();
        assert_eq!(ex.reply, b"[0,0]");
        assert!(connected);
        assert_eq!(server.await.unwrap(), b"hi\r\r");
    }

    #[tokio::test]
    async fn silent_server_times_out_with_empty_reply() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(s);
        });
        let t = Timeouts {
            read: Duration::from_millis(100),
            ..Timeouts::default()
        };
        let ex = exchange("127.0.0.1", port, b"x", t, || {}).await.unwrap();
        assert!(ex.reply.is_empty());
    }

    #[tokio::test]
    async fn refused_connection_is_unreachable() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = exchange("127.0.0.1", port, b"x", Timeouts::default(), || {})
            .await
            .unwrap_err();
        assert!(err.is_not_delivered(), "{err}");
    }
}
