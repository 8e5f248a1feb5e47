//! SMS over SMPP 3.4: an ESME bound as a transmitter to the configured SMSC.
//!
//! The provider binds lazily (`bind_transmitter`) on the first send and keeps
//! one session for all sends. While bound, [rusmppc] sends `enquire_link`
//! every [`SmppSettings::enquire_link_secs`] and answers the SMSC's own
//! `enquire_link`s. When the link is lost (TCP closed, an `enquire_link` left
//! unanswered, an `unbind` from the SMSC) the session is dropped and the next
//! send connects and binds again.
//!
//! rusmppc speaks SMPP 5.0 on the wire; every PDU used here (bind_transmitter,
//! submit_sm, enquire_link, unbind) has the same layout in 3.4, so the bind
//! announces `interface_version` 0x34 with the library's version check
//! disabled.
//!
//! Message encoding: text made only of ASCII goes out with `data_coding` 0
//! (SMSC default alphabet) as ASCII octets, anything else as UCS-2
//! (`data_coding` 8, UTF-16BE). Text that does not fit one SMS (160 octets in
//! the default alphabet, 140 in UCS-2) goes in the `message_payload` optional
//! parameter with an empty `short_message`, and the SMSC segments it.
//!
//! Failure classes (see [`SmsSendError`]):
//! - Transient: the SMSC cannot be reached, the bind is refused (a
//!   configuration problem, not the message's), the link drops during the
//!   send, a wait runs past `timeout_secs`, or `submit_sm_resp` carries a
//!   throttling/queue-full/system-error status (`ESME_RTHROTTLED`,
//!   `ESME_RMSGQFUL`, `ESME_RSYSERR`, `ESME_RINVBNDSTS`, ...).
//! - Permanent: the destination is not an E.164 number, the text cannot be
//!   encoded, or `submit_sm_resp` carries any other non-zero status
//!   (`ESME_RINVDSTADR`, `ESME_RINVMSGLEN`, ...).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::{Stream, StreamExt};
use rusmpp::pdus::{BindTransmitter, DeliverSmResp, SubmitSm};
use rusmpp::tlvs::MessageSubmissionRequestTlvValue;
use rusmpp::types::{AnyOctetString, COctetString, OctetString};
use rusmpp::values::{
    DataCoding, EsmClass, InterfaceVersion, MessagePayload, Npi, RegisteredDelivery, ServiceType, Ton,
};
use rusmpp::{CommandId, CommandStatus};
use rusmppc::{Client, ConnectionBuilder, Event};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::provider::{OutboundSms, SmsProvider, SmsSendError};

/// Octets of `short_message` that fit one SMS in the SMSC default alphabet
/// (160 septets, packed by the SMSC).
const MAX_SINGLE_DEFAULT_OCTETS: usize = 160;
/// Octets that fit one SMS in UCS-2 (70 characters).
const MAX_SINGLE_UCS2_OCTETS: usize = 140;
/// The largest `message_payload` value (its length field is 16 bits).
const MAX_PAYLOAD_OCTETS: usize = 65_535;

/// Settings of the SMPP provider (`[sms.smpp]`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmppSettings {
    /// The SMSC as `host:port` (or an `smpp://host:port` URL).
    pub addr: String,
    /// `system_id` of the bind (at most 15 characters).
    pub system_id: String,
    /// `password` of the bind (at most 8 characters). Masked in `Debug`.
    pub password: String,
    /// `system_type` of the bind (at most 12 characters; often empty).
    pub system_type: String,
    /// The sender: `+E164` or digits (numeric), or letters (alphanumeric, at
    /// most 11 characters); empty lets the SMSC choose.
    pub source_addr: String,
    /// Seconds between `enquire_link`s while bound; 0 disables them.
    pub enquire_link_secs: u64,
    /// Bound on every wait: connect, bind, each response, `enquire_link_resp`.
    pub timeout_secs: u64,
}

impl Default for SmppSettings {
    fn default() -> Self {
        Self {
            addr: String::new(),
            system_id: String::new(),
            password: String::new(),
            system_type: String::new(),
            source_addr: String::new(),
            enquire_link_secs: 30,
            timeout_secs: 10,
        }
    }
}

