//! A private D-Bus bus: `dbus-daemon --session` on a socket in a temporary
//! directory, killed on drop. Nothing here touches the host's buses.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `dbus-daemon` of our own.
#[derive(Debug)]
pub struct PrivateBus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl PrivateBus {
    /// Starts `dbus-daemon` (from `$THINGSTEAD_DBUS_DAEMON`, else `PATH`,
    /// else `/usr/bin/dbus-daemon`) and waits (at most 10 s) for its address.
    pub fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let program = std::env::var("THINGSTEAD_DBUS_DAEMON").unwrap_or_else(|_| {
            if std::path::Path::new("/usr/bin/dbus-daemon").exists() {
                "/usr/bin/dbus-daemon".into()
            } else {
                "dbus-daemon".into()
            }
        });
        let mut child = Command::new(&program)
            .arg("--session")
            .arg("--nofork")
            .arg("--nopidfile")
            .arg("--print-address")
            .arg(format!("--address=unix:path={}", dir.path().join("bus").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot start {program} ({e}); scripts/test-engines installs it (Debian package dbus-daemon)"
                    ),
                )
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("dbus-daemon without stdout"))?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if !line.trim().is_empty() => Ok(Self {
                child,
                address: line.trim().to_owned(),
                _dir: dir,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other("dbus-daemon printed no address within 10 s"))
            }
        }
    }

    /// The bus address (`unix:path=...,guid=...`).
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
