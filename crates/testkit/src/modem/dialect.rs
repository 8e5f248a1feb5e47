//! The simulator's task: reads command lines from the pty, answers in the
//! SARA-R4 dialect, writes unsolicited result codes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use thingstead_proto::at::{self, Arg, Command, Form};
use tokio::sync::mpsc;

use super::pty::Master;
use super::sockets::Sockets;
use super::{Control, SentSms, Shared, SimConfig};

/// The longest command line or SMS text accepted.
const MAX_LINE: usize = 8192;

/// A stored incoming SMS.
struct Sms {
    from: String,
    text: String,
    read: bool,
}

pub(crate) struct Modem {
    master: Master,
    shared: Arc<Mutex<Shared>>,
    control: mpsc::UnboundedSender<Control>,
    buf: Vec<u8>,
    echo: bool,
    cmee: i64,
    /// `+CMGS` waits for its text after the prompt: the destination.
    sms_to: Option<String>,
    inbox: BTreeMap<u32, Sms>,
    next_message_ref: i64,
    sockets: Sockets,
}

/// An answer: the lines to write (each already framed).
type Answer = Vec<u8>;

fn line(text: &str) -> Answer {
    format!("\r\n{text}\r\n").into_bytes()
}

fn ok() -> Answer {
    line("OK")
}

