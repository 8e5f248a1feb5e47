//! A cellular modem simulator at the hardware boundary: a u-blox SARA-R4
//! (the modem of hologram-python's Nova) as seen through its serial port,
//! on a pseudo-terminal. The code under test opens [`ModemSimulator::path`]
//! as a serial port and speaks AT commands to it.
//!
//! It answers the commands of the u-blox AT commands manual that the SDK
//! uses: identity (`+CGMI`, `+CGMM`, `I`, `+CCID`, `+CIMI`), SIM (`+CPIN`),
//! network (`+COPS`, `+CSQ`, `+CREG`, `+CEREG`), SMS in text mode (`+CMGF`,
//! `+CMGS` with its `> ` prompt, `+CMGR`, `+CMGD`, the `+CMTI` URC) and TCP
//! sockets in hex mode (`+UDCONF=1,1`, `+USOCR`, `+USOCO`, `+USOWR`,
//! `+USORD`, `+USOCL`, the `+UUSORD`/`+UUSOCL` URCs) with **real** TCP
//! connections (loopback only). Errors follow `+CMEE` (`ERROR`, numeric or
//! verbose `+CME ERROR`). A test can take the SIM out, drop the
//! registration (which closes the sockets, as losing coverage does),
//! deliver an SMS, slow the answers down or garble the next one.

mod dialect;
mod pty;
mod sockets;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;

/// What the simulated SIM and network look like.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Whether a SIM is inserted.
    pub sim_present: bool,
    /// `<stat>` of `+CREG`/`+CEREG`: 1 home, 5 roaming, 0 or 2 not registered.
    pub registration: i64,
    /// The operator's name (`+COPS`).
    pub operator: String,
    /// `<rssi>` of `+CSQ` (0-31, 99 unknown).
    pub rssi: i64,
    /// The SIM's ICCID.
    pub iccid: String,
    /// The SIM's IMSI.
    pub imsi: String,
    /// How long the modem waits before each answer.
    pub answer_delay: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            sim_present: true,
            registration: 1,
            operator: "Thingstead Test Network".into(),
            rssi: 20,
            iccid: "8944500102198304826".into(),
            imsi: "234507095123456".into(),
            answer_delay: Duration::ZERO,
        }
    }
}

/// An SMS the device sent through the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The destination as given to `+CMGS`.
    pub to: String,
    /// The text.
    pub text: String,
}

/// What the test changes and reads while the simulator runs.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub config: SimConfig,
    pub sent: Vec<SentSms>,
    /// Garbage lines to write before the next answers.
    pub garble: usize,
    /// Every command line received, as text.
    pub commands: Vec<String>,
}

/// Events into the simulator's task.
#[derive(Debug)]
pub(crate) enum Control {
    /// An SMS arrives from `from`.
    DeliverSms { from: String, text: String },
    /// The registration changed (already in the config).
    Registration,
    /// Bytes arrived on a socket.
    SocketData { socket: u8, bytes: Vec<u8> },
    /// The peer closed a socket.
    SocketClosed { socket: u8 },
}

/// A running modem simulator; stops when dropped.
#[derive(Debug)]
pub struct ModemSimulator {
    path: PathBuf,
    shared: Arc<Mutex<Shared>>,
    control: mpsc::UnboundedSender<Control>,
    task: tokio::task::JoinHandle<()>,
}

impl ModemSimulator {
    /// Starts a simulator (inside a tokio runtime).
    pub fn start(config: SimConfig) -> std::io::Result<Self> {
        let (master, path) = pty::open()?;
        let shared = Arc::new(Mutex::new(Shared {
            config,
            ..Shared::default()
        }));
        let (control, events) = mpsc::unbounded_channel();
        let modem = dialect::Modem::new(master, shared.clone(), control.clone());
        let task = tokio::spawn(modem.run(events));
        Ok(Self {
            path,
            shared,
            control,
            task,
        })
    }

    /// The serial port to open: the pseudo-terminal's slave side.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An SMS arrives: it is stored and announced with `+CMTI`.
    pub fn deliver_sms(&self, from: &str, text: &str) {
        let _ = self.control.send(Control::DeliverSms {
            from: from.into(),
            text: text.into(),
        });
    }

    /// The SMS the device sent, in order.
    pub fn sent_sms(&self) -> Vec<SentSms> {
        self.shared().sent.clone()
    }

    /// Sets `<stat>` and announces it (`+CREG`, `+CEREG`). Losing the
    /// registration closes every socket (`+UUSOCL`).
    pub fn set_registration(&self, stat: i64) {
        self.shared().config.registration = stat;
        let _ = self.control.send(Control::Registration);
    }

    /// Takes the SIM out or puts it back.
    pub fn set_sim_present(&self, present: bool) {
        self.shared().config.sim_present = present;
    }

    /// Sets the signal (`+CSQ`'s `<rssi>`).
    pub fn set_rssi(&self, rssi: i64) {
        self.shared().config.rssi = rssi;
    }

    /// Waits `delay` before every answer from now on.
    pub fn set_answer_delay(&self, delay: Duration) {
        self.shared().config.answer_delay = delay;
    }

    /// Writes a garbage line before each of the next `count` answers.
    pub fn garble_next(&self, count: usize) {
        self.shared().garble = count;
    }

    /// Every command line received so far.
    pub fn commands(&self) -> Vec<String> {
        self.shared().commands.clone()
    }
}

impl Drop for ModemSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
