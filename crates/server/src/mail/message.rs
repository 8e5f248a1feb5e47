//! One outgoing message as a client asks for it (WIRE.md A.3:
//! `{to: [str], cc?, bcc?, subject?, body?: {text?, html?}}`), checked and
//! turned into a MIME message.
//!
//! Parse, don't validate: an [`OutgoingEmail`] holds only addresses that
//! parsed as [`Address`], at least one `to`, at most the configured number
//! of recipients, a subject without control characters (no header
//! injection: CR and LF are refused, not stripped) and content within the
//! configured size. `null` members count as absent and unknown members are
//! ignored (the iots models send every field).

use lettre::Address;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use serde::Deserialize;
use serde_json::Value;

use super::MailError;

/// Longest subject, in bytes (RFC 5322's line limit).
pub const MAX_SUBJECT_BYTES: usize = 998;
/// Longest address, in bytes (RFC 5321's path limit).
const MAX_ADDRESS_BYTES: usize = 254;

/// The body of a request, as sent.
#[derive(Debug, Deserialize)]
struct EmailRequest {
    to: Option<Vec<Value>>,
    cc: Option<Vec<Value>>,
    bcc: Option<Vec<Value>>,
    subject: Option<String>,
    body: Option<EmailBody>,
}

#[derive(Debug, Deserialize)]
struct EmailBody {
    text: Option<String>,
    html: Option<String>,
}

/// Limits on one message (from `[smtp]`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most recipients, `to`, `cc` and `bcc` together.
    pub max_recipients: usize,
    /// Largest subject + text + HTML, in bytes.
    pub max_content_bytes: usize,
}

/// A message ready to be sent: checked recipients, subject and content.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEmail {
    /// Main recipients (at least one).
    pub to: Vec<Address>,
    /// Carbon copies.
    pub cc: Vec<Address>,
    /// Blind carbon copies: in the envelope, never in a header.
    pub bcc: Vec<Address>,
    /// The subject (none: no `Subject:` header).
    pub subject: Option<String>,
    /// The plain text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
}

impl OutgoingEmail {
    /// Parses a request body: [`MailError::Invalid`] (400) for a body of
    /// the wrong shape, a bad address, no `to`, too many recipients or a
    /// bad subject; [`MailError::TooLarge`] (413) for content over the limit.
    pub fn parse(body: &Value, limits: Limits) -> Result<Self, MailError> {
        let request: EmailRequest = serde_json::from_value(body.clone()).map_err(|e| {
            MailError::Invalid(format!(
                "the body is {{\"to\": [address], \"cc\"?, \"bcc\"?, \"subject\"?, \"body\"?: {{\"text\"?, \"html\"?}}}}: {e}"
            ))
        })?;
        let to = addresses("to", request.to)?;
        let cc = addresses("cc", request.cc)?;
        let bcc = addresses("bcc", request.bcc)?;
        if to.is_empty() {
            return Err(MailError::Invalid("to must name at least one recipient".into()));
        }
        let recipients = to.len() + cc.len() + bcc.len();
        if recipients > limits.max_recipients {
            return Err(MailError::Invalid(format!(
                "{recipients} recipients (to, cc and bcc together); at most {} are allowed",
                limits.max_recipients
            )));
        }
        let subject = request.subject.filter(|s| !s.is_empty());
        if let Some(s) = &subject {
            if s.chars().any(char::is_control) {
                return Err(MailError::Invalid(
                    "the subject must not contain control characters (CR, LF, ...)".into(),
                ));
            }
            if s.len() > MAX_SUBJECT_BYTES {
                return Err(MailError::Invalid(format!(
                    "the subject is longer than {MAX_SUBJECT_BYTES} bytes"
                )));
            }
        }
        let (text, html) = match request.body {
            Some(b) => (b.text, b.html),
            None => (None, None),
        };
        let content = [&subject, &text, &html]
            .iter()
            .map(|s| s.as_deref().map_or(0, str::len))
            .sum::<usize>();
        if content > limits.max_content_bytes {
            return Err(MailError::TooLarge(format!(
                "the subject and body are {content} bytes; at most {} are allowed",
                limits.max_content_bytes
            )));
        }
        Ok(Self {
            to,
            cc,
            bcc,
            subject,
            text,
            html,
        })
    }

    /// Every recipient: `to`, `cc`, then `bcc`.
    pub fn recipients(&self) -> usize {
        self.to.len() + self.cc.len() + self.bcc.len()
    }

