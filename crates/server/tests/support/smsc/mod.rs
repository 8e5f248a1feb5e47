//! A real SMSC for tests: the `smpp34` crate's SMPP 3.4 server (not code of
//! this project), started in-process on 127.0.0.1, recording what it receives.
//!
//! `smpp34::SmppServer` binds the port it is given and does not report the
//! port it got, so [`TestSmsc::start`] asks the OS for a free port (bind to
//! port 0, read it, release it) and starts the server there, retrying with a
//! new port if someone else took it in between.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use smpp34::server::ESME;
use smpp34::{
    SmppConnectionInformation, SmppError, SmppServer, SmppServerListener, bind_transmitter, bind_transmitter_resp,
    submit_sm, submit_sm_resp,
};

/// The credentials the test SMSC accepts.
pub const SYSTEM_ID: &str = "esme1";
/// The password the test SMSC accepts.
pub const PASSWORD: &str = "secret";

/// One bind_transmitter the SMSC received.
#[derive(Debug, Clone)]
pub struct BindRecord {
    pub session_id: String,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub interface_version: u8,
    pub accepted: bool,
}

/// One submit_sm the SMSC received.
#[derive(Debug, Clone)]
pub struct SubmitRecord {
    pub session_id: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: String,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: String,
    pub data_coding: u8,
    pub short_message: Vec<u8>,
    /// The message_payload TLV (0x0424), when the text came that way.
    pub message_payload: Option<Vec<u8>>,
    /// The message id the SMSC answered (None when it rejected the submit).
    pub message_id: Option<String>,
}

impl SubmitRecord {
    /// The user data, from short_message or message_payload.
    pub fn user_data(&self) -> &[u8] {
        self.message_payload.as_deref().unwrap_or(&self.short_message)
    }
}

/// Timers of the SMSC's sessions.
#[derive(Debug, Clone, Copy)]
pub struct SmscTimers {
    /// How often the SMSC sends its own enquire_link to a bound ESME.
    pub enquire_link_ms: u64,
    /// The SMSC closes a session from which it read nothing for this long.
    pub inactivity_ms: u64,
    /// How long the SMSC waits for a response (enquire_link_resp...) before dropping the session.
    pub response_ms: u64,
}

impl Default for SmscTimers {
    fn default() -> Self {
        Self {
            enquire_link_ms: 30_000,
            inactivity_ms: 300_000,
            response_ms: 10_000,
        }
    }
}

#[derive(Default)]
struct State {
    binds: Mutex<Vec<BindRecord>>,
    submits: Mutex<Vec<SubmitRecord>>,
    esmes: Mutex<HashMap<String, Arc<ESME>>>,
    closed_sessions: Mutex<Vec<String>>,
    /// destination_addr → status to reject its submit_sm with.
    rejections: Mutex<HashMap<String, SmppError>>,
    next_id: AtomicU64,
}

struct Handler {
    state: Arc<State>,
}

#[async_trait]
impl SmppServerListener for Handler {
    async fn on_bind_transmitter(
        &self,
        req: bind_transmitter,
        _c: &SmppConnectionInformation,
        session_id: &String,
    ) -> bind_transmitter_resp {
        let accepted = req.system_id == SYSTEM_ID && req.password == PASSWORD;
        self.state.binds.lock().unwrap().push(BindRecord {
            session_id: session_id.clone(),
            system_id: req.system_id.clone(),
            password: req.password.clone(),
            system_type: req.system_type.clone(),
            interface_version: req.interface_version,
            accepted,
        });
        if accepted {
            req.accept("TestSMSC".to_string(), Some(0x34))
        } else {
            req.reject(SmppError::ESME_RINVPASWD)
        }
    }

    async fn on_submit_sm(
        &self,
        req: submit_sm,
        _c: &SmppConnectionInformation,
        session_id: &String,
    ) -> submit_sm_resp {
        let rejection = self
            .state
            .rejections
            .lock()
            .unwrap()
            .get(&req.destination_addr)
            .copied();
        let message_id = match rejection {
            Some(_) => None,
            None => Some(format!(
                "smsc-{}",
                self.state.next_id.fetch_add(1, Ordering::SeqCst) + 1
            )),
        };
        self.state.submits.lock().unwrap().push(SubmitRecord {
            session_id: session_id.clone(),
            source_addr_ton: req.source_addr_ton,
            source_addr_npi: req.source_addr_npi,
            source_addr: req.source_addr.clone(),
            dest_addr_ton: req.dest_addr_ton,
            dest_addr_npi: req.dest_addr_npi,
            destination_addr: req.destination_addr.clone(),
            data_coding: req.data_coding,
            short_message: req.short_message.clone(),
            message_payload: req.tlvs.iter().find(|t| t.tag == 0x0424).map(|t| t.value.clone()),
            message_id: message_id.clone(),
        });
        match (rejection, message_id) {
            (Some(error), _) => req.reject(error),
            (None, Some(id)) => req.accept(id),
            (None, None) => req.reject(SmppError::ESME_RSYSERR),
        }
    }

