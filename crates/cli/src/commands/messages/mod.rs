//! `thingstead messages list | tail`: what devices sent, read through the
//! REST API (`GET /api/1/csr/rdm`) with an API key.
//!
//! On a terminal the messages are a table; otherwise one JSON object per
//! line (`id`, `deviceid`, `received_at`, `topics`, `payload`, or
//! `payload_base64` when the payload is not UTF-8).

mod api;
mod output;
mod tail;

use std::time::Duration;

use api::{Filter, RestClient};
use output::Output;

/// Flags `list` and `tail` share.
#[derive(clap::Args, Debug)]
pub struct MessagesArgs {
    /// An API key of the organization (`thingstead admin apikey create --org ORG`).
    #[arg(long, env = "THINGSTEAD_APIKEY", hide_env_values = true)]
    pub apikey: String,
    /// The server's HTTP address.
    #[arg(long, env = "THINGSTEAD_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Only messages from this device (uuid).
    #[arg(long, value_name = "UUID")]
    pub device: Option<String>,
    /// Only messages carrying this topic.
    #[arg(long)]
    pub topic: Option<String>,
}

/// `messages` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum MessagesCommand {
    /// The newest stored messages, newest first.
    List {
        #[command(flatten)]
        args: MessagesArgs,
        /// How many (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// The newest messages, oldest first, then each new one as it arrives (Ctrl-C ends).
    Tail {
        #[command(flatten)]
        args: MessagesArgs,
        /// How many stored messages to show before following (0 to 1000).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=1000))]
        limit: u32,
        /// Milliseconds between polls (100 to 60000).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
        interval_ms: u64,
    },
}

/// Runs a `messages` subcommand.
pub async fn run(cmd: MessagesCommand) -> anyhow::Result<()> {
    match cmd {
        MessagesCommand::List { args, limit } => {
            let (client, filter) = connect(&args)?;
            let messages = client.page(&filter, limit, None).await?.messages;
            Output::detect().print_all(&messages)
        }
        MessagesCommand::Tail {
            args,
            limit,
            interval_ms,
        } => {
            let (client, filter) = connect(&args)?;
            tail::run(
                &client,
                &filter,
                limit,
                Duration::from_millis(interval_ms),
                Output::detect(),
            )
            .await
        }
    }
}

fn connect(args: &MessagesArgs) -> anyhow::Result<(RestClient, Filter)> {
    let client = RestClient::new(&args.server, &args.apikey)?;
    let filter = Filter {
        device: args.device.clone(),
        topic: args.topic.clone(),
    };
    Ok((client, filter))
}
