use std::fmt;

/// A client-chosen key that makes a message frame idempotent: the server
/// stores at most one message per device and key, and answers a repeat
/// with success without storing it again. 1 to 64 characters of
/// `[A-Za-z0-9_.:-]`; sent as the frame member `"i"` (Thingstead's own
/// extension; hologram-python never sends it).
///
/// ```
/// use thingstead_proto::device::IdempotencyKey;
/// assert!(IdempotencyKey::parse("buf-3f2a-17").is_ok());
/// assert!(IdempotencyKey::parse("").is_err());
/// assert!(IdempotencyKey::parse("white space").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a string is not an [`IdempotencyKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 64 characters of [A-Za-z0-9_.:-]")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// The longest key.
    pub const MAX_LEN: usize = 64;

    /// Parses a key.
    pub fn parse(s: &str) -> Result<Self, IdempotencyKeyError> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdempotencyKeyError)
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