    async fn on_esme_bound(&self, esme: ESME, session_id: &String) {
        self.state
            .esmes
            .lock()
            .unwrap()
            .insert(session_id.clone(), Arc::new(esme));
    }

    async fn on_esme_unbound(&self, session_id: &String) {
        self.state.esmes.lock().unwrap().remove(session_id);
        self.state.closed_sessions.lock().unwrap().push(session_id.clone());
    }
}

/// A running (or stopped) smpp34 SMSC on 127.0.0.1.
pub struct TestSmsc {
    port: u16,
    timers: SmscTimers,
    state: Arc<State>,
    server: Option<SmppServer>,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

impl TestSmsc {
    /// Starts an SMSC with default timers on a free port.
    pub async fn start() -> Self {
        Self::start_with(SmscTimers::default()).await
    }

    /// Starts an SMSC with these timers on a free port.
    pub async fn start_with(timers: SmscTimers) -> Self {
        let mut smsc = Self {
            port: 0,
            timers,
            state: Arc::new(State::default()),
            server: None,
        };
        for _ in 0..20 {
            smsc.port = free_port();
            if smsc.try_start().await {
                return smsc;
            }
        }
        panic!("could not start the smpp34 SMSC on any free port");
    }

    async fn try_start(&mut self) -> bool {
        let handler = Arc::new(Handler {
            state: self.state.clone(),
        });
        let mut server = SmppServer::new_with_default_timers(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            self.port,
            handler,
            5_000,
            self.timers.enquire_link_ms,
            self.timers.inactivity_ms,
            self.timers.response_ms,
            1_500,
        );
        server.start().await;
        let alive = server.is_alive();
        if alive {
            self.server = Some(server);
        }
        alive
    }

    /// `host:port` of the SMSC.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops accepting connections (bound sessions stay up; see [`Self::unbind_all`]).
    pub async fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop().await;
        }
        // The listening socket goes when the aborted accept task is dropped.
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))
            .await
            .is_ok()
        {
            assert!(Instant::now() < deadline, "SMSC port still accepting after stop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts again on the same port, keeping what was recorded.
    pub async fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.try_start().await {
            assert!(
                Instant::now() < deadline,
                "could not restart the SMSC on port {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `unbind` from the SMSC to every bound ESME; returns how many it sent.
    ///
    /// smpp34 1.5's session loop has no case for an incoming `unbind_resp`
    /// (it answers it with generic_nack), so `send_unbind` never reports
    /// success; what shows the ESME obeyed is the session closing, see
    /// [`Self::closed_sessions`].
    pub async fn unbind_all(&self) -> usize {
        let esmes: Vec<Arc<ESME>> = self.state.esmes.lock().unwrap().values().cloned().collect();
        let sent = esmes.len();
        for esme in esmes {
            let _ = esme.send_unbind().await;
        }
        sent
    }

    /// Rejects every submit_sm to `destination_addr` (as the SMSC sees it) with `status`.
    pub fn reject_destination(&self, destination_addr: &str, status: SmppError) {
        self.state
            .rejections
            .lock()
            .unwrap()
            .insert(destination_addr.to_string(), status);
    }

    pub fn binds(&self) -> Vec<BindRecord> {
        self.state.binds.lock().unwrap().clone()
    }

    pub fn submits(&self) -> Vec<SubmitRecord> {
        self.state.submits.lock().unwrap().clone()
    }

    /// Sessions currently bound.
    pub fn bound_sessions(&self) -> Vec<String> {
        self.state.esmes.lock().unwrap().keys().cloned().collect()
    }

    /// Sessions that ended (closed by either side).
    pub fn closed_sessions(&self) -> Vec<String> {
        self.state.closed_sessions.lock().unwrap().clone()
    }

    /// Waits until `check` holds, for at most `within`.
    pub async fn wait_for(&self, within: Duration, mut check: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if check(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
