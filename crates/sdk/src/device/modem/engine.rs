//! The AT command engine: one task owns the modem's line.

use std::time::Duration;

use tokio::time::Instant;

use thingstead_proto::at::{self, AtError, Command, ErrorCode, Final, Info, Output, Urc};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// Limits and pace of an [`AtEngine`].
///
/// ```
/// let o = thingstead::device::modem::EngineOptions::default();
/// assert!(o.max_line >= 1024);
/// ```
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The longest line the modem may write; a longer one is discarded.
    pub max_line: usize,
    /// How many unsolicited codes wait for a reader; past that the oldest
    /// is dropped and counted.
    pub urc_capacity: usize,
    /// How many response lines one command may collect.
    pub max_response_lines: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            // `+USORD` answers carry up to 1024 bytes as 2048 hex digits.
            max_line: 4096,
            urc_capacity: 256,
            max_response_lines: 64,
        }
    }
}

/// What a command answered: its response lines and its final result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtResponse {
    /// The information and text lines, in order (blank lines and echoes left out).
    pub lines: Vec<Output>,
}

impl AtResponse {
    /// The first `+NAME: ...` line called `name`.
    pub fn info(&self, name: &str) -> Option<&Info> {
        self.lines.iter().find_map(|l| match l {
            Output::Info(info) if info.name == name => Some(info),
            _ => None,
        })
    }

    /// The first text line (an IMSI, an SMS's text...).
    pub fn text(&self) -> Option<&str> {
        self.lines.iter().find_map(|l| match l {
            Output::Text(t) => Some(t.as_str()),
            _ => None,
        })
    }
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AtEngineError {
    /// The modem answered `ERROR`.
    #[error("the modem answered ERROR to {command}")]
    Error {
        /// The command, as written.
        command: String,
    },
    /// The modem answered `+CME ERROR` (equipment, SIM, network).
    #[error("the modem answered +CME ERROR: {code:?} to {command}")]
    Cme {
        /// The command.
        command: String,
        /// The error.
        code: ErrorCode,
    },
    /// The modem answered `+CMS ERROR` (messaging).
    #[error("the modem answered +CMS ERROR: {code:?} to {command}")]
    Cms {
        /// The command.
        command: String,
        /// The error.
        code: ErrorCode,
    },
    /// Another final result (`NO CARRIER`...).
    #[error("the modem answered {answer:?} to {command}")]
    Other {
        /// The command.
        command: String,
        /// The answer.
        answer: Final,
    },
    /// No final result within the command's timeout.
    #[error("no answer from the modem to {command} within {timeout:?}")]
    Timeout {
        /// The command.
        command: String,
        /// Its timeout.
        timeout: Duration,
    },
    /// The command cannot be written as AT text.
    #[error("cannot send this command: {0}")]
    Encode(AtError),
    /// The line to the modem is closed or failed.
    #[error("the modem's line is closed: {0}")]
    Closed(String),
}

impl AtEngineError {
    /// Whether the modem said its SIM is missing.
    pub fn is_sim_missing(&self) -> bool {
        matches!(self, Self::Cme { code, .. } if code.is_sim_missing())
    }
}

/// Unsolicited result codes, in arrival order.
#[derive(Debug)]
pub struct UrcReceiver {
    rx: mpsc::Receiver<Urc>,
}

impl UrcReceiver {
    /// The next unsolicited code; `None` once the engine has stopped.
    pub async fn recv(&mut self) -> Option<Urc> {
        self.rx.recv().await
    }

    /// An unsolicited code if one waits.
    pub fn try_recv(&mut self) -> Option<Urc> {
        self.rx.try_recv().ok()
    }
}

/// A command for the engine's task.
struct Request {
    command: Command,
    /// Written after the `> ` prompt (an SMS's text with its Ctrl-Z).
    body: Option<Vec<u8>>,
    timeout: Duration,
    reply: oneshot::Sender<Result<AtResponse, AtEngineError>>,
}

/// Runs AT commands on a modem's line, one at a time.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use thingstead::device::modem::{AtEngine, EngineOptions, at::Command};
/// let (device_side, mut modem_side) = tokio::io::duplex(1024);
/// let (engine, _urcs) = AtEngine::spawn(device_side, EngineOptions::default());
/// tokio::spawn(async move {
///     use tokio::io::{AsyncReadExt, AsyncWriteExt};
///     let mut buf = [0u8; 64];
///     let _ = modem_side.read(&mut buf).await; // "AT+CSQ\r"
///     modem_side.write_all(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n").await.unwrap();
/// });
/// let answer = engine.run(Command::exec("+CSQ"), Duration::from_secs(1)).await?;
/// assert_eq!(answer.info("+CSQ").and_then(|i| i.int(0)), Some(20));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AtEngine {
    tx: mpsc::Sender<Request>,
}

