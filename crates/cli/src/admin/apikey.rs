//! `admin apikey`.

use serde_json::{Value, json};
use thingstead_core::Platform;

/// `admin apikey` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ApikeyCommand {
    /// Create an API key (printed once; stored hashed).
    Create {
        #[arg(long)]
        org: String,
    },
    /// List API keys (id and prefix only).
    List(super::OrgFilter),
    /// Delete an API key by id.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: String,
    },
}

pub(super) async fn run(p: &Platform, cmd: ApikeyCommand) -> anyhow::Result<Value> {
    match cmd {
        ApikeyCommand::Create { org } => super::json(p.create_api_key(&p.tenant(&org).await?).await?),
        ApikeyCommand::List(super::OrgFilter { org }) => {
            super::list_each(p, org.as_deref(), |t| async move { p.list_api_keys(&t).await }).await
        }
        ApikeyCommand::Delete { org, id } => {
            p.delete_api_key(&p.tenant(&org).await?, &id).await?;
            Ok(json!({ "deleted": id }))
        }
    }
}
