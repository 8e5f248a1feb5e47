//! Text payload framing of Engine.IO 3 polling (socket.io 1.x–2.x
//! clients without XHR2, and what socketioxide writes for protocol 3):
//! `<length>:<packet>` repeated, the length counted in characters.

use super::{Packet, PayloadError, PayloadLimits};

/// What a text-framing length counts.
///
/// The engine.io-protocol v3 spec counts characters as JavaScript does,
/// in UTF-16 code units, so a character outside the Basic Multilingual
/// Plane (an emoji) counts 2. Some socketioxide releases count Unicode
/// scalar values (Rust `char`s) instead; the two only differ on such
/// characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LengthUnit {
    /// UTF-16 code units (the spec; JavaScript's `String.length`).
    #[default]
    Utf16,
    /// Unicode scalar values.
    Chars,
}

impl LengthUnit {
    fn of_char(self, c: char) -> usize {
        match self {
            Self::Utf16 => c.len_utf16(),
            Self::Chars => 1,
        }
    }

    /// The length of `text` in this unit.
    pub fn len(self, text: &str) -> usize {
        match self {
            Self::Utf16 => text.encode_utf16().count(),
            Self::Chars => text.chars().count(),
        }
    }
}

/// Checks that `buf` is a whole text payload; same contract as
/// [`binary::check`](super::binary::check).
///
/// ```
/// use thingstead_proto::engineio::{text, LengthUnit, PayloadLimits};
/// let limits = PayloadLimits::default();
/// assert_eq!(text::check("2:40".as_bytes(), LengthUnit::Utf16, &limits).unwrap(), Some(4));
/// assert_eq!(text::check("3:40".as_bytes(), LengthUnit::Utf16, &limits).unwrap(), None);
/// ```
pub fn check(buf: &[u8], unit: LengthUnit, limits: &PayloadLimits) -> Result<Option<usize>, PayloadError> {
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
        match record(buf, pos, unit, limits)? {
            Some((_, end)) => pos = end,
            None => return Ok(None),
        }
        count += 1;
    }
    Ok((pos > 0).then_some(pos))
}

/// Parses a whole text payload into its packets.
///
/// ```
/// use thingstead_proto::engineio::{text, LengthUnit, Packet, PayloadLimits};
/// let packets = text::parse("1:62:40".as_bytes(), LengthUnit::Utf16, &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![Packet::Noop, Packet::Message("0".into())]);
/// ```
pub fn parse(buf: &[u8], unit: LengthUnit, limits: &PayloadLimits) -> Result<Vec<Packet>, PayloadError> {
    match check(buf, unit, limits)? {
        Some(_) => {}
        None if buf.is_empty() => return Err(PayloadError::Invalid("empty payload")),
        None => return Err(PayloadError::Truncated),
    }
    let mut packets = Vec::new();
    let mut pos = 0;
    while let Some((start, end)) = record(buf, pos, unit, limits)? {
        // `record` only returns spans of whole UTF-8 characters.
        let text = std::str::from_utf8(&buf[start..end]).map_err(|_| PayloadError::Invalid("packet is not UTF-8"))?;
        packets.push(Packet::parse(text)?);
        pos = end;
        if pos == buf.len() {
            break;
        }
    }
    Ok(packets)
}

/// Writes packets as one text payload.
///
/// ```
/// use thingstead_proto::engineio::{text, LengthUnit, Packet};
/// let bytes = text::encode(&[Packet::Message("2[\"é\"]".into())], LengthUnit::Utf16);
/// assert_eq!(bytes, "7:42[\"é\"]".as_bytes());
/// ```
pub fn encode(packets: &[Packet], unit: LengthUnit) -> Vec<u8> {
    let mut out = String::new();
    for packet in packets {
        let text = packet.encode();
        out.push_str(&unit.len(&text).to_string());
        out.push(':');
        out.push_str(&text);
    }
    out.into_bytes()
}

/// Finds the packet record starting at `pos`: `Some((text_start, text_end))`
/// in bytes, or `None` when the buffer ends inside it.
fn record(
    buf: &[u8],
    pos: usize,
    unit: LengthUnit,
    limits: &PayloadLimits,
) -> Result<Option<(usize, usize)>, PayloadError> {
    let max_digits = limits.digits();
    let mut len: usize = 0;
    let mut digits = 0;
    let mut i = pos;
    loop {
        let Some(&byte) = buf.get(i) else {
            return Ok(None);
        };
        if byte == b':' {
            break;
        }
        if !byte.is_ascii_digit() {
            return Err(PayloadError::Invalid(
                "packet length must be decimal digits followed by ':'",
            ));
        }
        if digits == max_digits {
            return Err(PayloadError::LengthTooLong { max: max_digits });
        }
        digits += 1;
        len = len * 10 + usize::from(byte - b'0');
        i += 1;
    }
    if digits == 0 {
        return Err(PayloadError::Invalid("packet length has no digits"));
    }
    if len == 0 {
        return Err(PayloadError::Invalid("empty packet"));
    }
    let start = i + 1;
    // Every unit takes at least one byte: refuse now what cannot fit.
    let too_large = PayloadError::TooLarge {
        max: limits.max_payload_bytes,
    };
    if start.checked_add(len).ok_or(too_large.clone())? > limits.max_payload_bytes {
        return Err(too_large);
    }
    let mut counted = 0;
    let mut end = start;
    while counted < len {
        let Some(c) = next_char(buf, end)? else {
            return Ok(None);
        };
        counted += unit.of_char(c);
        end += c.len_utf8();
    }
    if counted != len {
        return Err(PayloadError::Invalid("packet length splits a character"));
    }
    Ok(Some((start, end)))
}

/// Decodes the UTF-8 character at `pos`; `None` when the buffer ends
/// before it is complete.
fn next_char(buf: &[u8], pos: usize) -> Result<Option<char>, PayloadError> {
    let Some(&first) = buf.get(pos) else {
        return Ok(None);
    };
    let width = match first {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Err(PayloadError::Invalid("packet is not UTF-8")),
    };
    let Some(bytes) = buf.get(pos..pos + width) else {
        // Reject an invalid prefix now rather than waiting for more bytes.
        if let Err(e) = std::str::from_utf8(&buf[pos..])
            && e.error_len().is_some()
        {
            return Err(PayloadError::Invalid("packet is not UTF-8"));
        }
        return Ok(None);
    };
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.chars().next())
        .map(Some)
        .ok_or(PayloadError::Invalid("packet is not UTF-8"))
}