    /// The MIME message from `from`: text/plain, text/html, or
    /// multipart/alternative when both bodies are given (an empty
    /// text/plain when neither is); `Date` and `Message-ID` set, no `Bcc`
    /// header.
    pub fn to_message(&self, from: &Address) -> Result<lettre::Message, MailError> {
        let mut b = lettre::Message::builder()
            .from(Mailbox::new(None, from.clone()))
            .message_id(None);
        for a in &self.to {
            b = b.to(Mailbox::new(None, a.clone()));
        }
        for a in &self.cc {
            b = b.cc(Mailbox::new(None, a.clone()));
        }
        for a in &self.bcc {
            b = b.bcc(Mailbox::new(None, a.clone()));
        }
        if let Some(s) = &self.subject {
            b = b.subject(s.clone());
        }
        let built = match (&self.text, &self.html) {
            (Some(text), Some(html)) => b.multipart(MultiPart::alternative_plain_html(text.clone(), html.clone())),
            (None, Some(html)) => b.header(ContentType::TEXT_HTML).body(html.clone()),
            (text, None) => b.header(ContentType::TEXT_PLAIN).body(text.clone().unwrap_or_default()),
        };
        built.map_err(|e| MailError::Invalid(format!("the message cannot be built: {e}")))
    }
}

/// The addresses of list `field` (absent or `null`: none).
fn addresses(field: &str, list: Option<Vec<Value>>) -> Result<Vec<Address>, MailError> {
    let list = list.unwrap_or_default();
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let Some(s) = v.as_str() else {
            return Err(MailError::Invalid(format!("{field}[{i}] is not a string")));
        };
        let s = s.trim();
        if s.len() > MAX_ADDRESS_BYTES {
            return Err(MailError::Invalid(format!("{field}[{i}] is not a mail address")));
        }
        match s.parse::<Address>() {
            Ok(a) => out.push(a),
            Err(_) => {
                let shown: String = s.chars().take(64).collect();
                return Err(MailError::Invalid(format!(
                    "{field}[{i}] is not a mail address: {shown:?}"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const LIMITS: Limits = Limits {
        max_recipients: 3,
        max_content_bytes: 100,
    };

    fn invalid(body: Value) -> String {
        match OutgoingEmail::parse(&body, LIMITS) {
            Err(MailError::Invalid(m)) => m,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn nulls_are_absent_and_unknown_members_ignored() {
        let e = OutgoingEmail::parse(
            &json!({"to": ["a@example.com"], "cc": null, "bcc": null, "subject": null,
                    "body": {"text": "hi", "html": null}, "extra": 1}),
            LIMITS,
        )
        .unwrap();
        assert_eq!(e.to, ["a@example.com".parse::<Address>().unwrap()]);
        assert!(e.cc.is_empty() && e.bcc.is_empty() && e.subject.is_none());
        assert_eq!(e.text.as_deref(), Some("hi"));
        assert_eq!(e.recipients(), 1);
    }

    #[test]
    fn bad_addresses_recipients_and_subjects_are_refused() {
        assert!(invalid(json!({"to": ["not an address"]})).contains("to[0]"));
        assert!(invalid(json!({"to": ["a@example.com"], "bcc": ["x@y", "@nope"]})).contains("bcc[1]"));
        assert!(invalid(json!({"to": [7]})).contains("to[0]"));
        assert!(invalid(json!({"to": []})).contains("at least one"));
        assert!(invalid(json!({"cc": ["a@example.com"]})).contains("at least one"));
        assert!(invalid(json!({"to": "a@example.com"})).contains("the body is"));
        assert!(invalid(json!([1])).contains("the body is"));
        let four = json!({"to": ["a@x.org", "b@x.org"], "cc": ["c@x.org"], "bcc": ["d@x.org"]});
        assert!(invalid(four).contains("at most 3"));
        for subject in ["a\r\nBcc: evil@example.com", "a\nb", "a\rb", "nul\0"] {
            let m = invalid(json!({"to": ["a@example.com"], "subject": subject}));
            assert!(m.contains("control characters"), "{subject:?}: {m}");
        }
        assert!(
            invalid(json!({"to": ["a@example.com<evil@example.com>"]})).contains("to[0]"),
            "one bare address per entry"
        );
    }

    #[test]
    fn content_over_the_limit_is_too_large() {
        let body =
            json!({"to": ["a@example.com"], "subject": "s", "body": {"text": "x".repeat(60), "html": "y".repeat(40)}});
        assert!(matches!(
            OutgoingEmail::parse(&body, LIMITS),
            Err(MailError::TooLarge(_))
        ));
    }

    #[test]
    fn both_bodies_make_a_multipart_alternative_and_bcc_stays_out_of_the_headers() {
        let from: Address = "iot@example.com".parse().unwrap();
        let e = OutgoingEmail::parse(
            &json!({"to": ["a@example.com"], "bcc": ["hidden@example.com"], "subject": "Hello",
                    "body": {"text": "plain", "html": "<p>rich</p>"}}),
            LIMITS,
        )
        .unwrap();
        let m = e.to_message(&from).unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("Subject: Hello"), "{text}");
        assert!(!text.contains("hidden@example.com"), "{text}");
        let to: Vec<String> = m.envelope().to().iter().map(ToString::to_string).collect();
        assert_eq!(to, ["a@example.com", "hidden@example.com"]);
        let html_only = OutgoingEmail::parse(&json!({"to": ["a@example.com"], "body": {"html": "<b>x</b>"}}), LIMITS)
            .unwrap()
            .to_message(&from)
            .unwrap();
        assert!(String::from_utf8(html_only.formatted()).unwrap().contains("text/html"));
    }
}
