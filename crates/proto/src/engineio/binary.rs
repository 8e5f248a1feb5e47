//! XHR2 binary payload framing of Engine.IO 3 polling: for each packet
//! `0x00`, the decimal digits of the packet's UTF-8 byte length as raw
//! byte values 0–9, `0xFF`, then the packet's text.

use super::{Packet, PayloadError, PayloadLimits};

/// The marker of a text packet.
const STRING_MARKER: u8 = 0x00;
/// The marker of a binary packet (refused).
const BINARY_MARKER: u8 = 0x01;
/// The byte that ends the length digits.
const LENGTH_END: u8 = 0xFF;

/// Checks that `buf` is a whole XHR2 payload.
///
/// Returns `Ok(Some(len))` (`len == buf.len()`) when `buf` ends exactly
/// after a packet, `Ok(None)` when it is empty or ends inside a packet, and
/// an error as soon as a limit is exceeded (a length with too many digits,
/// a packet that would end past `max_payload_bytes`, one packet too many)
/// or the bytes cannot be a payload, without waiting for more bytes.
///
/// ```
/// use thingstead_proto::engineio::{binary, PayloadLimits};
/// let limits = PayloadLimits::default();
/// assert_eq!(binary::check(&[0, 1, 0xFF, b'6'], &limits).unwrap(), Some(4));
/// assert_eq!(binary::check(&[0, 2, 0xFF, b'4'], &limits).unwrap(), None);
/// assert!(binary::check(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0], &limits).is_err());
/// ```
pub fn check(buf: &[u8], limits: &PayloadLimits) -> Result<Option<usize>, PayloadError> {
    if buf.len() > limits.max_payload_bytes {
        return Err(PayloadError::TooLarge {
            max: limits.max_payload_bytes,
        });
    }
    let mut pos = 0;
    let mut count = 0;
    while pos < buf.len() {
        if count == limits.max_packets {
            return Err(PayloadError::TooManyPackets {
                max: limits.max_packets,
            });
        }
        match record(buf, pos, limits)? {
            Some((_, end)) => pos = end,
            None => return Ok(None),
        }
        count += 1;
    }
    Ok((pos > 0).then_some(pos))
}

/// Parses a whole XHR2 payload into its packets.
///
/// ```
/// use thingstead_proto::engineio::{binary, Packet, PayloadLimits};
/// let packets = binary::parse(&[0, 1, 0xFF, b'6', 0, 2, 0xFF, b'4', b'0'], &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![Packet::Noop, Packet::Message("0".into())]);
/// ```
pub fn parse(buf: &[u8], limits: &PayloadLimits) -> Result<Vec<Packet>, PayloadError> {
    match check(buf, limits)? {
        Some(_) => {}
        None if buf.is_empty() => return Err(PayloadError::Invalid("empty payload")),
        None => return Err(PayloadError::Truncated),
    }
    let mut packets = Vec::new();
    let mut pos = 0;
    while let Some((start, end)) = record(buf, pos, limits)? {
        let text = std::str::from_utf8(&buf[start..end]).map_err(|_| PayloadError::Invalid("packet is not UTF-8"))?;
        packets.push(Packet::parse(text)?);
        pos = end;
        if pos == buf.len() {
            break;
        }
    }
    Ok(packets)
}

/// Writes packets as one XHR2 payload.
///
/// ```
/// use thingstead_proto::engineio::{binary, Packet};
/// assert_eq!(binary::encode(&[Packet::Message("0".into())]), vec![0, 2, 0xFF, b'4', b'0']);
/// ```
pub fn encode(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        let text = packet.encode();
        out.push(STRING_MARKER);
        out.extend(text.len().to_string().bytes().map(|digit| digit - b'0'));
        out.push(LENGTH_END);
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// Finds the packet record starting at `pos`: `Some((text_start, text_end))`,
/// or `None` when the buffer ends inside it.
fn record(buf: &[u8], pos: usize, limits: &PayloadLimits) -> Result<Option<(usize, usize)>, PayloadError> {
    match buf.get(pos) {
        None => return Ok(None),
        Some(&STRING_MARKER) => {}
        Some(&BINARY_MARKER) => return Err(PayloadError::Binary),
        Some(_) => return Err(PayloadError::Invalid("packet marker must be 0x00")),
    }
    let max_digits = limits.digits();
    let mut len: usize = 0;
    let mut digits = 0;
    let mut i = pos + 1;
    loop {
        let Some(&byte) = buf.get(i) else {
            return Ok(None);
        };
        if byte == LENGTH_END {
            break;
        }
        if byte > 9 {
            return Err(PayloadError::Invalid("packet length digit must be a byte 0-9"));
        }
        if digits == max_digits {
            return Err(PayloadError::LengthTooLong { max: max_digits });
        }
        digits += 1;
        len = len * 10 + usize::from(byte);
        i += 1;
    }
    if digits == 0 {
        return Err(PayloadError::Invalid("packet length has no digits"));
    }
    if len == 0 {
        return Err(PayloadError::Invalid("empty packet"));
    }
    let start = i + 1;
    let end = start.checked_add(len).ok_or(PayloadError::TooLarge {
        max: limits.max_payload_bytes,
    })?;
    if end > limits.max_payload_bytes {
        return Err(PayloadError::TooLarge {
            max: limits.max_payload_bytes,
        });
    }
    Ok((end <= buf.len()).then_some((start, end)))
}
