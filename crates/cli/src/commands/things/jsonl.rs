//! Reading a JSON Lines file one line at a time, numbered from 1, each
//! line at most [`MAX_LINE`] bytes: a longer line, or one that is not
//! UTF-8 or not a JSON object, is a failed line, not the end of the
//! file. Blank lines are skipped.

use serde_json::{Map, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest line read (a thing description is far smaller; the
/// server's body limit applies anyway).
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// One non-blank line.
#[derive(Debug)]
pub struct Line {
    /// Its number in the file, from 1.
    pub number: u64,
    /// The object on it, or why there is none.
    pub object: Result<Map<String, Value>, String>,
}

/// A JSON Lines reader.
pub struct JsonLines<R> {
    reader: R,
    number: u64,
    buf: Vec<u8>,
    /// A line is being read (some of it consumed).
    partial: bool,
    /// The line being read is over the limit.
    too_long: bool,
}

impl<R: AsyncBufRead + Unpin> JsonLines<R> {
    /// Reads from `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            number: 0,
            buf: Vec::new(),
            partial: false,
            too_long: false,
        }
    }

    /// The next non-blank line; `None` at the end. An I/O error ends the
    /// reading. Cancel-safe (for `select!`): nothing read is lost.
    pub async fn next(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let Some(too_long) = self.read_line().await? else {
                return Ok(None);
            };
            self.number += 1;
            if too_long {
                return Ok(Some(self.failed(format!("line longer than {MAX_LINE} bytes"))));
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                return Ok(Some(self.failed("not UTF-8".into())));
            };
            // Editors on some systems begin a UTF-8 file with a byte order mark.
            let text = match self.number {
                1 => text.strip_prefix('\u{feff}').unwrap_or(text),
                _ => text,
            };
            if text.trim().is_empty() {
                continue;
            }
            let object = match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err("not a JSON object".into()),
                Err(e) => Err(format!("not JSON: {e}")),
            };
            return Ok(Some(Line {
                number: self.number,
                object,
            }));
        }
    }

    fn failed(&self, reason: String) -> Line {
        Line {
            number: self.number,
            object: Err(reason),
        }
    }

    /// Reads one line into `buf` (without its newline): `None` at the end,
    /// `Some(true)` when it was longer than [`MAX_LINE`] (its rest is
    /// skipped, not kept). Cancel-safe: a line read in part is continued
    /// by the next call.
    async fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        if !self.partial {
            self.buf.clear();
            self.too_long = false;
        }
        loop {
            let chunk = self.reader.fill_buf().await?;
            if chunk.is_empty() {
                let had_line = std::mem::take(&mut self.partial);
                return Ok(had_line.then_some(self.too_long));
            }
            self.partial = true;
            let (part, used) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], i + 1),
                None => (chunk, chunk.len()),
            };
            let ends = used > part.len();
            if !self.too_long {
                if self.buf.len() + part.len() > MAX_LINE {
                    self.too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            self.reader.consume(used);
            if ends {
                self.partial = false;
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                return Ok(Some(self.too_long));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8]) -> Vec<(u64, Result<String, String>)> {
        let mut r = JsonLines::new(tokio::io::BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        while let Some(line) = r.next().await.unwrap() {
            out.push((line.number, line.object.map(|m| Value::Object(m).to_string())));
        }
        out
    }

    #[tokio::test]
    async fn lines_are_numbered_and_bad_ones_are_failures_not_the_end() {
        let got = all(b"{\"title\":\"a\"}\n\n[1]\n{nope\r\n\xff\n{\"title\":\"b\"}").await;
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0], (1, Ok("{\"title\":\"a\"}".into())));
        assert_eq!(got[1], (3, Err("not a JSON object".into())));
        assert_eq!(got[2].0, 4);
        assert!(got[2].1.as_ref().unwrap_err().starts_with("not JSON"));
        assert_eq!(got[3], (5, Err("not UTF-8".into())));
        assert_eq!(got[4], (6, Ok("{\"title\":\"b\"}".into())));
    }

    #[tokio::test]
    async fn a_byte_order_mark_at_the_start_of_the_file_is_skipped() {
        let got = all("\u{feff}{\"title\":\"a\"}\n{\"title\":\"b\"}\n".as_bytes()).await;
        assert_eq!(got[0], (1, Ok("{\"title\":\"a\"}".into())));
        assert_eq!(got[1], (2, Ok("{\"title\":\"b\"}".into())));
    }

    #[tokio::test]
    async fn an_overlong_line_is_one_failure_and_reading_goes_on() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\n{}\n");
        let got = all(&input).await;
        assert_eq!(got.len(), 2, "{:?}", got.iter().map(|g| g.0).collect::<Vec<_>>());
        assert!(got[0].1.as_ref().unwrap_err().contains("longer"));
        assert_eq!(got[1], (2, Ok("{}".into())));
    }
}
