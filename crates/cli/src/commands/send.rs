//! `thingstead send`: send messages as a device, one line of JSON per result.

use std::time::Duration;

use thingstead::device::{DeviceClient, Mode, SendOutcome};

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
    /// The messages, each sent on its own connection.
    #[arg(required = true, value_name = "MESSAGE")]
    pub messages: Vec<String>,
}

pub async fn run(args: SendArgs) -> anyhow::Result<()> {
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
