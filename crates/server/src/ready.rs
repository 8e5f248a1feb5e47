//! The ready file: written atomically (temp file + rename) once every
//! listener is bound and the store is open.

use std::io::Write;
use std::path::Path;

use crate::app::BoundAddrs;

/// Writes `addrs` as one JSON object to `path`, atomically.
pub(crate) fn write(path: &Path, addrs: &BoundAddrs) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("ready"),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(addrs).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
