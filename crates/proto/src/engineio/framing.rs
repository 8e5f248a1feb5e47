use super::{LengthUnit, Packet, PayloadError, PayloadLimits, binary, record_separator, text};

/// The three ways a polling payload frames its packets, so one place can
/// translate between them.
///
/// ```
/// use thingstead_proto::engineio::{Framing, LengthUnit, PayloadLimits};
/// let limits = PayloadLimits::default();
/// // socketioxide's protocol-3 text payload, re-framed for the EXP SDK:
/// let packets = Framing::Text(LengthUnit::Utf16).parse(b"2:40", &limits).unwrap();
/// assert_eq!(Framing::Binary.encode(&packets).unwrap(), vec![0, 2, 0xFF, b'4', b'0']);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Engine.IO 3 XHR2 binary framing (what socketIO-client 0.7.2 reads).
    Binary,
    /// Engine.IO 3 text framing `<length>:<packet>`.
    Text(LengthUnit),
    /// Engine.IO 4 record-separated framing.
    RecordSeparator,
}

impl Framing {
    /// Checks that `buf` is a whole payload (see [`binary::check`]).
    pub fn check(self, buf: &[u8], limits: &PayloadLimits) -> Result<Option<usize>, PayloadError> {
        match self {
            Self::Binary => binary::check(buf, limits),
            Self::Text(unit) => text::check(buf, unit, limits),
            Self::RecordSeparator => record_separator::check(buf, limits),
        }
    }

    /// Parses a whole payload.
    pub fn parse(self, buf: &[u8], limits: &PayloadLimits) -> Result<Vec<Packet>, PayloadError> {
        match self {
            Self::Binary => binary::parse(buf, limits),
            Self::Text(unit) => text::parse(buf, unit, limits),
            Self::RecordSeparator => record_separator::parse(buf, limits),
        }
    }

    /// Writes a payload; only the record-separated framing can fail.
    pub fn encode(self, packets: &[Packet]) -> Result<Vec<u8>, PayloadError> {
        match self {
            Self::Binary => Ok(binary::encode(packets)),
            Self::Text(unit) => Ok(text::encode(packets, unit)),
            Self::RecordSeparator => record_separator::encode(packets),
        }
    }
}
