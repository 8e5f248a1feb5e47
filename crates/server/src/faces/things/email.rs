//! `POST /spaces/{s}/communications/email` (WIRE.md A.3): sends one
//! message through the SMTP relay of `[smtp]` ([`crate::mail`]).
//!
//! Body `{to: [address], cc?, bcc?, subject?, body?: {text?, html?}}`;
//! scope `email`. The message is sent while the request waits (within
//! `smtp.timeout_ms`, below the face's request timeout), so **202** (no
//! body) means the relay accepted it; nothing is queued in the server.
//!
//! | status | when |
//! |---|---|
//! | 202 | the relay accepted the message |
//! | 400 | not JSON, a bad address (each entry one bare address), no `to`, more than `smtp.max_recipients` recipients, a subject with CR, LF or another control character or over 998 bytes |
//! | 401 / 403 | no valid token / a token of another space or without scope `email` |
//! | 403 | **no relay is configured** (`smtp.host` empty): the server refuses the operation, whatever the request; it is among the codes the IoT Studio client accepts, and says "do not retry" |
//! | 413 | the request body over the face's limit, or subject + bodies over `smtp.max_content_bytes` |
//! | 503 | the relay could not be reached, refused the message, or did not finish within `smtp.timeout_ms` (with `Retry-After`). Outside WIRE.md's list on purpose: none of 400/401/403/413 is true of a relay that is down; the iots client raises `ResponseError` for it all the same, with this body in `http_response()` |
//!
//! Bodies and addresses are never logged.

use std::sync::Arc;

use axum::Extension;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use thingstead_core::scopes::{Need, Resource};

use super::SpaceCaller;
use super::json::JsonBody;
use crate::activity::LogLimiter;
use crate::http::error::{ApiError, ErrorCode};
use crate::mail::{FAILURE_LOG_PERIOD, MailError, OutgoingEmail, Relay};
use crate::settings::SmtpSettings;

/// What sending mail needs.
const SEND: Need = Need::write(Resource::Email);

static UNCONFIGURED_LOG: LogLimiter = LogLimiter::new(FAILURE_LOG_PERIOD);

/// The relay the route sends through (none when not configured).
#[derive(Clone, Debug)]
pub struct Mailer(Option<Arc<Relay>>);

impl Mailer {
    /// The relay of `settings`; none (and a log line saying what that
    /// means) when `smtp.host` is empty or the settings do not make one.
    pub fn new(settings: &SmtpSettings) -> Self {
        match Relay::from_settings(settings) {
            Ok(Some(relay)) => Self(Some(Arc::new(relay))),
            Ok(None) => {
                tracing::info!("no SMTP relay configured (smtp.host): communications/email answers 403");
                Self(None)
            }
            Err(e) => {
                tracing::error!(error = %e, "the SMTP relay settings are unusable: communications/email answers 403");
                Self(None)
            }
        }
    }
}

/// `POST .../communications/email`.
pub async fn send(
    Extension(mailer): Extension<Mailer>,
    caller: SpaceCaller,
    JsonBody(body): JsonBody,
) -> Result<Response, Response> {
    caller.require(SEND).map_err(IntoResponse::into_response)?;
    let Some(relay) = mailer.0.as_deref() else {
        if let Some(held_back) = UNCONFIGURED_LOG.allow() {
            tracing::warn!(
                space = %caller.tenant().name().as_str(),
                held_back,
                "mail refused: no SMTP relay is configured (set smtp.host and smtp.from) ({held_back} more since the last such line)"
            );
        }
        return Err(error(MailError::NotConfigured));
    };
    let email = OutgoingEmail::parse(&body, relay.limits()).map_err(error)?;
    relay.send(&email).await.map_err(error)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The face's error for a [`MailError`] (see the module's table).
fn error(e: MailError) -> Response {
    let code = match &e {
        MailError::NotConfigured => ErrorCode::Forbidden,
        MailError::Invalid(_) => ErrorCode::InvalidInput,
        MailError::TooLarge(_) => ErrorCode::PayloadTooLarge,
        MailError::Relay(_) => ErrorCode::Unavailable,
    };
    let mut response = ApiError::new(code, e.to_string()).into_response();
    if code == ErrorCode::Unavailable {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}