impl Modem {
    pub fn new(master: Master, shared: Arc<Mutex<Shared>>, control: mpsc::UnboundedSender<Control>) -> Self {
        Self {
            master,
            shared,
            control,
            buf: Vec::new(),
            echo: true,
            cmee: 0,
            sms_to: None,
            inbox: BTreeMap::new(),
            next_message_ref: 1,
            sockets: Sockets::default(),
        }
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn config(&self) -> SimConfig {
        self.shared().config.clone()
    }

    pub async fn run(mut self, mut events: mpsc::UnboundedReceiver<Control>) {
        let mut chunk = [0u8; 1024];
        loop {
            tokio::select! {
                read = self.master.read(&mut chunk) => {
                    let Ok(n) = read else { return };
                    self.buf.extend_from_slice(&chunk[..n]);
                    if self.handle_input().await.is_err() {
                        return;
                    }
                }
                event = events.recv() => {
                    let Some(event) = event else { return };
                    if self.handle_event(event).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Handles every whole command line (or SMS text) in the buffer.
    async fn handle_input(&mut self) -> std::io::Result<()> {
        loop {
            if let Some(to) = self.sms_to.clone() {
                let Ok(Some(len)) = at::check_sms_body(&self.buf, MAX_LINE) else {
                    return Ok(());
                };
                let body: Vec<u8> = self.buf.drain(..len).collect();
                self.sms_to = None;
                let answer = match at::parse_sms_body(&body) {
                    Ok(Some(text)) => {
                        self.shared().sent.push(SentSms { to, text });
                        let reference = self.next_message_ref;
                        self.next_message_ref += 1;
                        [line(&format!("+CMGS: {reference}")), ok()].concat()
                    }
                    Ok(None) => ok(),
                    Err(_) => self.cms_error(500, "unknown error"),
                };
                self.answer(answer).await?;
                continue;
            }
            let len = match at::check_command(&self.buf, MAX_LINE) {
                Ok(Some(len)) => len,
                Ok(None) => return Ok(()),
                Err(_) => {
                    self.buf.clear();
                    return Ok(());
                }
            };
            let raw: Vec<u8> = self.buf.drain(..len).collect();
            // Stray line feeds between commands are ignored, as modems do.
            let trimmed: Vec<u8> = raw.iter().copied().filter(|&b| b != b'\n').collect();
            if trimmed == b"\r" {
                continue;
            }
            if self.echo {
                self.master.write_all(&trimmed).await?;
            }
            let text = String::from_utf8_lossy(&trimmed).trim_end().to_owned();
            self.shared().commands.push(text);
            let answer = match Command::parse(&trimmed) {
                Ok(command) => self.execute(command).await,
                Err(_) => line("ERROR"),
            };
            self.answer(answer).await?;
        }
    }

    /// Writes an answer after the configured delay and garbage.
    async fn answer(&mut self, answer: Answer) -> std::io::Result<()> {
        let delay = self.config().answer_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let garble = {
            let mut shared = self.shared();
            let garble = shared.garble > 0;
            shared.garble = shared.garble.saturating_sub(1);
            garble
        };
        if garble {
            self.master.write_all(b"\r\n\xff\xfe\x01#%garbage\r\n").await?;
        }
        self.master.write_all(&answer).await
    }

    async fn handle_event(&mut self, event: Control) -> std::io::Result<()> {
        let urc = match event {
            Control::DeliverSms { from, text } => {
                let index = self.inbox.keys().next_back().map_or(1, |i| i + 1);
                self.inbox.insert(
                    index,
                    Sms {
                        from,
                        text,
                        read: false,
                    },
                );
                line(&format!("+CMTI: \"SM\",{index}"))
            }
            Control::Registration => {
                let stat = self.config().registration;
                let mut urc = [line(&format!("+CREG: {stat}")), line(&format!("+CEREG: {stat}"))].concat();
                if !matches!(stat, 1 | 5) {
                    for id in self.sockets.ids() {
                        self.sockets.close(id);
                        urc.extend(line(&format!("+UUSOCL: {id}")));
                    }
                }
                urc
            }
            Control::SocketData { socket, bytes } => match self.sockets.arrived(socket, &bytes) {
                Some(waiting) => line(&format!("+UUSORD: {socket},{waiting}")),
                None => return Ok(()),
            },
            Control::SocketClosed { socket } => {
                if !self.sockets.peer_closed(socket) {
                    return Ok(());
                }
                line(&format!("+UUSOCL: {socket}"))
            }
        };
        self.master.write_all(&urc).await
    }

    fn cme_error(&self, code: u16, text: &str) -> Answer {
        match self.cmee {
            1 => line(&format!("+CME ERROR: {code}")),
            2 => line(&format!("+CME ERROR: {text}")),
            _ => line("ERROR"),
        }
    }

    fn cms_error(&self, code: u16, text: &str) -> Answer {
        match self.cmee {
            1 => line(&format!("+CMS ERROR: {code}")),
            2 => line(&format!("+CMS ERROR: {text}")),
            _ => line("ERROR"),
        }
    }

    async fn execute(&mut self, command: Command) -> Answer {
        let config = self.config();
        let registered = matches!(config.registration, 1 | 5);
        let sim = config.sim_present;
        let no_sim = || self.cme_error(10, "SIM not inserted");
        let args = command.args().to_vec();
        let int = |i: usize| match args.get(i) {
            Some(Arg::Int(n)) => Some(*n),
            _ => None,
        };
        let string = |i: usize| match args.get(i) {
            Some(Arg::Str(s)) => Some(s.clone()),
            _ => None,
        };
        match (command.name.as_str(), &command.form) {
            ("", Form::Exec) => ok(),
            ("E0", Form::Exec) => {
                self.echo = false;
                ok()
            }
            ("E1", Form::Exec) => {
                self.echo = true;
                ok()
            }
            ("+CMEE", Form::Set(_)) => match int(0) {
                Some(n @ 0..=2) => {
                    self.cmee = n;
                    ok()
                }
                _ => line("ERROR"),
            },
            ("+CGMI", Form::Exec) => [line("u-blox"), ok()].concat(),
            ("+CGMM", Form::Exec) | ("I", Form::Exec) => [line("SARA-R410M-02B"), ok()].concat(),
            ("+CPIN", Form::Read) if sim => [line("+CPIN: READY"), ok()].concat(),
            ("+CCID", Form::Exec) if sim => [line(&format!("+CCID: {}", config.iccid)), ok()].concat(),
            ("+CIMI", Form::Exec) if sim => [line(&config.imsi), ok()].concat(),
            ("+CPIN", Form::Read) | ("+CCID", Form::Exec) | ("+CIMI", Form::Exec) => no_sim(),
            ("+CSQ", Form::Exec) => {
                let rssi = if sim { config.rssi } else { 99 };
                [line(&format!("+CSQ: {rssi},99")), ok()].concat()
            }
            ("+COPS", Form::Read) if sim && registered => {
                [line(&format!("+COPS: 0,0,\"{}\",7", config.operator)), ok()].concat()
            }
            ("+COPS", Form::Read) => [line("+COPS: 0"), ok()].concat(),
            ("+CREG", Form::Read) | ("+CEREG", Form::Read) => {
                let stat = if sim { config.registration } else { 0 };
                [line(&format!("{}: 0,{stat}", command.name)), ok()].concat()
            }
            ("+CREG" | "+CEREG" | "+CMGF" | "+UDCONF", Form::Set(_)) => ok(),
            ("+CMGS", Form::Set(_)) => match string(0) {
                Some(_) if !sim => no_sim(),
                Some(_) if !registered => self.cms_error(331, "no network service"),
                Some(to) => {
                    self.sms_to = Some(to);
                    b"\r\n> ".to_vec()
                }
                None => line("ERROR"),
            },
            ("+CMGR", Form::Set(_)) => {
                let found = int(0)
                    .and_then(|i| u32::try_from(i).ok())
                    .and_then(|i| self.inbox.get_mut(&i));
                match found {
                    Some(sms) => {
                        let status = if sms.read { "REC READ" } else { "REC UNREAD" };
                        sms.read = true;
                        let head = format!("+CMGR: \"{status}\",\"{}\",,\"26/11/28,12:00:00+00\"", sms.from);
                        [line(&head), format!("{}\r\n", sms.text).into_bytes(), ok()].concat()
                    }
                    None => self.cms_error(321, "invalid memory index"),
                }
            }
            ("+CMGD", Form::Set(_)) => {
                if let Some(i) = int(0).and_then(|i| u32::try_from(i).ok()) {
                    self.inbox.remove(&i);
                }
                ok()
            }
            ("+USOCR", Form::Set(_)) if !registered || !sim => self.cme_error(3, "operation not allowed"),
            ("+USOCR", Form::Set(_)) => match self.sockets.create() {
                Some(id) => [line(&format!("+USOCR: {id}")), ok()].concat(),
                None => self.cme_error(3, "operation not allowed"),
            },
            ("+USOCO", Form::Set(_)) => {
                let target = (int(0), string(1), int(2));
                let (Some(id), Some(host), Some(port)) = target else {
                    return line("ERROR");
                };
                let (Ok(id), Ok(port)) = (u8::try_from(id), u16::try_from(port)) else {
                    return line("ERROR");
                };
                if !registered {
                    return self.cme_error(3, "operation not allowed");
                }
                match self.sockets.connect(id, &host, port, &self.control).await {
                    Ok(()) => ok(),
                    Err(_) => self.cme_error(3, "operation not allowed"),
                }
            }
            ("+USOWR", Form::Set(_)) => {
                let (Some(id), Some(len), Some(data)) = (int(0), int(1), string(2)) else {
                    return line("ERROR");
                };
                let Ok(id) = u8::try_from(id) else { return line("ERROR") };
                let Ok(bytes) = hex::decode(&data) else {
                    return line("ERROR");
                };
                if usize::try_from(len).ok() != Some(bytes.len()) {
                    return line("ERROR");
                }
                match self.sockets.write(id, &bytes).await {
                    Ok(()) => [line(&format!("+USOWR: {id},{len}")), ok()].concat(),
                    Err(_) => self.cme_error(3, "operation not allowed"),
                }
            }
            ("+USORD", Form::Set(_)) => {
                let (Some(id), Some(max)) = (int(0), int(1)) else {
                    return line("ERROR");
                };
                let (Ok(id), Ok(max)) = (u8::try_from(id), usize::try_from(max)) else {
                    return line("ERROR");
                };
                match self.sockets.read(id, max.min(1024)) {
                    Some(bytes) => {
                        let data = hex::encode_upper(&bytes);
                        [line(&format!("+USORD: {id},{},\"{data}\"", bytes.len())), ok()].concat()
                    }
                    None => self.cme_error(3, "operation not allowed"),
                }
            }
            ("+USOCL", Form::Set(_)) => match int(0).and_then(|i| u8::try_from(i).ok()) {
                Some(id) if self.sockets.close(id) => ok(),
                _ => self.cme_error(3, "operation not allowed"),
            },
            _ => line("ERROR"),
        }
    }
}
