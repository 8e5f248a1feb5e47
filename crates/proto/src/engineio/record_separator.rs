//! Engine.IO 4 polling payload framing: packets separated by the record
//! separator `\x1e`, which packet text never contains.

use super::{Packet, PayloadError, PayloadLimits};

/// The byte between two packets.
pub const SEPARATOR: u8 = 0x1e;

/// Checks a record-separated payload against the limits.
///
/// The framing carries no lengths, so the end of the HTTP body ends the
/// payload: any non-empty `buf` within the limits is whole
/// (`Ok(Some(buf.len()))`); an empty one is `Ok(None)`.
///
/// ```
/// use thingstead_proto::engineio::{record_separator, PayloadLimits};
/// assert_eq!(record_separator::check(b"2\x1e6", &PayloadLimits::default()).unwrap(), Some(3));
/// ```
pub fn check(buf: &[u8], limits: &PayloadLimits) -> Result<Option<usize>, PayloadError> {
    if buf.len() > limits.max_payload_bytes {
        return Err(PayloadError::TooLarge {
            max: limits.max_payload_bytes,
        });
    }
    if buf.iter().filter(|&&b| b == SEPARATOR).count() >= limits.max_packets {
        return Err(PayloadError::TooManyPackets {
            max: limits.max_packets,
        });
    }
    Ok((!buf.is_empty()).then_some(buf.len()))
}

/// Parses a record-separated payload into its packets.
///
/// ```
/// use thingstead_proto::engineio::{record_separator, Packet, PayloadLimits};
/// let packets = record_separator::parse(b"3\x1e40", &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![Packet::Pong(String::new()), Packet::Message("0".into())]);
/// ```
pub fn parse(buf: &[u8], limits: &PayloadLimits) -> Result<Vec<Packet>, PayloadError> {
    if check(buf, limits)?.is_none() {
        return Err(PayloadError::Invalid("empty payload"));
    }
    buf.split(|&b| b == SEPARATOR)
        .map(|part| {
            let text = std::str::from_utf8(part).map_err(|_| PayloadError::Invalid("packet is not UTF-8"))?;
            Packet::parse(text)
        })
        .collect()
}

/// Writes packets as one record-separated payload.
///
/// Fails when a packet's text contains the separator, which this framing
/// cannot carry.
///
/// ```
/// use thingstead_proto::engineio::{record_separator, Packet};
/// assert_eq!(record_separator::encode(&[Packet::Ping(String::new()), Packet::Noop]).unwrap(), b"2\x1e6");
/// ```
pub fn encode(packets: &[Packet]) -> Result<Vec<u8>, PayloadError> {
    let mut out = String::new();
    for (i, packet) in packets.iter().enumerate() {
        if packet.data().as_bytes().contains(&SEPARATOR) {
            return Err(PayloadError::Invalid("packet text contains the record separator"));
        }
        if i > 0 {
            out.push(char::from(SEPARATOR));
        }
        packet.write(&mut out);
    }
    Ok(out.into_bytes())
}
