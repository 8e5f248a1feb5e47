//! Realtime channel ids (WIRE.md B.5).
//!
//! A channel is named by its organization, a name, and two flags: `system`
//! (announcements the platform makes, such as `update` after a resource
//! changes) and `consumer` (channels consumer apps may use). On the wire a
//! channel id is the standard base64 (with `=` padding) of the compact JSON
//! array `[organization, name, system, consumer]`, rendered exactly as
//! Python's `json.dumps` renders it with its default separators removed:
//! no spaces, flags as `0`/`1`, and every non-ASCII character escaped as
//! `\uxxxx` with lowercase hex (a surrogate pair beyond the BMP). The id is
//! compared byte for byte, so the rendering is part of the protocol.
//!
//! ```
//! use thingstead_proto::channel::ChannelId;
//!
//! let id = ChannelId::new("acme", "my_channel", false, false);
//! assert_eq!(id.encode(), "WyJhY21lIiwibXlfY2hhbm5lbCIsMCwwXQ==");
//! assert_eq!(ChannelId::decode(&id.encode()).unwrap(), id);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The longest encoded channel id accepted by [`ChannelId::decode`], in bytes.
pub const MAX_ENCODED_LEN: usize = 1024;

/// Why an encoded channel id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelIdError {
    /// Longer than [`MAX_ENCODED_LEN`].
    #[error("channel id longer than {MAX_ENCODED_LEN} bytes")]
    TooLong,
    /// Not standard padded base64.
    #[error("channel id is not base64")]
    NotBase64,
    /// Not a JSON array `[string, string, 0|1, 0|1]`.
    #[error("channel id is not [organization, name, system, consumer]")]
    Shape,
}

/// A channel: organization, name, and the `system` and `consumer` flags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelId {
    /// The organization the channel belongs to.
    pub organization: String,
    /// The channel's name (for a resource: its uuid; for a zone
    /// `<location uuid>:zone:<key>`; for a data item `data:<group>:<key>`).
    pub name: String,
    /// A system channel (only the platform broadcasts on it).
    pub system: bool,
    /// A consumer channel (consumer apps may broadcast only on these).
    pub consumer: bool,
}

impl ChannelId {
    /// A channel id from its parts.
    pub fn new(organization: impl Into<String>, name: impl Into<String>, system: bool, consumer: bool) -> Self {
        Self {
            organization: organization.into(),
            name: name.into(),
            system,
            consumer,
        }
    }

    /// The wire form: base64 of the compact, ASCII-escaped JSON array.
    pub fn encode(&self) -> String {
        let mut json = String::with_capacity(self.organization.len() + self.name.len() + 16);
        json.push('[');
        crate::pyjson::push_str(&mut json, &self.organization);
        json.push(',');
        crate::pyjson::push_str(&mut json, &self.name);
        json.push(',');
        json.push(if self.system { '1' } else { '0' });
        json.push(',');
        json.push(if self.consumer { '1' } else { '0' });
        json.push(']');
        STANDARD.encode(json.as_bytes())
    }

    /// Parses a wire id. Any JSON rendering of the array is accepted (the
    /// parts are what matter); [`ChannelId::encode`] gives the canonical one,
    /// which is what subscribers must be answered with.
    pub fn decode(encoded: &str) -> Result<Self, ChannelIdError> {
        if encoded.len() > MAX_ENCODED_LEN {
            return Err(ChannelIdError::TooLong);
        }
        let bytes = STANDARD.decode(encoded).map_err(|_| ChannelIdError::NotBase64)?;
        let parts: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|_| ChannelIdError::Shape)?;
        let [org, name, system, consumer] = parts.as_slice() else {
            return Err(ChannelIdError::Shape);
        };
        let (Some(org), Some(name)) = (org.as_str(), name.as_str()) else {
            return Err(ChannelIdError::Shape);
        };
        Ok(Self::new(org, name, flag(system)?, flag(consumer)?))
    }
}

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

/// A flag as the SDK writes it (`0`/`1`); JSON booleans are accepted too.
fn flag(value: &serde_json::Value) -> Result<bool, ChannelIdError> {
    match value {
        serde_json::Value::Bool(b) => Ok(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(ChannelIdError::Shape),
        },
        _ => Err(ChannelIdError::Shape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_the_python_sdk_byte_for_byte() {
        // base64.b64encode(json.dumps(["acme","my_channel",0,0], separators=(",",":")))
        assert_eq!(
            ChannelId::new("acme", "my_channel", false, false).encode(),
            "WyJhY21lIiwibXlfY2hhbm5lbCIsMCwwXQ=="
        );
        // json.dumps(["ö",'a"b\\',1,0]) escapes as \u00f6 (lowercase) and
        // "😀" as a surrogate pair.
        let id = ChannelId::new("ö", "a\"b\\😀", true, false);
        let json = String::from_utf8(STANDARD.decode(id.encode()).unwrap()).unwrap();
        assert_eq!(json, r#"["\u00f6","a\"b\\\ud83d\ude00",1,0]"#);
    }

    #[test]
    fn refuses_what_is_not_a_channel() {
        for bad in [
            "",
            "!!!",
            &STANDARD.encode("[1,2,3]"),
            &STANDARD.encode(r#"["a","b",2,0]"#),
        ] {
            assert!(ChannelId::decode(bad).is_err(), "{bad}");
        }
        assert_eq!(ChannelId::decode(&"A".repeat(2000)), Err(ChannelIdError::TooLong));
    }

    proptest! {
        #[test]
        fn round_trips(org in "\\PC{0,20}", name in "\\PC{0,40}", system: bool, consumer: bool) {
            let id = ChannelId::new(org, name, system, consumer);
            prop_assert_eq!(ChannelId::decode(&id.encode()).unwrap(), id);
        }
    }
}
