//! What the modem writes, modem → device: result codes, information lines
//! and unsolicited codes (`\r\n...\r\n`, verbose mode, V.250 5.7.1), and the
//! `> ` prompt for SMS text.

use super::{AtError, find_end, integer, quotable, split_params, text, unquote};

/// The prompt after `AT+CMGS=...` (27.005 3.5.1): the modem waits for text.
const PROMPT: &[u8] = b"> ";
/// The end of every line the modem writes.
const CRLF: &[u8] = b"\r\n";

/// One item of modem output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// An empty line: the `\r\n` in front of every verbose response.
    Blank,
    /// The `> ` prompt for SMS text.
    Prompt,
    /// A final result code: the command in progress is over.
    Final(Final),
    /// `+NAME: params`: a response to the command in progress or an
    /// unsolicited result code ([`Urc::parse`](super::Urc::parse)).
    Info(Info),
    /// The echo of a command line (while echo is on, `ATE1`).
    Echo(String),
    /// Any other line: `AT+CIMI`'s IMSI, an SMS's text after `+CMGR`, `ATI`'s
    /// identification.
    Text(String),
}

/// A final result code (V.250 5.7.1, 27.007 9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <err>`: a mobile equipment error (SIM, network...).
    CmeError(ErrorCode),
    /// `+CMS ERROR: <err>`: a message service error.
    CmsError(ErrorCode),
    /// `NO CARRIER`
    NoCarrier,
    /// `BUSY`
    Busy,
    /// `NO ANSWER`
    NoAnswer,
    /// `NO DIALTONE`
    NoDialtone,
}

/// The `<err>` of `+CME ERROR` / `+CMS ERROR`: numeric (`AT+CMEE=1`) or
/// verbose (`AT+CMEE=2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    /// `+CME ERROR: 10`
    Code(u16),
    /// `+CME ERROR: SIM not inserted`
    Text(String),
}

impl ErrorCode {
    /// Whether it says the SIM is missing (27.007 9.2.1: 10, "SIM not inserted").
    pub fn is_sim_missing(&self) -> bool {
        match self {
            Self::Code(code) => *code == 10,
            Self::Text(text) => text.eq_ignore_ascii_case("SIM not inserted"),
        }
    }
}

/// `+NAME: p1,p2,...`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The name with its `+`: `+CSQ`.
    pub name: String,
    /// The parameters.
    pub params: Vec<Param>,
}

/// A parameter of an information line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// A decimal number.
    Int(i64),
    /// A quoted string.
    Str(String),
    /// Unquoted text that is not a number: `READY` in `+CPIN: READY`.
    Bare(String),
    /// Nothing between two commas.
    Empty,
}

impl Param {
    /// The number, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The text of a string or bare parameter.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) | Self::Bare(s) => Some(s),
            _ => None,
        }
    }
}

impl Info {
    /// An information line.
    pub fn new(name: &str, params: Vec<Param>) -> Self {
        Self {
            name: name.to_owned(),
            params,
        }
    }

    /// Parameter `i` as a number.
    pub fn int(&self, i: usize) -> Option<i64> {
        self.params.get(i).and_then(Param::as_int)
    }

    /// Parameter `i` as text.
    pub fn str(&self, i: usize) -> Option<&str> {
        self.params.get(i).and_then(Param::as_str)
    }
}

/// Finds one whole item of modem output at the start of `buf`: a line with
/// its `\r\n` (a blank line is one too) or the `> ` prompt. Its length,
/// `None` when more bytes are needed, [`AtError::TooLong`] once `max` bytes
/// came without an end.
///
/// ```
/// use thingstead_proto::at::check;
/// assert_eq!(check(b"\r\nOK\r\n", 64).unwrap(), Some(2));
/// assert_eq!(check(b"OK\r\n", 64).unwrap(), Some(4));
/// assert_eq!(check(b"> ", 64).unwrap(), Some(2));
/// assert_eq!(check(b"+CSQ: 2", 64).unwrap(), None);
/// ```
pub fn check(buf: &[u8], max: usize) -> Result<Option<usize>, AtError> {
    if buf.starts_with(PROMPT) {
        return Ok(Some(PROMPT.len()));
    }
    find_end(buf, CRLF, max)
}

