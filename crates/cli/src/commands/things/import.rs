//! `things import FILE.jsonl`: one thing per line (`-` reads stdin),
//! created with at most `--concurrency` requests in flight, a progress
//! bar on stderr when it is a terminal, and a JSON summary on stdout:
//! `{"created": N, "failed": M, "failures": [{"line": L, "error": "..."}]}`.
//! A line that is not a JSON object is a failure like a refused create;
//! the command exits 1 when any line failed.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use thingstead::things::Space;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::task::JoinSet;

use super::jsonl::JsonLines;
use super::output::print;

/// Most requests in flight one import may ask for.
pub const MAX_CONCURRENCY: usize = 64;

/// `things import` flags.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The JSON Lines file, one thing per line; `-` reads stdin.
    pub file: String,
    /// Things created at the same time (1 to 64).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// One failed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The line's number, from 1.
    pub line: u64,
    /// Why.
    pub error: String,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Things created.
    pub created: u64,
    /// Failed lines, by line number.
    pub failures: Vec<Failure>,
}

impl Summary {
    fn to_json(&self) -> Value {
        json!({
            "created": self.created,
            "failed": self.failures.len(),
            "failures": self.failures.iter().map(|f| json!({"line": f.line, "error": f.error})).collect::<Vec<_>>(),
        })
    }
}

/// Runs an import and prints its summary.
pub async fn run(space: &Space, args: ImportArgs) -> anyhow::Result<()> {
    if !(1..=MAX_CONCURRENCY).contains(&args.concurrency) {
        bail!("--concurrency is 1 to {MAX_CONCURRENCY}");
    }
    let (reader, total): (Box<dyn AsyncBufRead + Unpin + Send>, Option<u64>) = if args.file == "-" {
        (Box::new(BufReader::new(tokio::io::stdin())), None)
    } else {
        let total = count_lines(&args.file).await?;
        let file = tokio::fs::File::open(&args.file)
            .await
            .with_context(|| format!("opening {}", args.file))?;
        (Box::new(BufReader::new(file)), Some(total))
    };
    let bar = progress_bar(total);
    let summary = import(space, JsonLines::new(reader), args.concurrency, &bar).await;
    bar.finish_and_clear();
    let summary = summary?;
    print(&summary.to_json())?;
    if !summary.failures.is_empty() {
        bail!(
            "{} of {} things not created (first failure: line {}: {})",
            summary.failures.len(),
            summary.created + summary.failures.len() as u64,
            summary.failures[0].line,
            summary.failures[0].error
        );
    }
    Ok(())
}

/// The non-blank lines of a file, for the progress bar's length.
async fn count_lines(path: &str) -> anyhow::Result<u64> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {path}"))?;
    let mut reader = BufReader::new(file);
    let mut count = 0u64;
    let mut blank = true;
    loop {
        let chunk = reader.fill_buf().await.with_context(|| format!("reading {path}"))?;
        if chunk.is_empty() {
            break;
        }
        for &b in chunk {
            if b == b'\n' {
                count += u64::from(!blank);
                blank = true;
            } else if !b.is_ascii_whitespace() {
                blank = false;
            }
        }
        let n = chunk.len();
        reader.consume(n);
    }
    Ok(count + u64::from(!blank))
}

/// A bar on stderr when it is a terminal, else nothing drawn.
fn progress_bar(total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} things {msg} ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} {pos} things {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Creates a thing per line, `concurrency` at a time; an I/O error
/// reading the input stops the import (what was sent is counted first).
async fn import<R: AsyncBufRead + Unpin>(
    space: &Space,
    mut lines: JsonLines<R>,
    concurrency: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut tasks: JoinSet<(u64, Result<(), String>)> = JoinSet::new();
    let mut reading = true;
    let mut read_error = None;
    let record = |summary: &mut Summary, line: u64, result: Result<(), String>| {
        match result {
            Ok(()) => summary.created += 1,
            Err(error) => summary.failures.push(Failure { line, error }),
        }
        bar.inc(1);
        if !summary.failures.is_empty() {
            bar.set_message(format!("({} failed)", summary.failures.len()));
        }
    };
    loop {
        tokio::select! {
            line = lines.next(), if reading && tasks.len() < concurrency => match line {
                Ok(Some(line)) => match line.object {
                    Ok(object) => {
                        let space = space.clone();
                        let number = line.number;
                        tasks.spawn(async move {
                            let result = space.things().create(&Value::Object(object)).await;
                            (number, result.map(drop).map_err(|e| e.to_string()))
                        });
                    }
                    Err(reason) => record(&mut summary, line.number, Err(reason)),
                },
                Ok(None) => reading = false,
                Err(e) => {
                    reading = false;
                    read_error = Some(e);
                }
            },
            done = tasks.join_next(), if !tasks.is_empty() => match done {
                Some(Ok((line, result))) => record(&mut summary, line, result),
                Some(Err(e)) => bail!("an import task failed: {e}"),
                None => {}
            },
            else => break,
        }
    }
    summary.failures.sort_by_key(|f| f.line);
    if let Some(e) = read_error {
        print(&summary.to_json())?;
        return Err(e).context("reading the input (the summary above counts the lines before)");
    }
    Ok(summary)
}
