//! Outgoing mail: the messages of `POST /spaces/{s}/communications/email`
//! ([`crate::faces::things::email`]), sent through the SMTP relay of
//! `[smtp]` ([`crate::settings::SmtpSettings`]).
//!
//! A message is sent while the request waits, within `smtp.timeout_ms`
//! (below the things API's request timeout): 202 means the relay accepted
//! it. Nothing is queued in the server, so nothing is lost when a node
//! stops, and a relay that is down or refuses is the caller's error to see
//! (503) and retry, not a mail silently dropped later. Delivery onwards is
//! the relay's job, with its own queue and retries.
//!
//! Bodies and addresses are never logged; failures are logged at most once
//! per [`FAILURE_LOG_PERIOD`] and counted in
//! `thingstead_mail_total{result}`.

pub mod message;
pub mod relay;

use std::time::Duration;

pub use message::{Limits, OutgoingEmail};
pub use relay::Relay;

/// At most one log line per this period about mail that could not be sent.
pub const FAILURE_LOG_PERIOD: Duration = Duration::from_secs(10);

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// No relay is configured (`smtp.host` is empty).
    #[error("this server sends no mail: no SMTP relay is configured (smtp.host)")]
    NotConfigured,
    /// The request is not a message that can be sent.
    #[error("{0}")]
    Invalid(String),
    /// The message is over the size limit.
    #[error("{0}")]
    TooLarge(String),
    /// The relay could not be reached, did not answer in time, or refused.
    #[error("the mail relay did not accept the message: {0}")]
    Relay(String),
}