impl Output {
    /// Parses one item as [`check`] delimits it (the `\r\n` may be left off).
    pub fn parse(item: &[u8]) -> Result<Self, AtError> {
        if item == PROMPT {
            return Ok(Self::Prompt);
        }
        let line = item.strip_suffix(CRLF).unwrap_or(item);
        // An echoed command line ends in its own `\r`.
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = text(line)?;
        if line.is_empty() {
            return Ok(Self::Blank);
        }
        if let Some(result) = Final::parse(line) {
            return Ok(Self::Final(result));
        }
        if line.get(..2).is_some_and(|at| at.eq_ignore_ascii_case("AT")) {
            return Ok(Self::Echo(line.to_owned()));
        }
        if let Some(info) = parse_info(line) {
            return Ok(Self::Info(info));
        }
        Ok(Self::Text(line.to_owned()))
    }

    /// The bytes the modem writes for it (verbose mode; an echo is written
    /// as the command line it repeats).
    pub fn encode(&self) -> Result<Vec<u8>, AtError> {
        let line = match self {
            Self::Blank => String::new(),
            Self::Prompt => return Ok(PROMPT.to_vec()),
            Self::Final(result) => result.encode()?,
            Self::Info(info) => encode_info(info)?,
            Self::Echo(command) => {
                text(command.as_bytes()).map_err(|_| AtError::Unencodable("a control character in an echo"))?;
                return Ok(format!("{command}\r").into_bytes());
            }
            Self::Text(t) => {
                // Text that would read back as something else (a result
                // code, an information line, an echo, the prompt) cannot
                // be written as text.
                let reads_back = Self::parse(t.as_bytes()).is_ok_and(|o| o == *self);
                if !reads_back || t.starts_with("> ") {
                    return Err(AtError::Unencodable("text that would read back as something else"));
                }
                t.clone()
            }
        };
        let mut out = line.into_bytes();
        out.extend_from_slice(CRLF);
        Ok(out)
    }
}

impl Final {
    fn parse(line: &str) -> Option<Self> {
        Some(match line {
            "OK" => Self::Ok,
            "ERROR" => Self::Error,
            "NO CARRIER" => Self::NoCarrier,
            "BUSY" => Self::Busy,
            "NO ANSWER" => Self::NoAnswer,
            "NO DIALTONE" => Self::NoDialtone,
            _ => {
                if let Some(err) = line.strip_prefix("+CME ERROR:") {
                    Self::CmeError(error_code(err.trim_start())?)
                } else {
                    Self::CmsError(error_code(line.strip_prefix("+CMS ERROR:")?.trim_start())?)
                }
            }
        })
    }

    fn encode(&self) -> Result<String, AtError> {
        let code = |prefix: &str, err: &ErrorCode| match err {
            ErrorCode::Code(n) => Ok(format!("{prefix} {n}")),
            ErrorCode::Text(t) if error_code(t) == Some(ErrorCode::Text(t.clone())) => Ok(format!("{prefix} {t}")),
            ErrorCode::Text(_) => Err(AtError::Unencodable("an error text that would read back differently")),
        };
        Ok(match self {
            Self::Ok => "OK".into(),
            Self::Error => "ERROR".into(),
            Self::CmeError(err) => code("+CME ERROR:", err)?,
            Self::CmsError(err) => code("+CMS ERROR:", err)?,
            Self::NoCarrier => "NO CARRIER".into(),
            Self::Busy => "BUSY".into(),
            Self::NoAnswer => "NO ANSWER".into(),
            Self::NoDialtone => "NO DIALTONE".into(),
        })
    }

    /// Whether the command succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok)
    }
}

fn error_code(s: &str) -> Option<ErrorCode> {
    if s.is_empty() || s != s.trim() {
        return None;
    }
    match s.parse::<u16>() {
        Ok(n) if n.to_string() == s => Some(ErrorCode::Code(n)),
        Ok(_) => None,
        Err(_) if s.bytes().all(|b| b.is_ascii_digit()) => None,
        Err(_) => Some(ErrorCode::Text(s.to_owned())),
    }
}

