//! AT commands (ITU-T V.250, 3GPP TS 27.007 and 27.005): the codec between
//! a device and its cellular modem on a serial line.
//!
//! The shape is the device frame codec's (mini-redis's): one function finds
//! a whole item in a buffer, one parses it, one writes it. Both directions
//! are here, because the SDK talks to modems and its tests run a modem
//! simulator:
//!
//! | direction | find | parse | write |
//! |---|---|---|---|
//! | device → modem: a command line `AT+CSQ\r` | [`check_command`] | [`Command::parse`] | [`Command::encode`] |
//! | device → modem: SMS text after the `> ` prompt, ended by Ctrl-Z | [`check_sms_body`] | [`parse_sms_body`] | [`encode_sms_body`] |
//! | modem → device: `\r\nOK\r\n`, `\r\n+CSQ: 20,99\r\n`, `> ` | [`check`] | [`Output::parse`] | [`Output::encode`] |
//!
//! Whether a `+NAME: ...` line answers the command in progress or is an
//! unsolicited result code is a matter of context (`+CREG: 1` is both); the
//! codec gives an [`Info`] line and [`Urc::parse`] says which unsolicited
//! codes it knows, so the engine that tracks the command decides.
//!
//! Every limit is the caller's: `check` refuses an item of more than `max`
//! bytes as soon as that many arrived without an end, so a modem that
//! never ends a line costs at most `max` bytes.
//!
//! ```
//! use thingstead_proto::at::{check, Arg, Command, Final, Info, Output, Param};
//! let cmd = Command::set("+COPS", vec![Arg::Int(1), Arg::Int(2), Arg::Str("26201".into())]);
//! assert_eq!(cmd.encode().unwrap(), b"AT+COPS=1,2,\"26201\"\r");
//!
//! let reply = b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n";
//! let first = check(reply, 1024).unwrap().unwrap();
//! assert_eq!(first, 2); // the blank line before it
//! let rest = &reply[first..];
//! let len = check(rest, 1024).unwrap().unwrap();
//! let line = Output::parse(&rest[..len]).unwrap();
//! assert_eq!(line, Output::Info(Info::new("+CSQ", vec![Param::Int(20), Param::Int(99)])));
//! ```

mod command;
mod output;
mod sms;
mod urc;

pub use command::{Arg, Command, Form, check_command};
pub use output::{ErrorCode, Final, Info, Output, Param, check};
pub use sms::{CTRL_Z, ESC, check_sms_body, encode_sms_body, parse_sms_body};
pub use urc::{Domain, RegStatus, Urc};

/// Why AT bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtError {
    /// No end within the size limit.
    #[error("AT line longer than {max} bytes")]
    TooLong {
        /// The limit in force.
        max: usize,
    },
    /// Not valid AT syntax (or not UTF-8, or control characters inside).
    #[error("malformed AT line: {0}")]
    Syntax(&'static str),
    /// A value that cannot be written as AT text.
    #[error("cannot encode: {0}")]
    Unencodable(&'static str),
}

/// Finds `end` in the first `max` bytes of `buf`: the length up to and
/// including it, `None` when more bytes may bring it, an error when `max`
/// bytes arrived without it.
fn find_end(buf: &[u8], end: &[u8], max: usize) -> Result<Option<usize>, AtError> {
    let window = &buf[..buf.len().min(max)];
    match window.windows(end.len()).position(|w| w == end) {
        Some(at) => Ok(Some(at + end.len())),
        None if buf.len() >= max => Err(AtError::TooLong { max }),
        None => Ok(None),
    }
}

/// `bytes` as text without control characters, or a syntax error.
fn text(bytes: &[u8]) -> Result<&str, AtError> {
    let s = std::str::from_utf8(bytes).map_err(|_| AtError::Syntax("not UTF-8"))?;
    if s.chars().any(char::is_control) {
        return Err(AtError::Syntax("control character"));
    }
    Ok(s)
}

/// Whether `s` can be a quoted AT string: no `"`, no control characters.
fn quotable(s: &str) -> bool {
    !s.contains('"') && !s.chars().any(char::is_control)
}

/// Splits AT parameters at commas outside quotes. `None` for an unclosed quote.
fn split_params(s: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    out.push(&s[start..]);
    Some(out)
}

/// The inside of `"..."`, if `s` is exactly one quoted string.
fn unquote(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('"')).then_some(inner)
}

/// A decimal integer as AT writes it (optional `-`, digits, no leading `+`
/// or zeros beyond a single `0`), so that it writes back the same.
fn integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    if canonical { s.parse().ok() } else { None }
}