impl AtEngine {
    /// Starts the engine's task on `line`. Dropping every clone of the
    /// engine stops it (and closes the line).
    pub fn spawn<L>(line: L, options: EngineOptions) -> (Self, UrcReceiver)
    where
        L: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (tx, requests) = mpsc::channel(16);
        let options = EngineOptions {
            max_line: options.max_line.max(64),
            ..options
        };
        let (urc_tx, urc_rx) = mpsc::channel(options.urc_capacity.max(1));
        let task = Task {
            line,
            options,
            buf: Vec::with_capacity(1024),
            urcs: UrcQueue::new(urc_tx),
            stale_until: None,
            skipping: false,
        };
        tokio::spawn(task.run(requests));
        (Self { tx }, UrcReceiver { rx: urc_rx })
    }

    /// Runs `command` and waits at most `timeout` for its final result.
    pub async fn run(&self, command: Command, timeout: Duration) -> Result<AtResponse, AtEngineError> {
        self.submit(command, None, timeout).await
    }

    /// Runs `command`, writes `body` when the modem prompts with `> `
    /// (`AT+CMGS`), and waits at most `timeout` for the final result.
    pub async fn run_with_body(
        &self,
        command: Command,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<AtResponse, AtEngineError> {
        self.submit(command, Some(body), timeout).await
    }

    async fn submit(
        &self,
        command: Command,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<AtResponse, AtEngineError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            command,
            body,
            timeout,
            reply,
        };
        let closed = || AtEngineError::Closed("the engine has stopped".into());
        self.tx.send(request).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// Hands unsolicited codes to the [`UrcReceiver`] without ever blocking
/// the engine: past the channel's capacity (an application that does not
/// read) new codes are dropped, counted and logged.
struct UrcQueue {
    tx: mpsc::Sender<Urc>,
    dropped: u64,
}

impl UrcQueue {
    fn new(tx: mpsc::Sender<Urc>) -> Self {
        Self { tx, dropped: 0 }
    }

    fn push(&mut self, urc: Urc) {
        if let Err(mpsc::error::TrySendError::Full(urc)) = self.tx.try_send(urc) {
            self.dropped += 1;
            tracing::warn!(
                dropped = self.dropped,
                ?urc,
                "unsolicited modem codes not read: dropped one"
            );
        }
    }
}

struct Task<L> {
    line: L,
    options: EngineOptions,
    buf: Vec<u8>,
    urcs: UrcQueue,
    /// A command timed out: its final result may still come until then,
    /// and must not be taken for the next command's.
    stale_until: Option<Instant>,
    /// An overlong line is being discarded up to its end.
    skipping: bool,
}

/// How long the late answer of a command that timed out is waited for
/// (at most) before the next command is written.
const LATE_ANSWER_GRACE: Duration = Duration::from_secs(2);

impl<L: AsyncRead + AsyncWrite + Send + Unpin> Task<L> {
    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        loop {
            tokio::select! {
                request = requests.recv() => {
                    let Some(request) = request else { return };
                    let outcome = self.execute(&request).await;
                    let closed = matches!(outcome, Err(AtEngineError::Closed(_)));
                    let _ = request.reply.send(outcome);
                    if closed {
                        return;
                    }
                }
                item = self.next_item() => match item {
                    Ok(item) => self.idle_item(item),
                    Err(e) => {
                        tracing::warn!(error = %e, "the modem's line closed");
                        return;
                    }
                },
            }
        }
    }

    /// An item that arrived with no command in progress.
    fn idle_item(&mut self, item: Output) {
        match item {
            Output::Info(info) => self.unsolicited(info),
            Output::Final(answer) if self.stale_until.is_some() => {
                tracing::debug!(?answer, "late answer to a command that timed out");
                self.stale_until = None;
            }
            Output::Blank | Output::Echo(_) => {}
            other => tracing::debug!(?other, "unexpected modem output ignored"),
        }
    }

    fn unsolicited(&mut self, info: Info) {
        match Urc::parse(&info) {
            Some(urc) => self.urcs.push(urc),
            None => tracing::debug!(name = %info.name, "unknown unsolicited code ignored"),
        }
    }

    async fn execute(&mut self, request: &Request) -> Result<AtResponse, AtEngineError> {
        let bytes = request.command.encode().map_err(AtEngineError::Encode)?;
        let shown = String::from_utf8_lossy(&bytes).trim_end().to_owned();
        if let Some(until) = self.stale_until.take() {
            // Let the late answer of the previous command come first, so
            // it is not taken for this one's.
            if let Ok(Err(e)) = tokio::time::timeout_at(until, self.drain_late_answer()).await {
                return Err(e);
            }
        }
        let collect = self.collect(request, &bytes, &shown);
        match tokio::time::timeout(request.timeout, collect).await {
            Ok(result) => result,
            Err(_) => {
                self.stale_until = Some(Instant::now() + request.timeout.min(LATE_ANSWER_GRACE));
                Err(AtEngineError::Timeout {
                    command: shown,
                    timeout: request.timeout,
                })
            }
        }
    }

    async fn collect(&mut self, request: &Request, bytes: &[u8], shown: &str) -> Result<AtResponse, AtEngineError> {
        self.write(bytes).await?;
        // The response lines of a command are named as the command
        // (`+CSQ` for `AT+CSQ`); any other known `+NAME:` is unsolicited.
        let name = request.command.name.as_str();
        let mut lines = Vec::new();
        let mut body = request.body.as_deref();
        loop {
            let item = self.next_item().await?;
            match item {
                Output::Blank | Output::Echo(_) => {}
                Output::Prompt => match body.take() {
                    Some(text) => self.write(text).await?,
                    None => tracing::debug!("unexpected prompt ignored"),
                },
                Output::Final(answer) => return finish(answer, lines, shown),
                Output::Info(info) if info.name != name && Urc::parse(&info).is_some() => self.unsolicited(info),
                line @ (Output::Info(_) | Output::Text(_)) => {
                    if lines.len() < self.options.max_response_lines {
                        lines.push(line);
                    }
                }
            }
        }
    }

    /// Reads up to the final result of a command that timed out; what
    /// else comes is handled as with no command in progress.
    async fn drain_late_answer(&mut self) -> Result<(), AtEngineError> {
        loop {
            match self.next_item().await? {
                Output::Final(answer) => {
                    tracing::debug!(?answer, "late answer to a command that timed out");
                    return Ok(());
                }
                other => self.idle_item(other),
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), AtEngineError> {
        self.line
            .write_all(bytes)
            .await
            .map_err(|e| AtEngineError::Closed(e.to_string()))?;
        self.line
            .flush()
            .await
            .map_err(|e| AtEngineError::Closed(e.to_string()))
    }

    /// The next well-formed item from the modem. Garbled lines (not UTF-8,
    /// control characters, too long) are logged and skipped. Cancel-safe:
    /// bytes stay in `buf` until a whole item is taken.
    async fn next_item(&mut self) -> Result<Output, AtEngineError> {
        loop {
            if self.skipping {
                match self.buf.windows(2).position(|w| w == b"\r\n") {
                    Some(end) => {
                        self.buf.drain(..end + 2);
                        self.skipping = false;
                    }
                    None => {
                        // Keep a trailing `\r`: it may start the `\r\n`.
                        let keep = usize::from(self.buf.last() == Some(&b'\r'));
                        self.buf.drain(..self.buf.len() - keep);
                    }
                }
            }
            match at::check(&self.buf, self.options.max_line) {
                Ok(Some(len)) => {
                    let parsed = Output::parse(&self.buf[..len]);
                    self.buf.drain(..len);
                    match parsed {
                        Ok(item) => return Ok(item),
                        Err(e) => tracing::warn!(error = %e, "garbled modem line skipped"),
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "overlong modem line discarded");
                    self.skipping = true;
                    continue;
                }
            }
            let mut chunk = [0u8; 512];
            let n = self
                .line
                .read(&mut chunk)
                .await
                .map_err(|e| AtEngineError::Closed(e.to_string()))?;
            if n == 0 {
                return Err(AtEngineError::Closed("end of stream".into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// A final result as the command's outcome.
fn finish(answer: Final, lines: Vec<Output>, shown: &str) -> Result<AtResponse, AtEngineError> {
    let command = shown.to_owned();
    match answer {
        Final::Ok => Ok(AtResponse { lines }),
        Final::Error => Err(AtEngineError::Error { command }),
        Final::CmeError(code) => Err(AtEngineError::Cme { command, code }),
        Final::CmsError(code) => Err(AtEngineError::Cms { command, code }),
        answer => Err(AtEngineError::Other { command, answer }),
    }
}

#[cfg(test)]
mod tests {
    use thingstead_proto::at::{Arg, Param, RegStatus};
    use tokio::io::DuplexStream;

    use super::*;

    /// The modem's end of the line: reads what the engine writes, answers as told.
    struct Modem {
        io: DuplexStream,
        buf: Vec<u8>,
    }

    impl Modem {
        async fn expect(&mut self, until: &[u8]) -> String {
            loop {
                if let Some(end) = self.buf.windows(until.len()).position(|w| w == until) {
                    let got: Vec<u8> = self.buf.drain(..end + until.len()).collect();
                    return String::from_utf8_lossy(&got).into_owned();
                }
                let mut chunk = [0u8; 256];
                let n = self.io.read(&mut chunk).await.expect("read");
                assert!(n > 0, "the engine closed the line");
                self.buf.extend_from_slice(&chunk[..n]);
            }
        }

        async fn say(&mut self, bytes: &[u8]) {
            self.io.write_all(bytes).await.expect("write");
        }
    }

    fn start() -> (AtEngine, UrcReceiver, Modem) {
        let (device, modem) = tokio::io::duplex(16 * 1024);
        let (engine, urcs) = AtEngine::spawn(device, EngineOptions::default());
        (
            engine,
            urcs,
            Modem {
                io: modem,
                buf: Vec::new(),
            },
        )
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn unsolicited_codes_during_a_command_are_kept_in_order() {
        let (engine, mut urcs, mut modem) = start();
        let task = tokio::spawn(async move { engine.run(Command::exec("+CSQ"), SECOND).await });
        assert_eq!(modem.expect(b"\r").await, "AT+CSQ\r");
        modem
            .say(b"\r\n+CMTI: \"SM\",3\r\n\r\n+CSQ: 20,99\r\n\r\n+CEREG: 5\r\n\r\nOK\r\n")
            .await;
        let answer = task.await.unwrap().expect("answered");
        assert_eq!(
            answer.lines,
            [Output::Info(Info::new("+CSQ", vec![Param::Int(20), Param::Int(99)]))]
        );
        assert_eq!(
            urcs.recv().await,
            Some(Urc::NewSms {
                storage: "SM".into(),
                index: 3
            })
        );
        assert!(matches!(
            urcs.recv().await,
            Some(Urc::Registration {
                status: RegStatus::Roaming,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn unsolicited_codes_with_no_command_in_progress_arrive() {
        let (_engine, mut urcs, mut modem) = start();
        modem.say(b"\r\n+UUSORD: 0,12\r\n\r\n+UUSOCL: 0\r\n").await;
        assert_eq!(urcs.recv().await, Some(Urc::SocketData { socket: 0, length: 12 }));
        assert_eq!(urcs.recv().await, Some(Urc::SocketClosed { socket: 0 }));
    }

    #[tokio::test]
    async fn a_timeout_is_per_command_and_a_late_answer_is_not_taken_for_the_next() {
        let (engine, _urcs, mut modem) = start();
        let slow = engine.run(Command::exec("+COPS"), Duration::from_millis(100)).await;
        assert!(matches!(slow, Err(AtEngineError::Timeout { .. })), "{slow:?}");
        modem.expect(b"\r").await;
        let engine2 = engine.clone();
        let next = tokio::spawn(async move { engine2.run(Command::read("+CPIN"), SECOND).await });
        // The late OK of +COPS comes before the next command is written.
        modem.say(b"\r\nOK\r\n").await;
        assert_eq!(modem.expect(b"\r").await, "AT+CPIN?\r");
        modem.say(b"\r\n+CME ERROR: 10\r\n").await;
        let err = next.await.unwrap().expect_err("no SIM");
        assert!(err.is_sim_missing(), "{err}");
    }

    #[tokio::test]
    async fn garbled_and_overlong_lines_are_skipped() {
        let (engine, _urcs, mut modem) = start();
        let task = tokio::spawn(async move { engine.run(Command::exec("+CIMI"), SECOND).await });
        modem.expect(b"\r").await;
        let mut noise = b"\r\n\xff\xfe\x07\r\n".to_vec();
        noise.extend(std::iter::repeat_n(b'x', 9000));
        noise.extend_from_slice(b"\r\n\r\n310170123456789\r\n\r\nOK\r\n");
        modem.say(&noise).await;
        let answer = task.await.unwrap().expect("answered");
        assert_eq!(answer.text(), Some("310170123456789"));
        assert_eq!(answer.lines.len(), 1, "{:?}", answer.lines);
    }

    #[tokio::test]
    async fn sms_text_is_written_at_the_prompt() {
        let (engine, _urcs, mut modem) = start();
        let cmd = Command::set("+CMGS", vec![Arg::Str("+15555550123".into())]);
        let body = at::encode_sms_body("hello").unwrap();
        let task = tokio::spawn(async move { engine.run_with_body(cmd, body, SECOND).await });
        assert_eq!(modem.expect(b"\r").await, "AT+CMGS=\"+15555550123\"\r");
        modem.say(b"\r\n> ").await;
        assert_eq!(modem.expect(&[at::CTRL_Z]).await, "hello\u{1a}");
        modem.say(b"\r\n+CMGS: 7\r\n\r\nOK\r\n").await;
        let answer = task.await.unwrap().expect("sent");
        assert_eq!(answer.info("+CMGS").and_then(|i| i.int(0)), Some(7));
    }

    #[tokio::test]
    async fn a_closed_line_fails_commands_instead_of_hanging() {
        let (engine, _urcs, modem) = start();
        drop(modem);
        let err = engine.run(Command::exec(""), SECOND).await.expect_err("closed");
        assert!(matches!(err, AtEngineError::Closed(_)), "{err}");
    }
}
