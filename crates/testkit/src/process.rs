//! What the throwaway servers share: a free loopback port, and waiting
//! for a spawned server to accept connections.

use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

/// A port the kernel just said was free (bind 127.0.0.1:0, release).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// `child` once it accepts connections on 127.0.0.1:`port` within
/// `timeout`; `None` (the child killed) if it exited first, most likely
/// because the port was taken, or never listened.
pub(crate) fn wait_listening(mut child: Child, port: u16, timeout: Duration) -> Option<Child> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}
