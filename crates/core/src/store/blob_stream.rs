//! The one way a blob's bytes reach a file, whichever backend keeps them:
//! a chunk stream copied to a writer, refused past its cap.

use futures::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{BlobChunks, StoreError};

/// Copies `chunks` into `out` (then flushes it), at most `max_bytes` of
/// them: `TooLarge` as soon as more arrive, a stream's own error as it is,
/// a write error through `io`. Returns how many bytes were copied.
pub(crate) async fn copy_capped<W: AsyncWrite + Unpin>(
    mut chunks: BlobChunks,
    out: &mut W,
    max_bytes: u64,
    io: impl Fn(std::io::Error) -> StoreError,
) -> Result<u64, StoreError> {
    let mut written = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        written += chunk.len() as u64;
        if written > max_bytes {
            return Err(StoreError::TooLarge { limit: max_bytes });
        }
        out.write_all(&chunk).await.map_err(&io)?;
    }
    out.flush().await.map_err(&io)?;
    Ok(written)
}
