//! `thingstead send`: send messages as a device, one line of JSON per result.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use thingstead::device::{DeviceClient, FullPolicy, Mode, OfflineBuffer, SendOutcome};

use super::device_args::DeviceArgs;

/// Send messages as a device.
#[derive(clap::Args, Debug)]
pub struct SendArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// A topic for every message (repeat for several).
    #[arg(short = 't', long = "topic", value_name = "TOPIC")]
    pub topics: Vec<String>,
    /// Send the messages again every SECS seconds (at least 1) ...
    #[arg(long, value_name = "SECS", requires = "duration", value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: Option<u64>,
    /// ... for DURATION seconds.
    #[arg(long, value_name = "SECS", requires = "repeat")]
    pub duration: Option<u64>,
    /// Raw mode: send each MESSAGE unchanged to any TCP server and print its raw reply (no key needed).
    #[arg(long)]
    pub raw: bool,
    /// Keep what cannot be sent now in this directory (an offline buffer):
    /// the next run with the same directory sends it first, in order.
    #[arg(long, value_name = "DIR")]
    pub buffer: Option<PathBuf>,
    /// The most messages the buffer holds; further ones are refused.
    #[arg(long, value_name = "N", default_value_t = 10_000, requires = "buffer", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub buffer_max: u64,
    /// The messages, each sent on its own connection.
    #[arg(required = true, value_name = "MESSAGE")]
    pub messages: Vec<String>,
}

pub async fn run(args: SendArgs) -> anyhow::Result<()> {
    if args.buffer.is_some() {
        return run_buffered(args).await;
    }
    let mode = if args.raw { Mode::Raw } else { Mode::Cloud };
    let client = args.device.client(mode).await?;
    let topics: Vec<&str> = args.topics.iter().map(String::as_str).collect();
    let rounds = match (args.repeat, args.duration) {
        (Some(every), Some(duration)) => duration.div_ceil(every).max(1),
        _ => 1,
    };
    let mut ticks = tokio::time::interval(Duration::from_secs(args.repeat.unwrap_or(1)));
    let (mut sent, mut failed) = (0usize, 0usize);
    for _ in 0..rounds {
        ticks.tick().await;
        for message in &args.messages {
            let outcome = send_one(&client, message, &topics).await?;
            println!("{}", outcome_line(message, &outcome, args.raw));
            if args.raw || outcome.is_success() {
                sent += 1;
            } else {
                failed += 1;
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} messages were not accepted", sent + failed);
    }
    Ok(())
}

/// `send --buffer DIR`: what the buffer holds goes first; then every
/// message is sent or buffered; a summary line on stderr says what was
/// sent, buffered or refused. Fails only when something was refused.
async fn run_buffered(args: SendArgs) -> anyhow::Result<()> {
    let mode = if args.raw { Mode::Raw } else { Mode::Cloud };
    let dir = args.buffer.clone().unwrap_or_default();
    let max = usize::try_from(args.buffer_max).unwrap_or(usize::MAX);
    let buffer = tokio::task::spawn_blocking(move || OfflineBuffer::open(&dir, max, FullPolicy::Reject))
        .await
        .context("opening the offline buffer")?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = args.device.client_with_buffer(mode, Some(buffer)).await?;
    let topics: Vec<&str> = args.topics.iter().map(String::as_str).collect();
    // The client flushes by itself at start; this waits for that and
    // retries what it left.
    client.flush_buffer().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tally = Tally::default();
    for message in &args.messages {
        match client.send_message(message, &topics).await {
            Ok(outcome) => {
                println!("{}", outcome_line(message, &outcome, args.raw));
                match outcome {
                    SendOutcome::Buffered => tally.buffered += 1,
                    o if args.raw || o.is_success() => tally.sent += 1,
                    _ => tally.refused += 1,
                }
            }
            Err(e) => {
                println!("{}", serde_json::json!({ "message": message, "error": e.to_string() }));
                tally.refused += 1;
            }
        }
    }
    let waiting = client.buffered_count().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // Buffered messages sent (or refused) by any flush of this run.
    let flushed = client.flushed_total();
    tally.sent += flushed.sent;
    tally.refused += flushed.refused;
    eprintln!(
        "sent {} ({} from the buffer), buffered {}, refused {}; {waiting} waiting in the buffer",
        tally.sent, flushed.sent, tally.buffered, tally.refused
    );
    if tally.refused > 0 {
        anyhow::bail!("{} messages were refused", tally.refused);
    }
    Ok(())
}

/// What a buffered `send` did.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    buffered: usize,
    refused: usize,
}

async fn send_one(client: &DeviceClient, message: &str, topics: &[&str]) -> anyhow::Result<SendOutcome> {
    client
        .send_message(message, topics)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// One result as a JSON line.
fn outcome_line(message: &str, outcome: &SendOutcome, raw: bool) -> serde_json::Value {
    if raw {
        let reply = outcome.reply().map(String::from_utf8_lossy).unwrap_or_default();
        serde_json::json!({ "message": message, "reply": reply })
    } else {
        serde_json::json!({ "message": message, "code": outcome.code(), "description": outcome.description() })
    }
}