/// `+NAME: params` (one space after the colon, as modems write; a missing
/// space is accepted). `None` if the line is not of that shape.
fn parse_info(line: &str) -> Option<Info> {
    let (name, rest) = line.split_once(':')?;
    let body = name.strip_prefix('+')?;
    if body.is_empty() || body.len() > 16 || !body.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let params = if rest.is_empty() {
        Vec::new()
    } else {
        split_params(rest)?
            .into_iter()
            .map(|p| {
                if p.is_empty() {
                    Some(Param::Empty)
                } else if let Some(inner) = unquote(p) {
                    Some(Param::Str(inner.to_owned()))
                } else if let Some(n) = integer(p) {
                    Some(Param::Int(n))
                } else if p.contains('"') {
                    None
                } else {
                    Some(Param::Bare(p.to_owned()))
                }
            })
            .collect::<Option<Vec<_>>>()?
    };
    Some(Info {
        name: name.to_owned(),
        params,
    })
}

fn encode_info(info: &Info) -> Result<String, AtError> {
    if parse_info(&format!("{}:", info.name)).is_none_or(|parsed| parsed.name != info.name) {
        return Err(AtError::Unencodable("malformed information name"));
    }
    let mut out = format!("{}:", info.name);
    if !info.params.is_empty() {
        out.push(' ');
    }
    for (i, param) in info.params.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match param {
            Param::Int(n) => out.push_str(&n.to_string()),
            Param::Str(s) if quotable(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            Param::Bare(s) if quotable(s) && !s.is_empty() && !s.contains(',') && integer(s).is_none() => {
                out.push_str(s)
            }
            Param::Empty => {}
            _ => return Err(AtError::Unencodable("a parameter that would read back differently")),
        }
    }
    // A single empty parameter list would read back as no parameters.
    if info.params.len() == 1 && info.params[0] == Param::Empty {
        return Err(AtError::Unencodable("a lone empty parameter"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Output {
        Output::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn modem_lines_parse_as_the_manual_writes_them() {
        assert_eq!(one("OK\r\n"), Output::Final(Final::Ok));
        assert_eq!(
            one("+CME ERROR: 10\r\n"),
            Output::Final(Final::CmeError(ErrorCode::Code(10)))
        );
        assert!(matches!(one("+CME ERROR: SIM not inserted"), Output::Final(Final::CmeError(e)) if e.is_sim_missing()));
        assert_eq!(
            one("+CMS ERROR: 500"),
            Output::Final(Final::CmsError(ErrorCode::Code(500)))
        );
        assert_eq!(
            one("+CPIN: READY"),
            Output::Info(Info::new("+CPIN", vec![Param::Bare("READY".into())]))
        );
        assert_eq!(
            one("+COPS: 0,0,\"AT&T Hologram\",7"),
            Output::Info(Info::new(
                "+COPS",
                vec![
                    Param::Int(0),
                    Param::Int(0),
                    Param::Str("AT&T Hologram".into()),
                    Param::Int(7)
                ]
            ))
        );
        assert_eq!(
            one("+CMGR: \"REC UNREAD\",\"+15555550123\",,\"24/11/28,10:00:00+00\""),
            Output::Info(Info::new(
                "+CMGR",
                vec![
                    Param::Str("REC UNREAD".into()),
                    Param::Str("+15555550123".into()),
                    Param::Empty,
                    Param::Str("24/11/28,10:00:00+00".into())
                ]
            ))
        );
        assert_eq!(one("310170123456789"), Output::Text("310170123456789".into()));
        assert_eq!(one("AT+CSQ\r\r\n"), Output::Echo("AT+CSQ".into()));
        assert_eq!(one("\r\n"), Output::Blank);
        assert_eq!(one("> "), Output::Prompt);
        assert!(Output::parse(b"\xff\xfe\r\n").is_err());
        assert!(Output::parse(b"O\x07K\r\n").is_err());
    }

    #[test]
    fn a_line_that_never_ends_is_refused_at_the_limit() {
        assert_eq!(check(&[b'x'; 64], 64), Err(AtError::TooLong { max: 64 }));
        assert_eq!(check(&[b'x'; 63], 64), Ok(None));
    }
}