impl fmt::Debug for SmppSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmppSettings")
            .field("addr", &crate::redact::url(&self.addr))
            .field("system_id", &self.system_id)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("system_type", &self.system_type)
            .field("source_addr", &self.source_addr)
            .field("enquire_link_secs", &self.enquire_link_secs)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl SmppSettings {
    /// Checks what can be checked without the SMSC: an address, field lengths
    /// and a usable `source_addr`. Call it at start-up to fail fast; a send
    /// with invalid settings fails as Transient (the SMS itself is fine).
    pub fn validate(&self) -> Result<(), String> {
        if self.addr.trim().is_empty() {
            return Err("sms.smpp.addr is empty (expected host:port)".into());
        }
        if self.timeout_secs == 0 {
            return Err("sms.smpp.timeout_secs must be at least 1".into());
        }
        self.bind_pdu()?;
        source_address(&self.source_addr)?;
        Ok(())
    }

    fn url(&self) -> String {
        let addr = self.addr.trim();
        if addr.contains("://") {
            addr.to_string()
        } else {
            format!("smpp://{addr}")
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    fn bind_pdu(&self) -> Result<BindTransmitter, String> {
        Ok(BindTransmitter::builder()
            .system_id(c_octet("system_id", &self.system_id)?)
            .password(c_octet("password", &self.password)?)
            .system_type(c_octet("system_type", &self.system_type)?)
            .interface_version(InterfaceVersion::Smpp3_4)
            .addr_ton(Ton::Unknown)
            .addr_npi(Npi::Unknown)
            .address_range(COctetString::empty())
            .build())
    }
}

fn c_octet<const MIN: usize, const MAX: usize>(field: &str, value: &str) -> Result<COctetString<MIN, MAX>, String> {
    COctetString::from_str(value).map_err(|e| {
        format!(
            "sms.smpp.{field} is not usable (at most {} ASCII characters): {e}",
            MAX - 1
        )
    })
}

/// The source address with its TON/NPI, from the configured `source_addr`.
fn source_address(source: &str) -> Result<(Ton, Npi, COctetString<1, 21>), String> {
    let source = source.trim();
    let (ton, npi, value) = if source.is_empty() {
        (Ton::Unknown, Npi::Unknown, "")
    } else if let Some(digits) = source.strip_prefix('+') {
        (Ton::International, Npi::Isdn, digits)
    } else if source.bytes().all(|b| b.is_ascii_digit()) {
        (Ton::Unknown, Npi::Isdn, source)
    } else {
        if source.chars().count() > 11 {
            return Err(format!(
                "sms.smpp.source_addr {source:?}: an alphanumeric sender has at most 11 characters"
            ));
        }
        (Ton::Alphanumeric, Npi::Unknown, source)
    };
    Ok((ton, npi, c_octet("source_addr", value)?))
}

/// The destination in international form without the `+` (TON 1, NPI 1).
fn destination_digits(destination: &str) -> Result<String, String> {
    let digits = destination
        .trim()
        .strip_prefix('+')
        .ok_or_else(|| format!("destination {destination:?} is not an E.164 number (it must start with +)"))?;
    let valid =
        (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    if !valid {
        return Err(format!(
            "destination {destination:?} is not an E.164 number (+ and 2 to 15 digits)"
        ));
    }
    Ok(digits.to_string())
}

/// The text as (data_coding, octets).
fn encode_text(text: &str) -> (DataCoding, Vec<u8>) {
    if text.is_ascii() {
        (DataCoding::McSpecific, text.as_bytes().to_vec())
    } else {
        (
            DataCoding::Ucs2,
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        )
    }
}

/// Builds the submit_sm for one SMS.
fn submit_pdu(settings: &SmppSettings, sms: &OutboundSms) -> Result<SubmitSm, SmsSendError> {
    let destination = destination_digits(&sms.destination).map_err(SmsSendError::Permanent)?;
    let destination = COctetString::from_string(destination).map_err(|e| SmsSendError::Permanent(e.to_string()))?;
    let (source_ton, source_npi, source) = source_address(&settings.source_addr).map_err(SmsSendError::Transient)?;
    let (data_coding, octets) = encode_text(&sms.text);
    let single_limit = match data_coding {
        DataCoding::Ucs2 => MAX_SINGLE_UCS2_OCTETS,
        _ => MAX_SINGLE_DEFAULT_OCTETS,
    };
    if octets.len() > MAX_PAYLOAD_OCTETS {
        return Err(SmsSendError::Permanent(format!(
            "text of {} octets is too long for SMPP",
            octets.len()
        )));
    }
    let builder = SubmitSm::builder()
        .service_type(ServiceType::default())
        .source_addr_ton(source_ton)
        .source_addr_npi(source_npi)
        .source_addr(source)
        .dest_addr_ton(Ton::International)
        .dest_addr_npi(Npi::Isdn)
        .destination_addr(destination)
        .esm_class(EsmClass::default())
        .registered_delivery(RegisteredDelivery::default())
        .data_coding(data_coding);
    let pdu = if octets.len() <= single_limit {
        let short = OctetString::from_vec(octets).map_err(|e| SmsSendError::Permanent(e.to_string()))?;
        builder.short_message(short).build()
    } else {
        builder
            .short_message(OctetString::empty())
            .push_tlv(MessageSubmissionRequestTlvValue::MessagePayload(MessagePayload::new(
                AnyOctetString::from(octets),
            )))
            .build()
    };
    Ok(pdu)
}

/// Whether a non-zero `command_status` in a response is worth retrying.
fn status_is_transient(status: CommandStatus) -> bool {
    matches!(
        status,
        CommandStatus::EsmeRthrottled
            | CommandStatus::EsmeRmsgqful
            | CommandStatus::EsmeRsyserr
            | CommandStatus::EsmeRinvbndsts
            | CommandStatus::EsmeRxTAppn
            | CommandStatus::EsmeRunknownerr
    )
}

/// One bound transmitter session.
struct Session {
    generation: u64,
    client: Client,
    /// Cleared by the event task when the connection ends.
    alive: Arc<AtomicBool>,
    events: JoinHandle<()>,
}

impl Session {
    fn is_usable(&self) -> bool {
        self.alive.load(Ordering::SeqCst) && self.client.is_active()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The event task holds a client handle; once it is gone and the last
        // handle is dropped, rusmppc's connection task ends and closes the socket.
        self.events.abort();
    }
}

/// Sends SMS through an SMPP 3.4 SMSC; see the module documentation.
pub struct SmppProvider {
    settings: SmppSettings,
    session: Mutex<Option<Session>>,
    generations: AtomicU64,
}

impl SmppProvider {
    /// A provider for these settings. Nothing connects until the first send.
    pub fn new(settings: SmppSettings) -> Self {
        Self {
            settings,
            session: Mutex::new(None),
            generations: AtomicU64::new(0),
        }
    }

    /// The settings this provider was built with.
    pub fn settings(&self) -> &SmppSettings {
        &self.settings
    }

    /// Whether a bound session is currently open.
    pub async fn is_bound(&self) -> bool {
        self.session.lock().await.as_ref().is_some_and(Session::is_usable)
    }

    /// Unbinds and closes the session, if any (for shutdown). Bounded by `timeout_secs`.
    pub async fn close(&self) {
        let session = self.session.lock().await.take();
        if let Some(session) = session {
            let timeout = self.settings.timeout();
            let _ = tokio::time::timeout(timeout, session.client.unbind()).await;
            let _ = tokio::time::timeout(timeout, session.client.close_and_wait()).await;
            tracing::info!(addr = %crate::redact::url(&self.settings.addr), "SMPP session closed");
        }
    }

    /// The current session's client, connecting and binding if there is none.
    async fn client(&self) -> Result<(u64, Client), SmsSendError> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref() {
            if session.is_usable() {
                return Ok((session.generation, session.client.clone()));
            }
            tracing::info!(addr = %crate::redact::url(&self.settings.addr), "SMPP session lost; reconnecting");
            *slot = None;
        }
        let session = self.connect().await?;
        let found = (session.generation, session.client.clone());
        *slot = Some(session);
        Ok(found)
    }

    async fn connect(&self) -> Result<Session, SmsSendError> {
        let settings = &self.settings;
        let bind = settings.bind_pdu().map_err(SmsSendError::Transient)?;
        if settings.addr.trim().is_empty() {
            return Err(SmsSendError::Transient("sms.smpp.addr is empty".into()));
        }
        // The address may be a URL with credentials: only ever shown masked.
        let addr = crate::redact::url(&settings.addr);
        let timeout = settings.timeout();
        let enquire_link = (settings.enquire_link_secs > 0).then(|| Duration::from_secs(settings.enquire_link_secs));
        let connecting = ConnectionBuilder::new()
            .disable_interface_version_check()
            .with_enquire_link_interval(enquire_link)
            .enquire_link_response_timeout(timeout)
            .response_timeout(timeout)
            .connect(settings.url());
        let (client, events) = match tokio::time::timeout(timeout, connecting).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => {
                let e = crate::redact::url(&e.to_string());
                tracing::warn!(addr = %addr, error = %e, "cannot connect to the SMSC");
                return Err(SmsSendError::Transient(format!(
                    "cannot connect to the SMSC at {addr}: {e}"
                )));
            }
            Err(_) => {
                tracing::warn!(addr = %addr, ?timeout, "connecting to the SMSC timed out");
                return Err(SmsSendError::Transient(format!(
                    "connecting to the SMSC at {addr} timed out"
                )));
            }
        };
        let generation = self.generations.fetch_add(1, Ordering::SeqCst) + 1;
        let alive = Arc::new(AtomicBool::new(true));
        let events = tokio::spawn(watch_events(client.clone(), events, alive.clone(), generation, timeout));
        let session = Session {
            generation,
            client: client.clone(),
            alive,
            events,
        };

        match tokio::time::timeout(timeout, client.bind_transmitter(bind)).await {
            Ok(Ok(resp)) => {
                tracing::info!(
                    addr = %addr,
                    system_id = %settings.system_id,
                    smsc = %resp.system_id,
                    session = generation,
                    "bound to the SMSC as a transmitter"
                );
                Ok(session)
            }
            Ok(Err(rusmppc::error::Error::UnexpectedResponse { response })) => {
                let status = response.status();
                tracing::error!(addr = %addr, system_id = %settings.system_id, ?status, "the SMSC refused the bind");
                let _ = tokio::time::timeout(timeout, session.client.close()).await;
                Err(SmsSendError::Transient(format!(
                    "the SMSC refused the bind: {status:?}"
                )))
            }
            Ok(Err(e)) => {
                tracing::warn!(addr = %addr, error = %e, "bind_transmitter failed");
                let _ = tokio::time::timeout(timeout, session.client.close()).await;
                Err(SmsSendError::Transient(format!("bind_transmitter failed: {e}")))
            }
            Err(_) => {
                tracing::warn!(addr = %addr, ?timeout, "bind_transmitter timed out");
                let _ = tokio::time::timeout(timeout, session.client.close()).await;
                Err(SmsSendError::Transient(format!(
                    "bind_transmitter timed out after {timeout:?}"
                )))
            }
        }
    }

    /// Drops the session of `generation` if it is still the current one.
    async fn discard(&self, generation: u64, why: &str) {
        let mut slot = self.session.lock().await;
        if slot.as_ref().is_some_and(|s| s.generation == generation) {
            tracing::warn!(addr = %crate::redact::url(&self.settings.addr), session = generation, why, "dropping the SMPP session");
            if let Some(session) = slot.take() {
                let _ = tokio::time::timeout(self.settings.timeout(), session.client.close()).await;
            }
        }
    }
}

/// Reads the session's events until the connection ends: answers an `unbind`
/// from the SMSC (then closes) and stray `deliver_sm`s, logs errors.
async fn watch_events(
    client: Client,
    mut events: impl Stream<Item = Event> + Unpin,
    alive: Arc<AtomicBool>,
    generation: u64,
    timeout: Duration,
) {
    while let Some(event) = events.next().await {
        match event {
            Event::Incoming(command) => match command.id() {
                CommandId::Unbind => {
                    tracing::info!(session = generation, "the SMSC unbound the session");
                    alive.store(false, Ordering::SeqCst);
                    let _ = tokio::time::timeout(timeout, client.unbind_resp(command.sequence_number())).await;
                    let _ = tokio::time::timeout(timeout, client.close()).await;
                }
                CommandId::DeliverSm => {
                    let resp = client.deliver_sm_resp(command.sequence_number(), DeliverSmResp::default());
                    let _ = tokio::time::timeout(timeout, resp).await;
                }
                id => tracing::debug!(session = generation, ?id, "SMPP command ignored"),
            },
            Event::Error(error) => {
                tracing::warn!(session = generation, %error, "SMPP session error");
            }
        }
    }
    alive.store(false, Ordering::SeqCst);
    tracing::info!(session = generation, "SMPP connection closed");
}

#[async_trait::async_trait]
impl SmsProvider for SmppProvider {
    fn name(&self) -> &'static str {
        "smpp"
    }

    async fn send(&self, sms: &OutboundSms) -> Result<String, SmsSendError> {
        let pdu = submit_pdu(&self.settings, sms)?;
        let timeout = self.settings.timeout();
        let (generation, client) = self.client().await?;
        let result = tokio::time::timeout(timeout, client.submit_sm(pdu)).await;
        use rusmppc::error::Error;
        match result {
            Ok(Ok(resp)) => {
                let message_id = resp.message_id().as_str().to_string();
                tracing::debug!(sms = sms.id, %message_id, session = generation, "submit_sm accepted");
                Ok(message_id)
            }
            Ok(Err(Error::UnexpectedResponse { response })) => {
                let status = response.status();
                let code = u32::from(status);
                if response.id() != CommandId::SubmitSmResp || status == CommandStatus::EsmeRinvbndsts {
                    // A generic_nack or a bind-state complaint: the session is suspect.
                    self.discard(generation, "unexpected response to submit_sm").await;
                }
                if status_is_transient(status) {
                    tracing::warn!(sms = sms.id, ?status, code, "submit_sm refused for now");
                    Err(SmsSendError::Transient(format!(
                        "SMSC status {status:?} (0x{code:08x})"
                    )))
                } else {
                    tracing::warn!(sms = sms.id, ?status, code, "submit_sm rejected");
                    Err(SmsSendError::Permanent(format!(
                        "SMSC status {status:?} (0x{code:08x})"
                    )))
                }
            }
            Ok(Err(Error::Encode(e))) => {
                tracing::warn!(sms = sms.id, error = %e, "submit_sm cannot be encoded");
                Err(SmsSendError::Permanent(format!("submit_sm cannot be encoded: {e}")))
            }
            Ok(Err(Error::ResponseTimeout { timeout, .. })) => {
                tracing::warn!(sms = sms.id, ?timeout, "no submit_sm_resp in time");
                Err(SmsSendError::Transient(format!("no submit_sm_resp within {timeout:?}")))
            }
            Ok(Err(e)) => {
                self.discard(generation, "submit_sm failed").await;
                tracing::warn!(sms = sms.id, error = %e, "submit_sm failed");
                Err(SmsSendError::Transient(format!("submit_sm failed: {e}")))
            }
            Err(_) => {
                tracing::warn!(sms = sms.id, ?timeout, "submit_sm timed out");
                Err(SmsSendError::Transient(format!(
                    "submit_sm timed out after {timeout:?}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_e164() {
        assert_eq!(destination_digits("+15551234567").unwrap(), "15551234567");
        assert!(destination_digits("15551234567").is_err());
        assert!(destination_digits("+1555abc").is_err());
        assert!(destination_digits("+0123").is_err());
        assert!(destination_digits("+1234567890123456").is_err());
    }

    #[test]
    fn text_encoding_picks_ucs2_for_non_ascii() {
        assert_eq!(encode_text("hi").1, b"hi");
        let (coding, octets) = encode_text("é€");
        assert_eq!(coding, DataCoding::Ucs2);
        assert_eq!(octets, vec![0x00, 0xe9, 0x20, 0xac]);
    }

    #[test]
    fn password_is_masked() {
        let settings = SmppSettings {
            password: "hunter2".into(),
            ..Default::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn validate_checks_lengths() {
        let mut settings = SmppSettings {
            addr: "127.0.0.1:2775".into(),
            system_id: "esme".into(),
            ..Default::default()
        };
        assert!(settings.validate().is_ok());
        settings.password = "123456789".into();
        assert!(settings.validate().is_err());
        settings.password = "pw".into();
        settings.source_addr = "AVeryLongSenderName".into();
        assert!(settings.validate().is_err());
    }
}
