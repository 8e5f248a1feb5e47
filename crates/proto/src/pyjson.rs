//! JSON written the way Python's default `json.dumps` writes it
//! (separators `", "` and `": "`, everything outside printable ASCII
//! escaped as `\uXXXX`), so our frames are byte-identical to
//! hologram-python's, and channel ids identical to exp-sdk's. serde_json
//! has no such formatter, hence these few lines.

use std::fmt::Write;

/// Appends `s` as a JSON string literal, escaped like Python's `ensure_ascii`.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Python escapes control characters and non-ASCII; DEL is ASCII.
            ' '..='\u{7f}' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Appends a JSON array of strings.
pub(crate) fn push_str_array<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_str(out, item);
    }
    out.push(']');
}

/// Appends `"key": ` (with the leading `, ` unless first).
pub(crate) fn push_key(out: &mut String, key: &str, first: bool) {
    if !first {
        out.push_str(", ");
    }
    push_str(out, key);
    out.push_str(": ");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_python() {
        let mut s = String::new();
        push_str(&mut s, "\u{1}agnostic é 😀 \"q\"\n");
        assert_eq!(s, r#""\u0001agnostic \u00e9 \ud83d\ude00 \"q\"\n""#);
    }
}
