//! Command lines, device → modem: `AT`, `ATE0`, `AT+CSQ`, `AT+CREG?`,
//! `AT+CMGF=?`, `AT+COPS=1,2,"26201"`, each ended by `\r`.

use super::{AtError, find_end, integer, quotable, split_params, text, unquote};

/// The longest command name accepted (`+USOCR`, `&F`, `E0`...).
const MAX_NAME: usize = 16;

/// One command of a command line.
///
/// ```
/// use thingstead_proto::at::{Command, Form};
/// let cmd = Command::parse(b"at+creg?\r").unwrap();
/// assert_eq!((cmd.name.as_str(), &cmd.form), ("+CREG", &Form::Read));
/// assert_eq!(cmd.encode().unwrap(), b"AT+CREG?\r");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The name in upper case: `""` for a bare `AT`, `+CSQ` for an
    /// extended command, `E0` or `&F` for a basic one.
    pub name: String,
    /// Which form of the command.
    pub form: Form,
}

/// The form of an extended command (V.250 5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `AT+CMD`: run it.
    Exec,
    /// `AT+CMD?`: its current value.
    Read,
    /// `AT+CMD=?`: the values it takes.
    Test,
    /// `AT+CMD=a,b,...`: set it.
    Set(Vec<Arg>),
}

/// A parameter of a set command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// A decimal number.
    Int(i64),
    /// A string, written quoted (it may not contain `"`).
    Str(String),
    /// An omitted parameter (`AT+CMD=1,,3`).
    Empty,
}

/// Finds one whole command line at the start of `buf` (ended by `\r`,
/// V.250's S3): its length with the `\r`, `None` when more bytes are needed,
/// [`AtError::TooLong`] once `max` bytes came without one.
///
/// ```
/// use thingstead_proto::at::check_command;
/// assert_eq!(check_command(b"AT+CSQ\rAT", 64).unwrap(), Some(7));
/// assert_eq!(check_command(b"AT+CS", 64).unwrap(), None);
/// ```
pub fn check_command(buf: &[u8], max: usize) -> Result<Option<usize>, AtError> {
    find_end(buf, b"\r", max)
}

impl Command {
    /// A command run as is: `AT{name}`.
    pub fn exec(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            form: Form::Exec,
        }
    }

    /// The read form: `AT{name}?`.
    pub fn read(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            form: Form::Read,
        }
    }

    /// The set form: `AT{name}=args`.
    pub fn set(name: &str, args: Vec<Arg>) -> Self {
        Self {
            name: name.to_owned(),
            form: Form::Set(args),
        }
    }

    /// Parses one command line (with or without its `\r`). `AT` is
    /// case-insensitive and so is the name, which comes out in upper case;
    /// strings keep their case.
    pub fn parse(line: &[u8]) -> Result<Self, AtError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = text(line)?;
        let rest = match line.get(..2) {
            Some(at) if at.eq_ignore_ascii_case("AT") => &line[2..],
            _ => return Err(AtError::Syntax("a command line starts with AT")),
        };
        let name_len = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_alphanumeric() || ((c == '+' || c == '&') && i == 0)))
            .map_or(rest.len(), |(i, _)| i);
        let (name, tail) = rest.split_at(name_len);
        let name = name.to_ascii_uppercase();
        check_name(&name).map_err(|_| AtError::Syntax("malformed command name"))?;
        let form = match tail {
            "" => Form::Exec,
            "?" => Form::Read,
            "=?" => Form::Test,
            _ => {
                let args = tail
                    .strip_prefix('=')
                    .ok_or(AtError::Syntax("unexpected text after the name"))?;
                Form::Set(parse_args(args)?)
            }
        };
        if name.is_empty() && form != Form::Exec {
            return Err(AtError::Syntax("a bare AT takes no suffix"));
        }
        Ok(Self { name, form })
    }

    /// The command line, `\r` included. Refuses names and strings AT
    /// cannot carry.
    pub fn encode(&self) -> Result<Vec<u8>, AtError> {
        check_name(&self.name)?;
        let mut out = format!("AT{}", self.name);
        match &self.form {
            Form::Exec => {}
            Form::Read => out.push('?'),
            Form::Test => out.push_str("=?"),
            Form::Set(args) => {
                if self.name.is_empty() || args.is_empty() {
                    return Err(AtError::Unencodable(
                        "a set command takes a name and at least one argument",
                    ));
                }
                out.push('=');
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match arg {
                        Arg::Int(n) => out.push_str(&n.to_string()),
                        Arg::Str(s) if quotable(s) => {
                            out.push('"');
                            out.push_str(s);
                            out.push('"');
                        }
                        Arg::Str(_) => return Err(AtError::Unencodable("a quote or control character in a string")),
                        Arg::Empty => {}
                    }
                }
            }
        }
        out.push('\r');
        Ok(out.into_bytes())
    }

    /// The arguments of a set command (empty for the other forms).
    pub fn args(&self) -> &[Arg] {
        match &self.form {
            Form::Set(args) => args,
            _ => &[],
        }
    }
}

/// `""`, or `+`/`&` then letters and digits, or a letter then letters and
/// digits; upper case; at most [`MAX_NAME`] bytes.
fn check_name(name: &str) -> Result<(), AtError> {
    let body = name.strip_prefix(['+', '&']).unwrap_or(name);
    let ok = name.len() <= MAX_NAME
        && (name.is_empty()
            || (body.starts_with(|c: char| c.is_ascii_uppercase())
                && body.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())));
    if ok {
        Ok(())
    } else {
        Err(AtError::Unencodable("malformed command name"))
    }
}

fn parse_args(s: &str) -> Result<Vec<Arg>, AtError> {
    split_params(s)
        .ok_or(AtError::Syntax("unclosed quote"))?
        .into_iter()
        .map(|p| {
            if p.is_empty() {
                Ok(Arg::Empty)
            } else if let Some(inner) = unquote(p) {
                Ok(Arg::Str(inner.to_owned()))
            } else {
                integer(p)
                    .map(Arg::Int)
                    .ok_or(AtError::Syntax("an argument is neither a number nor a string"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_writes_back() {
        for line in [
            "AT\r",
            "ATE0\r",
            "AT&F\r",
            "AT+CSQ\r",
            "AT+CREG?\r",
            "AT+CMGF=?\r",
            "AT+CMGF=1\r",
            "AT+USOCO=0,\"127.0.0.1\",4010\r",
            "AT+CMGS=\"+15555550123\"\r",
            "AT+COPS=0,,\"x\",-1\r",
        ] {
            let cmd = Command::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            assert_eq!(cmd.encode().unwrap(), line.as_bytes(), "{line:?}");
        }
    }

    #[test]
    fn bad_lines_are_refused() {
        for line in [
            "",
            "A",
            "XT+CSQ",
            "AT+",
            "AT+CSQ=\"open",
            "AT+CSQ=1x",
            "AT?",
            "AT+C\u{7}SQ",
            "AT+CSQ??",
        ] {
            assert!(Command::parse(line.as_bytes()).is_err(), "{line:?}");
        }
        assert!(Command::set("+X", vec![Arg::Str("a\"b".into())]).encode().is_err());
        assert!(Command::exec("+lower").encode().is_err());
    }
}
