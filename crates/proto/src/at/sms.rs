//! SMS text in text mode (27.005 3.5.1): after `AT+CMGS="<da>"\r` and the
//! `> ` prompt the device writes the text and ends it with Ctrl-Z (or
//! cancels with ESC).

use super::AtError;

/// Ends an SMS text: send it.
pub const CTRL_Z: u8 = 0x1a;
/// Ends an SMS text: cancel it.
pub const ESC: u8 = 0x1b;

/// The bytes the device writes after the prompt: the text, then Ctrl-Z.
/// Text with a Ctrl-Z or ESC inside cannot be sent this way.
///
/// ```
/// use thingstead_proto::at::encode_sms_body;
/// assert_eq!(encode_sms_body("hi").unwrap(), b"hi\x1a");
/// assert!(encode_sms_body("a\u{1a}b").is_err());
/// ```
pub fn encode_sms_body(text: &str) -> Result<Vec<u8>, AtError> {
    if text.bytes().any(|b| b == CTRL_Z || b == ESC) {
        return Err(AtError::Unencodable("Ctrl-Z or ESC inside an SMS text"));
    }
    let mut out = text.as_bytes().to_vec();
    out.push(CTRL_Z);
    Ok(out)
}

/// Finds a whole SMS text at the start of `buf`: its length with the
/// Ctrl-Z or ESC that ends it, `None` when more is needed, an error past `max`.
///
/// ```
/// use thingstead_proto::at::check_sms_body;
/// assert_eq!(check_sms_body(b"hi\x1aAT", 200).unwrap(), Some(3));
/// ```
pub fn check_sms_body(buf: &[u8], max: usize) -> Result<Option<usize>, AtError> {
    let window = &buf[..buf.len().min(max)];
    match window.iter().position(|&b| b == CTRL_Z || b == ESC) {
        Some(at) => Ok(Some(at + 1)),
        None if buf.len() >= max => Err(AtError::TooLong { max }),
        None => Ok(None),
    }
}

/// The text of a whole SMS body as [`check_sms_body`] delimits it, or
/// `None` when it was cancelled with ESC.
///
/// ```
/// use thingstead_proto::at::parse_sms_body;
/// assert_eq!(parse_sms_body(b"hi\x1a").unwrap().as_deref(), Some("hi"));
/// assert_eq!(parse_sms_body(b"hi\x1b").unwrap(), None);
/// ```
pub fn parse_sms_body(body: &[u8]) -> Result<Option<String>, AtError> {
    match body.split_last() {
        Some((&CTRL_Z, text)) => std::str::from_utf8(text)
            .map(|t| Some(t.to_owned()))
            .map_err(|_| AtError::Syntax("SMS text is not UTF-8")),
        Some((&ESC, _)) => Ok(None),
        _ => Err(AtError::Syntax("an SMS text ends with Ctrl-Z or ESC")),
    }
}
