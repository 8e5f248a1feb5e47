//! A real SMTP server, Python's aiosmtpd, on a free loopback port, writing
//! every message it accepts into a Maildir the test reads; killed on drop.
//!
//! The interpreter is `$THINGSTEAD_SMTP_PYTHON`, else the virtualenv
//! `scripts/test-engines` makes (`~/.cache/thingstead/smtp/bin/python`,
//! under `$XDG_CACHE_HOME` when set). When neither has aiosmtpd,
//! [`SmtpServer::start`] panics saying how to get it: mail tests fail,
//! they never skip.
//!
//! ```no_run
//! let smtp = thingstead_testkit::smtp::SmtpServer::start();
//! // ... configure the server with 127.0.0.1:smtp.port() and send ...
//! let mail = smtp.messages();
//! assert_eq!(mail[0].header("Subject").as_deref(), Some("Hello"));
//! ```

use crate::process::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Maildir aiosmtpd writes, inside the temporary directory.
const MAILDIR: &str = "maildir";

/// A running aiosmtpd.
pub struct SmtpServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

/// A message as aiosmtpd stored it: the message as sent, with the headers
/// aiosmtpd adds in front (`X-Peer`, `X-MailFrom`, `X-RcptTo`: the
/// envelope).
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The whole stored text.
    pub raw: String,
}

impl ReceivedMail {
    /// The first header `name` (any case), unfolded and trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\n\n").next().unwrap_or_default();
        let head = head.replace("\r\n", "\n");
        let mut found: Option<String> = None;
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = found.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.trim().eq_ignore_ascii_case(name)
            {
                found = Some(v.trim().to_owned());
            }
        }
        found
    }

    /// The envelope recipients (`RCPT TO`, from aiosmtpd's `X-RcptTo`),
    /// Bcc included.
    pub fn envelope_recipients(&self) -> Vec<String> {
        self.header("X-RcptTo")
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default()
    }

    /// The envelope sender (`MAIL FROM`, from aiosmtpd's `X-MailFrom`).
    pub fn envelope_sender(&self) -> Option<String> {
        self.header("X-MailFrom")
    }

    /// Everything after the headers (MIME parts undecoded).
    pub fn body(&self) -> String {
        let raw = self.raw.replace("\r\n", "\n");
        raw.split_once("\n\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
    }
}

/// The Python interpreter with aiosmtpd, or a panic that says how to get one.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("THINGSTEAD_SMTP_PYTHON").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "THINGSTEAD_SMTP_PYTHON={} is not a file", p.display());
        return p;
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    cache
        .map(|c| c.join("thingstead/smtp/bin/python"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no Python with aiosmtpd: run `bash scripts/test-engines --smtp-python` (it prints the \
                 interpreter to put in THINGSTEAD_SMTP_PYTHON)"
            )
        })
}

impl SmtpServer {
    /// Starts aiosmtpd on a free port of 127.0.0.1 and waits until it
    /// accepts connections.
    pub fn start() -> Self {
        let python = python();
        let dir = tempfile::tempdir().expect("temp dir for aiosmtpd");
        for _ in 0..10 {
            let port = free_port();
            if let Some(child) = spawn(&python, port, dir.path()) {
                return Self {
                    child: Some(child),
                    port,
                    dir,
                };
            }
        }
        panic!("aiosmtpd ({}) did not start on any of 10 free ports", python.display());
    }

    /// Its port (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, in the order they arrived. aiosmtpd
    /// stores a message before it answers the end of DATA, so a message
    /// whose sending finished is here.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let new = self.dir.path().join(MAILDIR).join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, String, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let modified = e.metadata().ok()?.modified().ok()?;
                Some((modified, e.file_name().to_string_lossy().into_owned(), e.path()))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, _, path)| std::fs::read(path).ok())
            .map(|bytes| ReceivedMail {
                raw: String::from_utf8_lossy(&bytes).into_owned(),
            })
            .collect()
    }

    /// Kills the server (SIGKILL) and waits for it to exit; its port then
    /// refuses connections.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs aiosmtpd on `port` with a Maildir handler in `dir`; the child once
/// it accepts connections.
fn spawn(python: &Path, port: u16, dir: &Path) -> Option<Child> {
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        // A path that does not exist yet: Python's Maildir makes its
        // tmp/new/cur only when it creates the directory itself.
        .arg(dir.join(MAILDIR))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    crate::process::wait_listening(child, port, Duration::from_secs(10))
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.kill();
    }
}
