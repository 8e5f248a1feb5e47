use std::fmt;

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
///
/// ```
/// use thingstead_proto::device::E164;
/// assert!(E164::parse("+15555550123").is_ok());
/// assert!(E164::parse("+12ab").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct E164(String);

/// Why a string is not an [`E164`] number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    /// Does not start with `+`.
    #[error("a destination number must start with '+'")]
    NoPlus,
    /// Not 8 to 15 digits after the `+`, or starts with 0.
    #[error("a destination number is '+' and 8 to 15 digits (E.164), not starting with 0")]
    Digits,
}

impl E164 {
    /// Parses an E.164 number.
    pub fn parse(s: &str) -> Result<Self, E164Error> {
        let digits = s.strip_prefix('+').ok_or(E164Error::NoPlus)?;
        let ok =
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(E164Error::Digits)
        }
    }

    /// The number as text, with its `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for E164 {
    type Err = E164Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
