//! `[smtp]`: the relay that sends the mail of
//! `POST /spaces/{s}/communications/email` ([`crate::mail`]).

use serde::{Deserialize, Serialize};

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP, no TLS (a relay on the same host or network only).
    None,
    /// Plain SMTP upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
}

/// The SMTP relay mail is sent through. With no `host` (the default) the
/// server sends no mail: `communications/email` answers 403 and says so.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// The relay's host name or address; empty: no relay, no mail.
    pub host: String,
    /// The relay's port (587 for STARTTLS, 465 for TLS, 25 for plain SMTP).
    pub port: u16,
    /// `none`, `starttls` (required STARTTLS; the default) or `tls`. The
    /// relay's certificate is checked against the public web roots.
    pub tls: SmtpTls,
    /// The user name to authenticate with (AUTH PLAIN or LOGIN); empty: no
    /// authentication.
    pub username: String,
    /// The password of `username` (masked in `config print`); best given
    /// as `THINGSTEAD_SMTP__PASSWORD` rather than in the file.
    pub password: String,
    /// The sender of every message (`From:` and the envelope sender), a
    /// bare address such as `iot@example.com`; required with a `host`.
    pub from: String,
    /// Sending one message (connect, TLS, the SMTP dialogue) must finish
    /// within this many ms, else the request fails (503). Must be below
    /// `things.request_timeout_ms`, so the answer still comes in time.
    pub timeout_ms: u64,
    /// Most recipients (`to`, `cc` and `bcc` together) of one message;
    /// more are refused with 400.
    pub max_recipients: usize,
    /// Largest content of one message (subject, text and HTML bodies
    /// together), in bytes; more is refused with 413.
    pub max_content_bytes: usize,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password: String::new(),
            from: String::new(),
            timeout_ms: 2000,
            max_recipients: 50,
            max_content_bytes: 256 * 1024,
        }
    }
}

impl SmtpSettings {
    /// Whether a relay is configured.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// Checks values the types cannot; `request_timeout_ms` is the things
    /// API's (`things.request_timeout_ms`).
    pub fn validate(&self, request_timeout_ms: u64) -> Result<(), String> {
        if self.max_recipients == 0 || self.max_content_bytes == 0 {
            return Err("smtp.max_recipients and smtp.max_content_bytes must be at least 1".into());
        }
        if !self.enabled() {
            return Ok(());
        }
        if self.port == 0 {
            return Err("smtp.port must be from 1 to 65535".into());
        }
        if self.from.parse::<lettre::Address>().is_err() {
            return Err(format!(
                "smtp.from must be a mail address such as iot@example.com when smtp.host is set (it is {:?})",
                self.from
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms >= request_timeout_ms {
            return Err(format!(
                "smtp.timeout_ms must be at least 1 and below things.request_timeout_ms ({request_timeout_ms})"
            ));
        }
        if !self.username.is_empty() && self.password.is_empty() {
            return Err("smtp.username needs smtp.password (or THINGSTEAD_SMTP__PASSWORD)".into());
        }
        if !self.username.is_empty() && self.tls == SmtpTls::None {
            return Err(
                "smtp.username with smtp.tls = \"none\" would send the password in clear: use starttls or tls".into(),
            );
        }
        crate::mail::Relay::check(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_needs_a_sender_a_timeout_below_the_requests_and_tls_for_passwords() {
        let mut s = SmtpSettings::default();
        assert!(!s.enabled());
        assert!(s.validate(2500).is_ok(), "no relay: nothing to check");
        s.host = "smtp.example.com".into();
        assert!(s.validate(2500).unwrap_err().contains("smtp.from"));
        s.from = "iot@example.com".into();
        assert!(s.validate(2500).is_ok());
        s.timeout_ms = 2500;
        assert!(s.validate(2500).unwrap_err().contains("smtp.timeout_ms"));
        s.timeout_ms = 2000;
        s.username = "iot".into();
        assert!(s.validate(2500).unwrap_err().contains("smtp.password"));
        s.password = "pw".into();
        assert!(s.validate(2500).is_ok());
        s.tls = SmtpTls::None;
        assert!(s.validate(2500).unwrap_err().contains("in clear"));
    }
}
