use super::frame::{FrameError, JsonFrame};
use super::message::write_body;
use super::{E164, IdempotencyKey, SMS_MAX_CHARS, Topic};
use crate::pyjson;

/// A frame authenticated by a time-based one-time password (RFC 6238:
/// SHA-1, 30 s steps, 6 digits) instead of a device key. This is
/// Thingstead's own frame, used by the Rust SDK's `Totp` authentication.
///
/// A message: `{"u": UUID, "o": OTP, "m": META, "t": [TOPICS], "d": DATA}\r\r`.
/// An SMS: `{"u": UUID, "o": OTP, "p": "+E164", "d": TEXT}\r\r`.
///
/// Both are answered with the JSON reply `[code,0]`. The server accepts the
/// code of the current step and of one step either side, each code once.
///
/// ```
/// use thingstead_proto::device::{DeviceFrame, TotpFrame, TotpPayload};
/// let f = TotpFrame { uuid: "0b0f...".into(), otp: "123456".into(),
///     payload: TotpPayload::Message { metadata: None, topics: vec![], data: "hi".into(), idempotency_key: None } };
/// let bytes = DeviceFrame::Totp(f.clone()).encode();
/// assert_eq!(DeviceFrame::parse(&bytes).unwrap(), DeviceFrame::Totp(f));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFrame {
    /// The device's uuid.
    pub uuid: String,
    /// The one-time password, 6 digits.
    pub otp: String,
    /// What the frame carries.
    pub payload: TotpPayload,
}

/// What a [`TotpFrame`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotpPayload {
    /// A cloud message.
    Message {
        /// Metadata, as in a csrpsk frame.
        metadata: Option<String>,
        /// Topics.
        topics: Vec<Topic>,
        /// The message text.
        data: String,
        /// As in [`MessageFrame`](super::MessageFrame).
        idempotency_key: Option<IdempotencyKey>,
    },
    /// An SMS.
    Sms {
        /// Where it goes.
        destination: E164,
        /// Its text.
        text: String,
    },
}

impl TotpFrame {
    pub(crate) fn from_json(obj: JsonFrame) -> Result<Self, FrameError> {
        let uuid = obj.string("u").ok_or(FrameError::Auth)?;
        let otp = obj.string("o").ok_or(FrameError::Auth)?;
        if uuid.is_empty() || uuid.len() > 64 || otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FrameError::Auth);
        }
        let payload = match obj.get("p") {
            Some(p) => {
                let dest = p.as_str().ok_or(FrameError::Parse("\"p\" must be a string"))?;
                let destination = E164::parse(dest).map_err(FrameError::Destination)?;
                let text = obj.data()?;
                if text.chars().count() > SMS_MAX_CHARS {
                    return Err(FrameError::Payload("SMS text is longer than 160 characters"));
                }
                TotpPayload::Sms { destination, text }
            }
            None => TotpPayload::Message {
                metadata: obj.metadata()?,
                topics: obj.topics()?,
                data: obj.data()?,
                idempotency_key: obj.idempotency_key()?,
            },
        };
        Ok(Self { uuid, otp, payload })
    }

    pub(crate) fn write(&self, out: &mut String) {
        out.push('{');
        pyjson::push_key(out, "u", true);
        pyjson::push_str(out, &self.uuid);
        pyjson::push_key(out, "o", false);
        pyjson::push_str(out, &self.otp);
        match &self.payload {
            TotpPayload::Message {
                metadata,
                topics,
                data,
                idempotency_key,
            } => write_body(out, metadata.as_deref(), topics, data, idempotency_key.as_ref()),
            TotpPayload::Sms { destination, text } => {
                pyjson::push_key(out, "p", false);
                pyjson::push_str(out, destination.as_str());
                pyjson::push_key(out, "d", false);
                pyjson::push_str(out, text);
            }
        }
        out.push('}');
    }
}
