//! JSON on stdout: indented on a terminal, one compact document per line
//! otherwise (so `thingstead things list | jq -c` and `| wc -l` work).
//! Arguments that are JSON may be given as text or as `-` for stdin.

use std::io::{IsTerminal, Read, Write};

use anyhow::Context;
use serde_json::Value;

/// Whether stdout is a terminal.
pub fn terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Prints one document (flushed: lists print as they page).
pub fn print(doc: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if terminal() {
        writeln!(out, "{}", serde_json::to_string_pretty(doc)?)?;
    } else {
        writeln!(out, "{doc}")?;
    }
    out.flush()?;
    Ok(())
}

/// A JSON argument: the text, or stdin for `-`.
pub fn json_arg(text: &str) -> anyhow::Result<Value> {
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .lock()
            .read_to_string(&mut buf)
            .context("reading stdin")?;
        buf
    } else {
        text.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("not JSON: {e}"))
}

/// A value argument: JSON when it parses (`20`, `true`, `{"a":1}`), else
/// the text as a string (`on`).
pub fn value_arg(text: &str) -> anyhow::Result<Value> {
    if text == "-" {
        return json_arg(text);
    }
    Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_value_is_json_or_else_a_string() {
        assert_eq!(value_arg("20.5").unwrap(), json!(20.5));
        assert_eq!(value_arg("{\"a\":1}").unwrap(), json!({"a": 1}));
        assert_eq!(value_arg("on").unwrap(), json!("on"));
        assert!(json_arg("{nope").unwrap_err().to_string().starts_with("not JSON"));
    }
}
