//! `thingstead listen CHANNEL`: one JSON line per broadcast until
//! interrupted.

use std::io::Write;
use std::time::Duration;

use serde_json::json;
use thingstead::app::{DEFAULT_LISTEN_TIMEOUT, DEFAULT_MAX_AGE};

use super::client::{ClientArgs, start};

/// `listen` flags.
#[derive(clap::Args, Debug)]
pub struct ListenArgs {
    /// The channel's name.
    pub channel: String,
    /// Only broadcasts with this event name (default: every event).
    #[arg(long, value_name = "NAME")]
    pub event: Option<String>,
    /// A consumer channel.
    #[arg(long)]
    pub consumer: bool,
    /// A system channel (where the server announces updates).
    #[arg(long)]
    pub system: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// How long one wait lasts before checking again (Ctrl-C ends any wait).
const WAIT: Duration = Duration::from_secs(60);

/// Subscribes, says so on stderr, then prints broadcasts as they come.
pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let app = start(&args.client, true).await?;
    let channel = app.get_channel(&args.channel, args.consumer, args.system)?;
    let listener = match &args.event {
        Some(name) => channel.listen(name, DEFAULT_LISTEN_TIMEOUT, DEFAULT_MAX_AGE).await?,
        None => channel.listen_all(DEFAULT_LISTEN_TIMEOUT, DEFAULT_MAX_AGE).await?,
    };
    eprintln!("listening on {} ({})", args.channel, channel.id().encode());
    loop {
        let next = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            next = listener.wait(WAIT) => next?,
        };
        let Some(b) = next else { continue };
        let line = json!({"id": b.id, "channel": args.channel, "name": b.name, "payload": b.payload});
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    app.stop();
    Ok(())
}
