//! A cellular modem on a serial port (3GPP TS 27.007/27.005 AT commands,
//! u-blox socket commands), as a [`Network`](super::Network).
//!
//! [`Cellular::open`] finds the modem on its port and sets it up (no echo,
//! verbose errors, SMS text mode, hex socket data, registration codes).
//! It then reports the SIM, the operator, the signal and the registration;
//! it sends SMS (`+CMGS`) and receives them (`+CMTI` → `+CMGR`), as a
//! stream ([`Cellular::received_sms`]) and as a queue
//! ([`Cellular::pop_received_sms`]); it opens TCP sockets through the
//! modem ([`Cellular::connect_socket`], `+USOCR`/`+USOCO`/`+USOWR`/
//! `+USORD`/`+USOCL`), as hologram-python does on its Nova. Events:
//! `cellular.connected`, `cellular.disconnected`, `network.connected`,
//! `network.disconnected`, `sms.received`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use thingstead::device::{Cellular, CellularOptions, Network};
//! let modem = Cellular::open(CellularOptions::new("/dev/ttyUSB0")).await?;
//! println!("{:?} {:?}", modem.identity().await?, modem.signal().await?);
//! modem.connect().await?; // waits for the registration, bounded
//! modem.send_sms("+15555550123", "hello from the modem").await?;
//! if let Some(sms) = modem.pop_received_sms() {
//!     println!("{} says {}", sms.from, sms.text);
//! }
//! # Ok(()) }
//! ```

mod socket;
mod status;
mod watch;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use thingstead_proto::at::{Arg, Command};
use tokio::sync::broadcast;

pub use socket::ModemSocket;
pub use status::{ModemIdentity, ReceivedSms, RegStatus, Signal, SimStatus};

use super::{NETWORK_EVENT_CAPACITY, Network, NetworkError};
use crate::device::modem::{AtEngine, AtEngineError, EngineOptions};
use crate::device::{Event, NetworkType};

/// How many received SMS wait in [`Cellular::pop_received_sms`]'s queue;
/// past that the oldest is dropped (and logged).
pub const RECEIVED_SMS_CAPACITY: usize = 64;

/// Where the modem is and how patient to be with it.
///
/// ```
/// let o = thingstead::device::CellularOptions::new("/dev/ttyUSB0");
/// assert_eq!(o.baud_rate, 115_200);
/// ```
#[derive(Debug, Clone)]
pub struct CellularOptions {
    /// The serial port.
    pub port: PathBuf,
    /// Its baud rate.
    pub baud_rate: u32,
    /// How long one ordinary command may take.
    pub command_timeout: Duration,
    /// How long sending an SMS or opening a socket may take.
    pub network_timeout: Duration,
    /// How long [`Network::connect`] waits for a registration.
    pub register_timeout: Duration,
}

