//! One device connection: read one frame (bounded in size and time),
//! answer, close. The connection alone owns the socket and its buffer.

use std::net::SocketAddr;
use std::time::Duration;

use thingstead_proto::device::{FrameError, ReplyKind, check, encode_reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::DeviceFace;
use super::ingest;
use crate::activity::ACTIVITY;

/// How much is read at a time.
const READ_CHUNK: usize = 4096;
/// Bound on writing the reply.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Handles one connection to its end; never panics on input. `peer` is the
/// device's address (the client's, behind a trusted balancer) and `read` what
/// was already read of its frame (after a PROXY header).
pub(crate) async fn handle(mut stream: TcpStream, peer: SocketAddr, read: Vec<u8>, face: &DeviceFace) {
    let _guard = face.connections.connection();
    let _ = stream.set_nodelay(true);
    let max = face.settings.max_frame;
    let start = Instant::now();
    let deadline = start + Duration::from_millis(face.settings.idle_timeout_ms);
    // A connection that sends nothing at all gives its slot back sooner.
    let first_byte_deadline = deadline.min(start + Duration::from_millis(face.settings.first_byte_timeout_ms));
    let mut buf = read;
    buf.reserve(READ_CHUNK);
    let found = loop {
        match check(&buf, max) {
            Ok(Some(len)) => break Ok(len),
            Err(e) => break Err(e),
            Ok(None) => {}
        }
        // Read straight into the spare capacity: no zeroed scratch buffer per read.
        buf.reserve(READ_CHUNK.min(max + 1 - buf.len()));
        let until = if buf.is_empty() { first_byte_deadline } else { deadline };
        match timeout_at(until, stream.read_buf(&mut buf)).await {
            Err(_) if buf.is_empty() => {
                tracing::debug!(%peer, "device connection sent nothing in time");
                face.frames.first_byte_timeout.increment(1);
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "device connection idle timeout");
                face.frames.idle_timeout.increment(1);
                return;
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "device connection read failed");
                return;
            }
            // Closed before a terminator: the whole buffer is the frame, if any.
            Ok(Ok(0)) if buf.is_empty() => return,
            Ok(Ok(0)) => break Ok(buf.len()),
            Ok(Ok(_)) => {}
        }
    };
    let kind = ReplyKind::of_bytes(&buf);
    let code = match found {
        Ok(len) => ingest::handle_frame(face, &buf[..len], peer).await,
        Err(e @ FrameError::TooLarge { .. }) => {
            tracing::info!(%peer, error = %e, "device frame refused");
            e.result_code()
        }
        Err(e) => e.result_code(),
    };
    face.frames.record(code);
    ACTIVITY.frame_answered(code.code());
    let reply = encode_reply(kind, code);
    let _ = timeout(WRITE_TIMEOUT, async {
        stream.write_all(&reply).await?;
        stream.shutdown().await
    })
    .await;
}
