//! Messages on stdout: a table on a terminal, JSON lines otherwise.

use std::io::{IsTerminal, Write};

use base64::Engine;
use comfy_table::Table;
use serde_json::json;
use thingstead_core::records::rfc3339;

use super::api::Message;

/// How messages are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A readable table (stdout is a terminal).
    Table,
    /// One JSON object per line (stdout is a pipe or a file).
    JsonLines,
}

impl Output {
    /// A table on a terminal, JSON lines otherwise.
    pub fn detect() -> Self {
        if std::io::stdout().is_terminal() {
            Self::Table
        } else {
            Self::JsonLines
        }
    }

    /// Prints a batch of messages (a table gets a header even when empty).
    pub fn print_all(self, messages: &[Message]) -> anyhow::Result<()> {
        self.print_with(messages, false)
    }

    /// Prints the first batch of `tail`: a borderless table, so that the
    /// rows printed as messages arrive line up below it.
    pub fn print_first(self, messages: &[Message]) -> anyhow::Result<()> {
        self.print_with(messages, true)
    }

    fn print_with(self, messages: &[Message], compact: bool) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        match self {
            Self::Table => writeln!(out, "{}", table(messages, compact))?,
            Self::JsonLines => {
                for m in messages {
                    writeln!(out, "{}", json_line(m))?;
                }
            }
        }
        out.flush()?;
        Ok(())
    }

    /// Prints messages that just arrived (a table without a header).
    pub fn print_new(self, messages: &[Message]) -> anyhow::Result<()> {
        match self {
            Self::JsonLines => self.print_all(messages),
            Self::Table if messages.is_empty() => Ok(()),
            Self::Table => {
                let t = table(messages, true);
                let mut out = std::io::stdout().lock();
                for line in t.lines().skip(1) {
                    writeln!(out, "{line}")?;
                }
                out.flush()?;
                Ok(())
            }
        }
    }
}

/// The payload as text, or `base64:...` when it is not UTF-8.
fn payload_text(m: &Message) -> String {
    match std::str::from_utf8(&m.payload) {
        Ok(s) => s.to_owned(),
        Err(_) => format!(
            "base64:{}",
            base64::engine::general_purpose::STANDARD.encode(&m.payload)
        ),
    }
}

fn table(messages: &[Message], compact: bool) -> Table {
    let mut t = Table::new();
    if compact {
        t.load_preset(comfy_table::presets::NOTHING);
    }
    crate::commands::tables::fit_to_terminal(&mut t);
    t.set_header(["id", "received_at", "device", "topics", "payload"]);
    for m in messages {
        t.add_row([
            m.id.to_string(),
            rfc3339::format(m.received_at),
            m.deviceid.clone(),
            m.topics.join(", "),
            payload_text(m),
        ]);
    }
    t
}

/// One message as a JSON object.
pub fn json_line(m: &Message) -> serde_json::Value {
    let mut v = json!({
        "id": m.id,
        "deviceid": m.deviceid,
        "received_at": rfc3339::format(m.received_at),
        "topics": m.topics,
    });
    match std::str::from_utf8(&m.payload) {
        Ok(s) => v["payload"] = json!(s),
        Err(_) => v["payload_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(&m.payload)),
    }
    v
}
