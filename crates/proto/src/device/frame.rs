use super::reply::ReplyKind;
use super::{E164Error, IdempotencyKey, MessageFrame, ResultCode, SmsFrame, Topic, TopicError, TotpFrame};

/// The bytes that end every frame.
pub const TERMINATOR: &[u8] = b"\r\r";

/// The longest metadata string accepted, in bytes.
const MAX_METADATA: usize = 128;
/// The most topics one message may carry.
const MAX_TOPICS: usize = 32;

/// One frame of the device protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceFrame {
    /// A message authenticated by device key.
    Message(MessageFrame),
    /// An SMS authenticated by device key.
    Sms(SmsFrame),
    /// A message or SMS authenticated by TOTP.
    Totp(TotpFrame),
}

/// Why a frame was refused; each maps to the [`ResultCode`] the device hears.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No terminator within the size limit.
    #[error("frame larger than {max} bytes")]
    TooLarge {
        /// The limit in force.
        max: usize,
    },
    /// Not a frame we can read.
    #[error("unparsable frame: {0}")]
    Parse(&'static str),
    /// The authentication part is missing or malformed.
    #[error("missing or malformed device key")]
    Auth,
    /// The payload is missing or of the wrong type.
    #[error("invalid payload: {0}")]
    Payload(&'static str),
    /// The metadata is malformed.
    #[error("malformed metadata")]
    Metadata,
    /// A topic is malformed.
    #[error("malformed topic: {0}")]
    Topic(TopicError),
    /// The SMS destination is not an E.164 number.
    #[error("invalid destination: {0}")]
    Destination(E164Error),
}

impl FrameError {
    /// The result code the device is answered with.
    pub fn result_code(&self) -> ResultCode {
        match self {
            Self::TooLarge { .. } => ResultCode::ProtocolInvalid,
            Self::Parse(_) | Self::Destination(_) => ResultCode::ParseFailed,
            Self::Auth => ResultCode::AuthInvalid,
            Self::Payload(_) => ResultCode::PayloadInvalid,
            Self::Metadata => ResultCode::MetadataInvalid,
            Self::Topic(_) => ResultCode::TopicInvalid,
        }
    }
}

/// Finds one whole frame at the start of `buf`.
///
/// Returns `Ok(Some(len))` with the frame's length including the terminator,
/// `Ok(None)` when more bytes are needed, and [`FrameError::TooLarge`] as soon
/// as `max` bytes have arrived without a terminator.
///
/// ```
/// use thingstead_proto::device::check;
/// assert_eq!(check(b"abc\r\rxyz", 100).unwrap(), Some(5));
/// assert_eq!(check(b"abc\r", 100).unwrap(), None);
/// assert!(check(&[b'a'; 101], 100).is_err());
/// ```
pub fn check(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    let window = &buf[..buf.len().min(max)];
    match window.windows(TERMINATOR.len()).position(|w| w == TERMINATOR) {
        Some(pos) => Ok(Some(pos + TERMINATOR.len())),
        None if buf.len() >= max => Err(FrameError::TooLarge { max }),
        None => Ok(None),
    }
}

impl DeviceFrame {
    /// Parses one frame; a trailing terminator is allowed and ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, FrameError> {
        let bytes = bytes.strip_suffix(TERMINATOR).unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|_| FrameError::Parse("frame is not UTF-8"))?;
        let text = text.trim_start();
        if text.starts_with('S') {
            return SmsFrame::parse(text).map(Self::Sms);
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| FrameError::Parse("frame is not JSON"))?;
        let serde_json::Value::Object(map) = value else {
            return Err(FrameError::Parse("frame is not a JSON object"));
        };
        let obj = JsonFrame(map);
        if obj.get("u").is_some() {
            TotpFrame::from_json(obj).map(Self::Totp)
        } else {
            MessageFrame::from_json(obj).map(Self::Message)
        }
    }

    /// Writes the frame, terminator included, byte-identical to hologram-python.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        match self {
            Self::Message(m) => m.write(&mut out),
            Self::Sms(s) => s.write(&mut out),
            Self::Totp(t) => t.write(&mut out),
        }
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(TERMINATOR);
        bytes
    }

    /// How this frame is answered.
    pub fn reply_kind(&self) -> ReplyKind {
        match self {
            Self::Sms(_) => ReplyKind::Digits,
            Self::Message(_) | Self::Totp(_) => ReplyKind::Json,
        }
    }
}

/// A parsed JSON frame object with typed accessors for the shared members.
pub(crate) struct JsonFrame(serde_json::Map<String, serde_json::Value>);

impl JsonFrame {
    pub(crate) fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    pub(crate) fn string(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(|v| v.as_str()).map(str::to_owned)
    }

    pub(crate) fn metadata(&self) -> Result<Option<String>, FrameError> {
        match self.0.get("m") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(m)) if m.len() <= MAX_METADATA && m.starts_with('\u{1}') => {
                Ok(Some(m.clone()))
            }
            Some(_) => Err(FrameError::Metadata),
        }
    }

    pub(crate) fn topics(&self) -> Result<Vec<Topic>, FrameError> {
        match self.0.get("t") {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::String(t)) => Ok(vec![Topic::parse(t).map_err(FrameError::Topic)?]),
            Some(serde_json::Value::Array(items)) if items.len() <= MAX_TOPICS => items
                .iter()
                .map(|item| {
                    let s = item.as_str().ok_or(FrameError::Topic(TopicError::Empty))?;
                    Topic::parse(s).map_err(FrameError::Topic)
                })
                .collect(),
            Some(_) => Err(FrameError::Topic(TopicError::TooLong)),
        }
    }

    pub(crate) fn idempotency_key(&self) -> Result<Option<IdempotencyKey>, FrameError> {
        match self.0.get("i") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(i)) => IdempotencyKey::parse(i)
                .map(Some)
                .map_err(|_| FrameError::Parse("\"i\" must be 1 to 64 characters of [A-Za-z0-9_.:-]")),
            Some(_) => Err(FrameError::Parse("\"i\" must be a string")),
        }
    }

    pub(crate) fn data(&self) -> Result<String, FrameError> {
        match self.0.get("d") {
            Some(serde_json::Value::String(d)) => Ok(d.clone()),
            Some(_) => Err(FrameError::Payload("\"d\" must be a string")),
            None => Err(FrameError::Payload("\"d\" is missing")),
        }
    }
}
