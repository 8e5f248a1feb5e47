//! The interface between the SMS outbox dispatcher and the services that
//! actually deliver SMS (an SMPP SMSC, an HTTP webhook).
//!
//! A provider gets one [`OutboundSms`] at a time and either returns the
//! provider's message id or says how the send failed: a
//! [`SmsSendError::Transient`] failure is retried by the dispatcher with
//! backoff, a [`SmsSendError::Permanent`] one marks the SMS failed.

/// One SMS to hand to a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// The outbox row id; providers use it for idempotency keys and log lines.
    pub id: i64,
    /// The organization the SMS belongs to.
    pub org: String,
    /// The device that asked for the SMS, if any.
    pub device_uuid: Option<String>,
    /// Destination number in E.164 form with a leading `+`.
    pub destination: String,
    /// The message text.
    pub text: String,
}

/// How a send failed: Transient errors are retried with backoff, Permanent ones mark the SMS failed.
#[derive(Debug, thiserror::Error)]
pub enum SmsSendError {
    /// The provider may accept the same SMS later (link down, throttled, 5xx...).
    #[error("transient: {0}")]
    Transient(String),
    /// The provider will never accept this SMS (bad destination, rejected request...).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SmsSendError {
    /// Whether the dispatcher should retry this SMS later.
    pub fn is_transient(&self) -> bool {
        matches!(self, SmsSendError::Transient(_))
    }
}

/// A service that delivers SMS.
#[async_trait::async_trait]
pub trait SmsProvider: Send + Sync + 'static {
    /// A short name for logs and the outbox record (`"smpp"`, `"webhook"`).
    fn name(&self) -> &'static str;
    /// Sends one SMS; Ok(provider message id).
    async fn send(&self, sms: &OutboundSms) -> Result<String, SmsSendError>;
}
