//! `thingstead broadcast CHANNEL NAME [PAYLOAD]`: prints the responses.

use std::time::Duration;

use serde_json::Value;

use super::client::{ClientArgs, start};

/// `broadcast` flags.
#[derive(clap::Args, Debug)]
pub struct BroadcastArgs {
    /// The channel's name.
    pub channel: String,
    /// The event name.
    pub name: String,
    /// The payload: JSON, or else taken as a string (default: null).
    pub payload: Option<String>,
    /// Seconds to wait for responses.
    #[arg(long, default_value_t = 1.0)]
    pub timeout: f64,
    /// A consumer channel.
    #[arg(long)]
    pub consumer: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Broadcasts and prints the JSON array of responses.
pub async fn run(args: BroadcastArgs) -> anyhow::Result<()> {
    if !(args.timeout.is_finite() && (0.0..=300.0).contains(&args.timeout)) {
        anyhow::bail!("--timeout is 0 to 300 seconds");
    }
    let payload = match &args.payload {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())),
    };
    let app = start(&args.client, false).await?;
    let channel = app.get_channel(&args.channel, args.consumer, false)?;
    let responses = channel
        .broadcast(&args.name, payload, Duration::from_secs_f64(args.timeout))
        .await?;
    app.stop();
    println!("{}", Value::Array(responses));
    Ok(())
}
