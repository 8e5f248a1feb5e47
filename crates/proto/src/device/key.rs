use std::fmt;

/// A Hologram-style device key: exactly 8 characters of `[a-z0-9]`.
///
/// The SDK's credentials split it as `cloud_id` (first 4) + `cloud_key`
/// (last 4).
///
/// ```
/// use thingstead_proto::device::DeviceKey;
/// let key = DeviceKey::parse("ab12cd34").unwrap();
/// assert_eq!(key.as_str(), "ab12cd34");
/// assert!(DeviceKey::parse("ABCDEFGH").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceKey(String);

/// Why a string is not a [`DeviceKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a device key is exactly 8 characters of [a-z0-9]")]
pub struct DeviceKeyError;

impl DeviceKey {
    /// The length of every device key.
    pub const LEN: usize = 8;

    /// Parses a device key.
    pub fn parse(s: &str) -> Result<Self, DeviceKeyError> {
        if s.len() == Self::LEN && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DeviceKeyError)
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A device key is a credential: never print it whole.
        write!(f, "DeviceKey({}****)", &self.0[..4])
    }
}

impl std::str::FromStr for DeviceKey {
    type Err = DeviceKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
