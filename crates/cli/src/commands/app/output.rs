//! Documents on stdout: a table (lists) or indented JSON on a terminal;
//! compact JSON, one document per line, otherwise.

use std::io::{IsTerminal, Write};

use comfy_table::Table;
use serde_json::Value;

fn terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Prints one document.
pub fn one(doc: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if terminal() {
        writeln!(out, "{}", serde_json::to_string_pretty(doc)?)?;
    } else {
        writeln!(out, "{doc}")?;
    }
    out.flush()?;
    Ok(())
}

/// Prints a list: a table of `columns` on a terminal, JSON lines otherwise.
pub fn list(docs: &[Value], total: u64, columns: &[&str]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if terminal() {
        let mut table = Table::new();
        crate::commands::tables::fit_to_terminal(&mut table);
        table.set_header(columns.to_vec());
        for doc in docs {
            table.add_row(columns.iter().map(|c| cell(doc, c)).collect::<Vec<_>>());
        }
        writeln!(out, "{table}")?;
        writeln!(out, "{} of {total}", docs.len())?;
    } else {
        for doc in docs {
            writeln!(out, "{doc}")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn cell(doc: &Value, column: &str) -> String {
    match doc.get(column) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A JSON argument: the text, or stdin for `-`.
pub fn json_arg(text: &str) -> anyhow::Result<Value> {
    let text = if text == "-" {
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut buf)?;
        buf
    } else {
        text.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("not JSON: {e}"))
}

/// `KEY=VALUE` pairs.
pub fn filters(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(anyhow::anyhow!("a filter is KEY=VALUE: {p:?}")),
        })
        .collect()
}
