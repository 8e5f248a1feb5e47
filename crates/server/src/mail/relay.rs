//! The SMTP relay connection: lettre's async transport on tokio with
//! rustls, built once from `[smtp]`, pooling its connections.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{FAILURE_LOG_PERIOD, Limits, MailError, OutgoingEmail};
use crate::activity::LogLimiter;
use crate::settings::{SmtpSettings, SmtpTls};

static FAILURE_LOG: LogLimiter = LogLimiter::new(FAILURE_LOG_PERIOD);

/// The configured relay: where mail goes, as whom, within what time.
#[derive(Clone)]
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
    timeout: Duration,
    limits: Limits,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Checks what [`Relay::from_settings`] needs of a configured relay: a
    /// sender address, and a host that is a TLS server name unless `tls =
    /// "none"`. Needs no runtime (settings are checked before one runs).
    pub fn check(settings: &SmtpSettings) -> Result<(), String> {
        if !settings.enabled() {
            return Ok(());
        }
        sender(settings)?;
        let host = settings.host.trim();
        if settings.tls != SmtpTls::None {
            TlsParameters::new(host.to_owned()).map_err(|e| format!("smtp.host {host:?}: {e}"))?;
        }
        Ok(())
    }

    /// The relay of `settings`; `Ok(None)` when none is configured (no
    /// `host`). Fails for settings that [`Relay::check`] refuses. Call it
    /// inside the tokio runtime (the connection pool spawns its task).
    pub fn from_settings(settings: &SmtpSettings) -> Result<Option<Self>, String> {
        if !settings.enabled() {
            return Ok(None);
        }
        let host = settings.host.trim();
        let from = sender(settings)?;
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("smtp.host {host:?}: {e}"))?,
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| format!("smtp.host {host:?}: {e}"))?
            }
        };
        let mut builder = builder.port(settings.port).timeout(Some(timeout));
        if !settings.username.is_empty() {
            builder = builder.credentials(Credentials::new(settings.username.clone(), settings.password.clone()));
        }
        Ok(Some(Self {
            transport: builder.build(),
            from,
            timeout,
            limits: Limits {
                max_recipients: settings.max_recipients,
                max_content_bytes: settings.max_content_bytes,
            },
        }))
    }

    /// The limits on one message.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Sends `email` and waits until the relay accepted it, at most the
    /// configured timeout: [`MailError::Relay`] when it cannot be reached,
    /// refuses, or does not finish in time.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let message = email.to_message(&self.from)?;
        let failure = match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => {
                metrics::counter!("thingstead_mail_total", "result" => "sent").increment(1);
                tracing::debug!(recipients = email.recipients(), "mail accepted by the relay");
                return Ok(());
            }
            Ok(Err(e)) => {
                log_failure(&e.to_string());
                describe(&e)
            }
            Err(_) => {
                let m = format!("no answer within {} ms", self.timeout.as_millis());
                log_failure(&m);
                m
            }
        };
        metrics::counter!("thingstead_mail_total", "result" => "failed").increment(1);
        Err(MailError::Relay(failure))
    }
}

/// The sender address of `settings`.
fn sender(settings: &SmtpSettings) -> Result<Address, String> {
    settings
        .from
        .parse()
        .map_err(|_| format!("smtp.from {:?} is not a mail address", settings.from))
}

/// What the caller is told: the kind of failure and the SMTP code, not
/// the relay's own words (they may name its hosts).
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(|c| format!(" (SMTP {c})")).unwrap_or_default();
    if e.is_permanent() {
        format!("it refused the message{code}")
    } else if e.is_transient() {
        format!("it refused the message for now{code}; try again later")
    } else if e.is_timeout() {
        "it did not answer in time".into()
    } else {
        "it could not be reached".into()
    }
}

fn log_failure(error: &str) {
    if let Some(held_back) = FAILURE_LOG.allow() {
        tracing::warn!(
            error = %error,
            held_back,
            "mail not sent: the SMTP relay did not accept it ({held_back} more failures since the last such line)"
        );
    }
}