impl CellularOptions {
    /// Defaults for a modem on `port`: 115200 baud, 5 s per command, 60 s
    /// for network operations and for the registration.
    pub fn new(port: impl Into<PathBuf>) -> Self {
        Self {
            port: port.into(),
            baud_rate: 115_200,
            command_timeout: Duration::from_secs(5),
            network_timeout: Duration::from_secs(60),
            register_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a cellular operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CellularError {
    /// The serial port cannot be opened.
    #[error("cannot open the modem's port {port}: {reason}")]
    Port {
        /// The port.
        port: String,
        /// Why.
        reason: String,
    },
    /// Nothing on the port answers AT commands.
    #[error("no modem answers on {port}")]
    NoModem {
        /// The port.
        port: String,
    },
    /// The modem has no SIM.
    #[error("the modem has no SIM")]
    NoSim,
    /// The modem is not registered on a network.
    #[error("the modem is not registered on a network ({0:?})")]
    NotRegistered(RegStatus),
    /// The modem answered something this SDK does not understand.
    #[error("unexpected answer from the modem: {0}")]
    Unexpected(String),
    /// A command failed.
    #[error(transparent)]
    Command(#[from] AtEngineError),
}

impl From<CellularError> for NetworkError {
    fn from(e: CellularError) -> Self {
        match e {
            CellularError::NotRegistered(_) => NetworkError::NotConnected,
            other => NetworkError::System(other.to_string()),
        }
    }
}

/// The state the URC watcher and the calls share.
#[derive(Debug)]
struct Shared {
    connected: AtomicBool,
    events: broadcast::Sender<Event>,
    sms: broadcast::Sender<ReceivedSms>,
    inbox: Mutex<VecDeque<ReceivedSms>>,
    sockets: socket::Registry,
}

/// A cellular modem on a serial port.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use thingstead::device::{Cellular, CellularOptions, Credentials, DeviceClient};
///
/// let modem = Cellular::open(CellularOptions::new("/dev/ttyUSB0")).await?;
/// let signal = modem.signal().await?;
/// println!("{:?} dBm, {} bars", signal.dbm, signal.bars);
/// modem.send_sms("+15555550123", "hello from the modem").await?;
/// // The client's messages go through the modem's own sockets. A send while
/// // coverage is lost waits (bounded) for a registration first, then
/// // buffers or fails.
/// let client = DeviceClient::builder(Credentials::from_devicekey("abcd1234")?)
///     .network(Arc::new(modem.clone()))
///     .build()
///     .await?;
/// client.send_message("21.5", &["temperature"]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Cellular {
    engine: AtEngine,
    options: CellularOptions,
    shared: Arc<Shared>,
}

impl Cellular {
    /// Opens the modem on `options.port` and sets it up. Fails with
    /// [`CellularError::NoModem`] when nothing answers `AT` within the
    /// command timeout.
    pub async fn open(options: CellularOptions) -> Result<Self, CellularError> {
        let port_name = options.port.display().to_string();
        let port = tokio_serial::SerialStream::open(&tokio_serial::new(port_name.clone(), options.baud_rate)).map_err(
            |e| CellularError::Port {
                port: port_name.clone(),
                reason: e.to_string(),
            },
        )?;
        Self::on_line(port, options).await
    }

    /// Like [`Cellular::open`], on a line already open (a serial port
    /// opened another way, or any byte stream to a modem).
    pub async fn on_line<L>(line: L, options: CellularOptions) -> Result<Self, CellularError>
    where
        L: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let (engine, urcs) = AtEngine::spawn(line, EngineOptions::default());
        let (events, _) = broadcast::channel(NETWORK_EVENT_CAPACITY);
        let (sms, _) = broadcast::channel(RECEIVED_SMS_CAPACITY);
        let shared = Arc::new(Shared {
            connected: AtomicBool::new(false),
            events,
            sms,
            inbox: Mutex::new(VecDeque::new()),
            sockets: socket::Registry::default(),
        });
        let modem = Self {
            engine,
            options,
            shared,
        };
        let port = modem.options.port.display().to_string();
        // A modem may need a few tries to sync its baud rate.
        let mut answered = false;
        for _ in 0..3 {
            if modem.run(Command::exec("")).await.is_ok() {
                answered = true;
                break;
            }
        }
        if !answered {
            return Err(CellularError::NoModem { port });
        }
        for setup in [
            Command::exec("E0"),
            Command::set("+CMEE", vec![Arg::Int(2)]),
            Command::set("+CMGF", vec![Arg::Int(1)]),
            Command::set("+UDCONF", vec![Arg::Int(1), Arg::Int(1)]),
            Command::set("+CREG", vec![Arg::Int(1)]),
            Command::set("+CEREG", vec![Arg::Int(1)]),
        ] {
            modem.run(setup).await?;
        }
        tokio::spawn(watch::run(modem.clone(), urcs));
        if let Ok(status) = modem.registration().await {
            modem.set_connected(status.is_registered());
        }
        Ok(modem)
    }

    /// Runs one command with the ordinary timeout.
    async fn run(&self, command: Command) -> Result<crate::device::modem::AtResponse, AtEngineError> {
        self.engine.run(command, self.options.command_timeout).await
    }

    /// The modem's and the SIM's identity.
    pub async fn identity(&self) -> Result<ModemIdentity, CellularError> {
        let text = |r: crate::device::modem::AtResponse| r.text().map(str::to_owned);
        let manufacturer = text(self.run(Command::exec("+CGMI")).await?).unwrap_or_default();
        let model = text(self.run(Command::exec("+CGMM")).await?).unwrap_or_default();
        let iccid = self
            .sim_command(Command::exec("+CCID"))
            .await?
            .info("+CCID")
            .and_then(|i| i.params.first().map(param_text))
            .ok_or_else(|| CellularError::Unexpected("+CCID without an ICCID".into()))?;
        let imsi = self
            .sim_command(Command::exec("+CIMI"))
            .await?
            .text()
            .map(str::to_owned)
            .ok_or_else(|| CellularError::Unexpected("+CIMI without an IMSI".into()))?;
        Ok(ModemIdentity {
            manufacturer,
            model,
            iccid,
            imsi,
        })
    }

    /// A command that needs the SIM: a missing SIM is [`CellularError::NoSim`].
    async fn sim_command(&self, command: Command) -> Result<crate::device::modem::AtResponse, CellularError> {
        self.run(command).await.map_err(|e| {
            if e.is_sim_missing() {
                CellularError::NoSim
            } else {
                e.into()
            }
        })
    }

    /// The SIM's state.
    pub async fn sim_status(&self) -> Result<SimStatus, CellularError> {
        match self.sim_command(Command::read("+CPIN")).await {
            Ok(answer) => {
                let state = answer.info("+CPIN").and_then(|i| i.str(0)).unwrap_or_default();
                Ok(if state == "READY" {
                    SimStatus::Ready
                } else {
                    SimStatus::Locked(state.to_owned())
                })
            }
            Err(CellularError::NoSim) => Ok(SimStatus::Missing),
            Err(e) => Err(e),
        }
    }

    /// The operator's name, `None` when not registered.
    pub async fn operator(&self) -> Result<Option<String>, CellularError> {
        let answer = self.run(Command::read("+COPS")).await?;
        Ok(answer.info("+COPS").and_then(|i| i.str(2)).map(str::to_owned))
    }

    /// The signal.
    pub async fn signal(&self) -> Result<Signal, CellularError> {
        let answer = self.run(Command::exec("+CSQ")).await?;
        let rssi = answer
            .info("+CSQ")
            .and_then(|i| i.int(0))
            .ok_or_else(|| CellularError::Unexpected("+CSQ without <rssi>".into()))?;
        Ok(Signal::from_rssi(rssi))
    }

    /// The registration: EPS (`+CEREG`) when registered there, else
    /// circuit switched (`+CREG`).
    pub async fn registration(&self) -> Result<RegStatus, CellularError> {
        let mut last = RegStatus::Unknown;
        for name in ["+CEREG", "+CREG"] {
            let answer = self.run(Command::read(name)).await?;
            let stat = answer
                .info(name)
                .and_then(|i| i.int(1))
                .ok_or_else(|| CellularError::Unexpected(format!("{name}? without <stat>")))?;
            last = RegStatus::from_code(stat);
            if last.is_registered() {
                break;
            }
        }
        Ok(last)
    }

    /// Sends an SMS (text mode); the modem's message reference.
    pub async fn send_sms(&self, to: &str, text: &str) -> Result<i64, CellularError> {
        crate::device::check_sms(to, text).map_err(|e| CellularError::Unexpected(e.to_string()))?;
        let body = thingstead_proto::at::encode_sms_body(text).map_err(AtEngineError::Encode)?;
        let command = Command::set("+CMGS", vec![Arg::Str(to.to_owned())]);
        let answer = self
            .engine
            .run_with_body(command, body, self.options.network_timeout)
            .await
            .map_err(|e| {
                if e.is_sim_missing() {
                    CellularError::NoSim
                } else {
                    e.into()
                }
            })?;
        answer
            .info("+CMGS")
            .and_then(|i| i.int(0))
            .ok_or_else(|| CellularError::Unexpected("+CMGS without a reference".into()))
    }

    /// The oldest received SMS not yet taken, if any.
    pub fn pop_received_sms(&self) -> Option<ReceivedSms> {
        self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }

    /// Every SMS received from now on, as a stream (a slow reader misses
    /// the oldest past [`RECEIVED_SMS_CAPACITY`]).
    pub fn received_sms(&self) -> impl futures::Stream<Item = ReceivedSms> + Send + 'static {
        let rx = self.shared.sms.subscribe();
        futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(sms) => return Some((sms, rx)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "received SMS stream lagged");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    /// Opens a TCP connection through the modem (`+USOCR`, `+USOCO`).
    pub async fn connect_socket(&self, host: std::net::IpAddr, port: u16) -> Result<ModemSocket, CellularError> {
        socket::connect(self, host, port).await
    }

    fn set_connected(&self, connected: bool) {
        if self.shared.connected.swap(connected, Ordering::SeqCst) == connected {
            return;
        }
        let events: &[Event] = if connected {
            &[Event::CellularConnected, Event::NetworkConnected]
        } else {
            &[Event::CellularDisconnected, Event::NetworkDisconnected]
        };
        for event in events {
            let _ = self.shared.events.send(event.clone());
        }
    }
}

/// Parameters written back as the modem wrote them (an SMS text that
/// happened to look like an information line).
fn param_list(params: &[thingstead_proto::at::Param]) -> String {
    let parts: Vec<String> = params
        .iter()
        .map(|p| match p {
            thingstead_proto::at::Param::Str(s) => format!("\"{s}\""),
            other => param_text(other),
        })
        .collect();
    format!(" {}", parts.join(","))
}

/// A parameter as text, whatever its kind.
fn param_text(p: &thingstead_proto::at::Param) -> String {
    use thingstead_proto::at::Param;
    match p {
        Param::Int(n) => n.to_string(),
        Param::Str(s) | Param::Bare(s) => s.clone(),
        Param::Empty => String::new(),
    }
}

#[async_trait]
impl Network for Cellular {
    fn network_type(&self) -> NetworkType {
        NetworkType::Cellular
    }

    /// Waits (at most `register_timeout`) for the modem to register.
    async fn connect(&self) -> Result<(), NetworkError> {
        if self.sim_status().await? == SimStatus::Missing {
            return Err(CellularError::NoSim.into());
        }
        let deadline = tokio::time::Instant::now() + self.options.register_timeout;
        loop {
            let status = self.registration().await?;
            if status.is_registered() {
                self.set_connected(true);
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CellularError::NotRegistered(status).into());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Closes every socket opened through the modem.
    async fn disconnect(&self) -> Result<(), NetworkError> {
        for id in self.shared.sockets.ids() {
            let _ = self.run(Command::set("+USOCL", vec![Arg::Int(i64::from(id))])).await;
            self.shared.sockets.remove(id);
        }
        self.set_connected(false);
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// The device's traffic goes through the modem's own sockets.
    async fn carry(
        &self,
        host: &str,
        port: u16,
        frame: &[u8],
        timeouts: crate::device::Timeouts,
    ) -> Option<Result<Vec<u8>, NetworkError>> {
        Some(
            socket::exchange(self, host, port, frame, timeouts)
                .await
                .map_err(NetworkError::from),
        )
    }
}
