//! The data dir: its exclusive lock for `serve`, its master key, and the
//! check that a directory really holds a store.
//!
//! One `serve` per data dir: two servers on one embedded store would both
//! run the SMS dispatcher and the retention sweeps. `serve` holds an
//! exclusive advisory lock on `serve.lock` (with its PID written inside) for
//! its whole life; admin commands do not take it, so they work beside a
//! running server. The kernel drops the lock when the process dies, even by
//! SIGKILL, so a stale lock file never blocks a restart.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use thingstead_core::master_key::{MASTER_KEY_FILE, MasterKey, MasterKeyError};
use thingstead_core::store::sqlite::DB_FILE;

use crate::settings::Settings;

/// The lock file `serve` holds in the data dir.
pub const LOCK_FILE: &str = "serve.lock";

/// The Unix datagram socket `serve` listens on (local bus) for the events
/// admin commands publish (`thingstead_core::bus::socket`).
pub const BUS_SOCKET: &str = "bus.sock";

/// Why the data dir cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Another server holds the lock.
    #[error("another thingstead server (PID {pid}) is serving the data dir {dir}")]
    Locked {
        /// The data dir, absolute.
        dir: PathBuf,
        /// The PID written by the holder (`unknown` when unreadable).
        pid: String,
    },
    /// The directory holds no store.
    #[error("no Thingstead store in {0} (check --data-dir; `thingstead admin org create NAME` creates a store there)")]
    NoStore(PathBuf),
    /// A PostgreSQL node was given no master key file.
    #[error(
        "store.backend = \"postgres\" needs secrets.master_key_file: every node must read the same key \
         (make one with `thingstead admin master-key generate --out PATH`)"
    )]
    MasterKeyRequired,
    /// The master key could not be read or made.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// Anything else on the file system.
    #[error("data dir {dir}: {source}")]
    Io {
        /// The data dir.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The data dir as an absolute path (for messages), whether or not it exists.
pub fn absolute(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_owned())
}

/// Held by a running `serve`: the exclusive lock of its data dir.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `dir` (creating the dir, mode 0700, if needed), or
    /// fails at once naming the PID of the server that holds it.
    pub fn acquire(dir: &Path) -> Result<Self, DataDirError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let io = |source| DataDirError::Io {
            dir: absolute(dir),
            source,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(DataDirError::Locked {
                    dir: absolute(dir),
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.to_owned()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|_| file.sync_all())
            .map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// True when `dir` holds an embedded store.
pub fn has_store(dir: &Path) -> bool {
    dir.join(DB_FILE).is_file()
}

/// The master key of these settings: `secrets.master_key_file` when set
/// (it must exist), else `master.key` in the data dir, made on first use.
/// On PostgreSQL the file must be set: nodes share the database, so a key
/// made by one node alone would lock the others out.
pub fn master_key(settings: &Settings) -> Result<MasterKey, DataDirError> {
    match &settings.secrets.master_key_file {
        Some(path) => Ok(MasterKey::load(path)?),
        None if settings.store.backend == crate::settings::StoreBackend::Postgres => {
            Err(DataDirError::MasterKeyRequired)
        }
        None => Ok(MasterKey::load_or_generate(&settings.data_dir.join(MASTER_KEY_FILE))?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_a_dropped_one_frees_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let held = DataDirLock::acquire(&data).unwrap();
        let err = DataDirLock::acquire(&data).unwrap_err().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains(&absolute(&data).display().to_string()), "{err}");
        drop(held);
        DataDirLock::acquire(&data).unwrap();
    }
}
