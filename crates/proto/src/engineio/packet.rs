use super::PayloadError;

/// One Engine.IO packet (protocols 3 and 4), as text.
///
/// | type | text | example |
/// |---|---|---|
/// | open | `0` + handshake JSON | `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}` |
/// | close | `1` | `1` |
/// | ping | `2` + optional data | `2`, `2probe` |
/// | pong | `3` + optional data | `3`, `3probe` |
/// | message | `4` + data (a socket.io packet) | `42["subscribe",[]]` |
/// | upgrade | `5` | `5` |
/// | noop | `6` | `6` |
///
/// Data after close, upgrade and noop is ignored when parsing.
///
/// ```
/// use thingstead_proto::engineio::Packet;
/// assert_eq!(Packet::parse("2probe").unwrap(), Packet::Ping("probe".into()));
/// assert_eq!(Packet::Message("0".into()).encode(), "40");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0`: the handshake, with its JSON.
    Open(String),
    /// `1`: the session ends.
    Close,
    /// `2`: ping, with optional data (`probe` during an upgrade).
    Ping(String),
    /// `3`: pong, echoing the ping's data.
    Pong(String),
    /// `4`: a message; for socket.io, a socket.io packet's text.
    Message(String),
    /// `5`: the transport upgrade is complete.
    Upgrade,
    /// `6`: nothing (answers an idle poll).
    Noop,
}

impl Packet {
    /// Parses one packet's text.
    ///
    /// A base64 binary packet (`b4...`) is refused with
    /// [`PayloadError::Binary`].
    pub fn parse(text: &str) -> Result<Self, PayloadError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(PayloadError::Invalid("empty packet"))?;
        let data = chars.as_str();
        Ok(match kind {
            '0' => Self::Open(data.to_owned()),
            '1' => Self::Close,
            '2' => Self::Ping(data.to_owned()),
            '3' => Self::Pong(data.to_owned()),
            '4' => Self::Message(data.to_owned()),
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            'b' => return Err(PayloadError::Binary),
            _ => return Err(PayloadError::Invalid("unknown packet type")),
        })
    }

    /// Writes the packet's text.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(1 + self.data().len());
        self.write(&mut out);
        out
    }

    /// Appends the packet's text to `out`.
    pub fn write(&self, out: &mut String) {
        out.push(self.type_char());
        out.push_str(self.data());
    }

    /// The packet type's digit, e.g. `'4'` for a message.
    pub fn type_char(&self) -> char {
        match self {
            Self::Open(_) => '0',
            Self::Close => '1',
            Self::Ping(_) => '2',
            Self::Pong(_) => '3',
            Self::Message(_) => '4',
            Self::Upgrade => '5',
            Self::Noop => '6',
        }
    }

    /// The packet's data (empty for close, upgrade and noop).
    pub fn data(&self) -> &str {
        match self {
            Self::Open(d) | Self::Ping(d) | Self::Pong(d) | Self::Message(d) => d,
            Self::Close | Self::Upgrade | Self::Noop => "",
        }
    }

    /// The length of the packet's text in UTF-8 bytes.
    pub fn len_utf8(&self) -> usize {
        1 + self.data().len()
    }
}
