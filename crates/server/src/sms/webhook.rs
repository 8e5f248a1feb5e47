//! SMS through an HTTP webhook: each SMS is POSTed as JSON to a URL the
//! operator runs (an SMS vendor's API behind a small adapter, a chat bridge...).
//!
//! Request body: `{"id": 42, "org": "acme", "device_uuid": "..." | null,
//! "to": "+15551234567", "text": "..."}`, with `Authorization: <authorization>`
//! when configured and `Idempotency-Key: thingstead-sms-<id>` so a receiver
//! can recognise a retry.
//!
//! Outcome: any 2xx is sent, and the provider message id is the response
//! JSON's `"id"` or `"message_id"` (string or number) when present, else
//! `http-<status>-<our id>`. 5xx, 408, 429, timeouts and connection errors are
//! Transient; every other status is Permanent.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::provider::{OutboundSms, SmsProvider, SmsSendError};

/// Settings of the webhook provider (`[sms.webhook]`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Where each SMS is POSTed (`http://` or `https://`).
    pub url: String,
    /// Bound on the whole request, connect to last body byte.
    pub timeout_secs: u64,
    /// Value of the `Authorization` header, if any (`Bearer ...`). Masked in `Debug`.
    pub authorization: Option<String>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            timeout_secs: 10,
            authorization: None,
        }
    }
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &crate::redact::url(&self.url))
            .field("timeout_secs", &self.timeout_secs)
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .finish()
    }
}

impl WebhookSettings {
    /// Checks the URL and timeout; call it at start-up to fail fast.
    pub fn validate(&self) -> Result<(), String> {
        let shown = crate::redact::url(&self.url);
        let url = reqwest::Url::parse(&self.url).map_err(|e| format!("sms.webhook.url {shown:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("sms.webhook.url {shown:?}: expected http:// or https://"));
        }
        if self.timeout_secs == 0 {
            return Err("sms.webhook.timeout_secs must be at least 1".into());
        }
        if let Some(value) = &self.authorization
            && reqwest::header::HeaderValue::from_str(value).is_err()
        {
            return Err("sms.webhook.authorization is not a valid header value".into());
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    id: i64,
    org: &'a str,
    device_uuid: Option<&'a str>,
    to: &'a str,
    text: &'a str,
}

/// Sends SMS by POSTing them to a webhook; see the module documentation.
pub struct WebhookProvider {
    settings: WebhookSettings,
    http: reqwest::Client,
}

impl WebhookProvider {
    /// A provider for these settings.
    pub fn new(settings: WebhookSettings) -> Self {
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("thingstead/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "webhook HTTP client with custom settings unavailable; using defaults");
                reqwest::Client::new()
            });
        Self { settings, http }
    }

    /// The settings this provider was built with.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }
}

/// A reqwest error as text without its URL: the error and its causes.
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&crate::redact::url(&cause.to_string()));
        source = cause.source();
    }
    text
}

/// The provider message id from a 2xx response body, if it names one.
fn message_id_from(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["id", "message_id"].iter().find_map(|key| match value.get(key)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn status_is_transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT
}

/// At most this much of an error body goes into the failure reason.
const REASON_BODY_CHARS: usize = 200;
/// At most this much of a response body is read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The response body, cut after `cap` bytes.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

#[async_trait::async_trait]
impl SmsProvider for WebhookProvider {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, sms: &OutboundSms) -> Result<String, SmsSendError> {
        let body = WebhookBody {
            id: sms.id,
            org: &sms.org,
            device_uuid: sms.device_uuid.as_deref(),
            to: &sms.destination,
            text: &sms.text,
        };
        let mut request = self
            .http
            .post(&self.settings.url)
            .header("Idempotency-Key", format!("thingstead-sms-{}", sms.id))
            .json(&body);
        if let Some(authorization) = &self.settings.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        // reqwest errors show the URL, query token and userinfo included:
        // drop it from them and name the URL masked.
        let url = crate::redact::url(&self.settings.url);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_builder() => {
                let e = error_chain(e);
                tracing::error!(sms = sms.id, %url, error = %e, "webhook request cannot be built (check sms.webhook.url)");
                return Err(SmsSendError::Transient(format!(
                    "webhook request to {url} cannot be built: {e}"
                )));
            }
            Err(e) => {
                let e = error_chain(e);
                tracing::warn!(sms = sms.id, %url, error = %e, "webhook unreachable");
                return Err(SmsSendError::Transient(format!("webhook {url} unreachable: {e}")));
            }
        };
        let status = response.status();
        // The body read is bounded by the client's overall timeout and by size.
        let bytes = match read_capped(response, MAX_RESPONSE_BYTES).await {
            Ok(bytes) => bytes,
            Err(e) => {
                // A 2xx with a cut body still means the SMS was taken: keep our own id.
                tracing::warn!(sms = sms.id, %status, error = %error_chain(e), "webhook response body unreadable");
                Vec::new()
            }
        };
        if status.is_success() {
            let id = message_id_from(&bytes).unwrap_or_else(|| format!("http-{}-{}", status.as_u16(), sms.id));
            tracing::debug!(sms = sms.id, %status, message_id = %id, "webhook accepted the SMS");
            return Ok(id);
        }
        let text: String = String::from_utf8_lossy(&bytes)
            .chars()
            .take(REASON_BODY_CHARS)
            .collect();
        let reason = if text.trim().is_empty() {
            format!("webhook answered {status}")
        } else {
            format!("webhook answered {status}: {}", text.trim())
        };
        if status_is_transient(status) {
            tracing::warn!(sms = sms.id, %status, "webhook refused the SMS for now");
            Err(SmsSendError::Transient(reason))
        } else {
            tracing::warn!(sms = sms.id, %status, "webhook rejected the SMS");
            Err(SmsSendError::Permanent(reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_read_from_id_or_message_id() {
        assert_eq!(message_id_from(br#"{"id":"abc"}"#).as_deref(), Some("abc"));
        assert_eq!(message_id_from(br#"{"message_id":7}"#).as_deref(), Some("7"));
        assert_eq!(message_id_from(br#"{"ok":true}"#), None);
        assert_eq!(message_id_from(b"not json"), None);
    }

    #[test]
    fn authorization_is_masked() {
        let settings = WebhookSettings {
            authorization: Some("Bearer s3cret".into()),
            ..Default::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
