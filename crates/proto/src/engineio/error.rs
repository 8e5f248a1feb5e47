/// Why an Engine.IO payload or packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload (or a packet it announces) exceeds the byte limit.
    #[error("payload larger than {max} bytes")]
    TooLarge {
        /// The limit in force.
        max: usize,
    },
    /// The payload holds more packets than allowed.
    #[error("payload holds more than {max} packets")]
    TooManyPackets {
        /// The limit in force.
        max: usize,
    },
    /// A packet length has more decimal digits than allowed.
    #[error("packet length has more than {max} digits")]
    LengthTooLong {
        /// The limit in force.
        max: usize,
    },
    /// The payload ends in the middle of a packet.
    #[error("payload ends in the middle of a packet")]
    Truncated,
    /// A binary packet (XHR2 marker `0x01`, or base64 `b...` in text
    /// framing). Thingstead's realtime face carries text only; the EXP SDK
    /// never sends binary packets.
    #[error("binary Engine.IO packets are not supported")]
    Binary,
    /// Not an Engine.IO payload or packet.
    #[error("invalid Engine.IO payload: {0}")]
    Invalid(&'static str),
}
