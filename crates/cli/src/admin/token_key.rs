//! `thingstead admin token-key rotate`: a new token signing key generation.
//! Every node signs with it within a minute; tokens signed by older keys
//! keep verifying until they expire.

use serde_json::{Value, json};
use thingstead_core::Platform;

/// `admin token-key` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TokenKeyCommand {
    /// Adds a new signing key generation (kept in the store, sealed with the
    /// master key); older tokens stay valid until they expire.
    Rotate,
}

pub async fn run(platform: &Platform, cmd: TokenKeyCommand) -> anyhow::Result<Value> {
    match cmd {
        TokenKeyCommand::Rotate => {
            let generation = platform.rotate_token_key().await?;
            Ok(json!({ "token_key_generation": generation }))
        }
    }
}
