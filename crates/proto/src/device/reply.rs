use super::ResultCode;

/// How a frame is answered on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// A JSON array whose first element is the code: `[0,0]` (message frames).
    Json,
    /// Bare ASCII digits: `0` (SMS frames; hologram-python crashes on anything else).
    Digits,
}

impl ReplyKind {
    /// The reply kind for raw frame bytes, even ones that do not parse:
    /// frames starting with `S` are SMS frames.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'S') => Self::Digits,
            _ => Self::Json,
        }
    }
}

/// Encodes the reply for `code`.
///
/// ```
/// use thingstead_proto::device::{encode_reply, ReplyKind, ResultCode};
/// assert_eq!(encode_reply(ReplyKind::Json, ResultCode::Sent), b"[0,0]");
/// assert_eq!(encode_reply(ReplyKind::Digits, ResultCode::AuthInvalid), b"3");
/// ```
pub fn encode_reply(kind: ReplyKind, code: ResultCode) -> Vec<u8> {
    let n = code.code().max(0);
    match kind {
        ReplyKind::Json => format!("[{n},0]").into_bytes(),
        ReplyKind::Digits => n.to_string().into_bytes(),
    }
}

/// Reads a reply as the SDK does; anything unreadable is [`ResultCode::Unknown`].
///
/// ```
/// use thingstead_proto::device::{parse_reply, ReplyKind, ResultCode};
/// assert_eq!(parse_reply(ReplyKind::Json, b"[3,0]"), ResultCode::AuthInvalid);
/// assert_eq!(parse_reply(ReplyKind::Digits, b"0"), ResultCode::Sent);
/// assert_eq!(parse_reply(ReplyKind::Json, b""), ResultCode::Unknown);
/// ```
pub fn parse_reply(kind: ReplyKind, bytes: &[u8]) -> ResultCode {
    match kind {
        ReplyKind::Json => serde_json::from_slice::<Vec<serde_json::Value>>(bytes)
            .ok()
            .and_then(|v| v.first().and_then(serde_json::Value::as_i64))
            .map_or(ResultCode::Unknown, ResultCode::from_code),
        ReplyKind::Digits => match bytes.first() {
            Some(b) if b.is_ascii_digit() => ResultCode::from_code(i64::from(b - b'0')),
            _ => ResultCode::Unknown,
        },
    }
}
