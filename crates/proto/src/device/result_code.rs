/// Result codes of the device protocol, as hologram-python names them.
///
/// ```
/// use thingstead_proto::device::ResultCode;
/// assert_eq!(ResultCode::from_code(3), ResultCode::AuthInvalid);
/// assert!(ResultCode::Sent.is_success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// 0: the message was stored.
    Sent,
    /// 1: the connection closed before the whole reply was read (counted as success by the SDK).
    ConnectionClosed,
    /// 2: the frame could not be parsed.
    ParseFailed,
    /// 3: unknown device key or failed authentication.
    AuthInvalid,
    /// 4: the payload type was invalid.
    PayloadInvalid,
    /// 5: the protocol type was invalid (e.g. the frame was too large).
    ProtocolInvalid,
    /// 6: an internal error on the server.
    Internal,
    /// 7: the metadata was malformed.
    MetadataInvalid,
    /// 8: a topic was malformed.
    TopicInvalid,
    /// -1: no or unreadable reply (client side only).
    Unknown,
}

impl ResultCode {
    /// The numeric code on the wire.
    pub fn code(self) -> i32 {
        match self {
            Self::Sent => 0,
            Self::ConnectionClosed => 1,
            Self::ParseFailed => 2,
            Self::AuthInvalid => 3,
            Self::PayloadInvalid => 4,
            Self::ProtocolInvalid => 5,
            Self::Internal => 6,
            Self::MetadataInvalid => 7,
            Self::TopicInvalid => 8,
            Self::Unknown => -1,
        }
    }

    /// The code for a number; anything outside 0..=8 is [`ResultCode::Unknown`].
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Sent,
            1 => Self::ConnectionClosed,
            2 => Self::ParseFailed,
            3 => Self::AuthInvalid,
            4 => Self::PayloadInvalid,
            5 => Self::ProtocolInvalid,
            6 => Self::Internal,
            7 => Self::MetadataInvalid,
            8 => Self::TopicInvalid,
            _ => Self::Unknown,
        }
    }

    /// True for the codes hologram-python treats as success (0 and 1).
    pub fn is_success(self) -> bool {
        matches!(self, Self::Sent | Self::ConnectionClosed)
    }

    /// The description hologram-python's `getResultString` gives.
    pub fn description(self) -> &'static str {
        match self {
            Self::Sent => "Message sent successfully",
            Self::ConnectionClosed => "Connection was closed so we couldn't read the whole message",
            Self::ParseFailed => "Failed to parse the message",
            Self::AuthInvalid => "Auth section of the message was invalid",
            Self::PayloadInvalid => "Payload type was invalid",
            Self::ProtocolInvalid => "Protocol type was invalid",
            Self::Internal => "Internal error in Hologram Cloud",
            Self::MetadataInvalid => "Metadata was formatted incorrectly",
            Self::TopicInvalid => "Topic was formatted incorrectly",
            Self::Unknown => "Unknown error",
        }
    }
}

impl std::fmt::Display for ResultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.description())
    }
}
