use std::fmt;

/// A message topic: 1 to 64 characters, no control characters.
///
/// ```
/// use thingstead_proto::device::Topic;
/// let t: Topic = "sensors/temp".parse().unwrap();
/// assert_eq!(t.as_str(), "sensors/temp");
/// assert!("".parse::<Topic>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Topic(String);

/// Why a string is not a [`Topic`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// Empty topic.
    #[error("a topic cannot be empty")]
    Empty,
    /// Longer than [`Topic::MAX_CHARS`].
    #[error("a topic is at most 64 characters")]
    TooLong,
    /// Contains a control character.
    #[error("a topic cannot contain control characters")]
    ControlCharacter,
}

impl Topic {
    /// The longest topic, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Parses a topic.
    pub fn parse(s: &str) -> Result<Self, TopicError> {
        if s.is_empty() {
            return Err(TopicError::Empty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(TopicError::TooLong);
        }
        if s.chars().any(char::is_control) {
            return Err(TopicError::ControlCharacter);
        }
        Ok(Self(s.to_owned()))
    }

    /// The topic as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Topic {
    type Err = TopicError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
