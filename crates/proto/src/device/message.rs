use super::frame::{FrameError, JsonFrame};
use super::{DeviceKey, IdempotencyKey, Topic};
use crate::pyjson;

/// A cloud message authenticated by device key (hologram's `csrpsk`):
/// `{"k": KEY, "m": META, "t": [TOPICS], "d": DATA}\r\r`.
///
/// ```
/// use thingstead_proto::device::{DeviceFrame, MessageFrame, DeviceKey};
/// let f = MessageFrame {
///     key: DeviceKey::parse("abcdefgh").unwrap(),
///     metadata: None,
///     topics: vec![],
///     data: "hi".into(),
///     idempotency_key: None,
/// };
/// assert_eq!(DeviceFrame::Message(f).encode(), b"{\"k\": \"abcdefgh\", \"d\": \"hi\"}\r\r");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFrame {
    /// The 8-character device key.
    pub key: DeviceKey,
    /// Metadata: `\u{1}` + modem type (`agnostic`) + `-` + SDK version.
    pub metadata: Option<String>,
    /// Topics, possibly none.
    pub topics: Vec<Topic>,
    /// The message text.
    pub data: String,
    /// Makes a resend of the same message harmless (member `"i"`; not hologram's).
    pub idempotency_key: Option<IdempotencyKey>,
}

impl MessageFrame {
    pub(crate) fn from_json(obj: JsonFrame) -> Result<Self, FrameError> {
        let key = obj.string("k").ok_or(FrameError::Auth)?;
        let key = DeviceKey::parse(&key).map_err(|_| FrameError::Auth)?;
        Ok(Self {
            key,
            metadata: obj.metadata()?,
            topics: obj.topics()?,
            data: obj.data()?,
            idempotency_key: obj.idempotency_key()?,
        })
    }

    pub(crate) fn write(&self, out: &mut String) {
        out.push('{');
        pyjson::push_key(out, "k", true);
        pyjson::push_str(out, self.key.as_str());
        write_body(
            out,
            self.metadata.as_deref(),
            &self.topics,
            &self.data,
            self.idempotency_key.as_ref(),
        );
        out.push('}');
    }
}

/// Writes the `m`, `t`, `d` (and `i`) members shared by the message frames.
pub(crate) fn write_body(
    out: &mut String,
    metadata: Option<&str>,
    topics: &[Topic],
    data: &str,
    idempotency_key: Option<&IdempotencyKey>,
) {
    if let Some(m) = metadata {
        pyjson::push_key(out, "m", false);
        pyjson::push_str(out, m);
    }
    if !topics.is_empty() {
        pyjson::push_key(out, "t", false);
        pyjson::push_str_array(out, topics.iter().map(Topic::as_str));
    }
    pyjson::push_key(out, "d", false);
    pyjson::push_str(out, data);
    if let Some(i) = idempotency_key {
        pyjson::push_key(out, "i", false);
        pyjson::push_str(out, i.as_str());
    }
}
