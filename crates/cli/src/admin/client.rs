//! `admin client`.

use serde_json::{Value, json};
use thingstead_core::Platform;

/// `admin client` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ClientCommand {
    /// Create an OAuth2 client (prints its secret once).
    Create {
        #[arg(long)]
        org: String,
        /// Comma-separated scopes of the things API: thing, thing.read,
        /// category, category.read, email (at least one).
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// List OAuth2 clients.
    List(super::OrgFilter),
    /// Delete an OAuth2 client.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        client_id: String,
    },
}

pub(super) async fn run(p: &Platform, cmd: ClientCommand) -> anyhow::Result<Value> {
    match cmd {
        ClientCommand::Create { org, scopes } => super::json(p.create_client(&p.tenant(&org).await?, &scopes).await?),
        ClientCommand::List(super::OrgFilter { org }) => {
            super::list_each(p, org.as_deref(), |t| async move { p.list_clients(&t).await }).await
        }
        ClientCommand::Delete { org, client_id } => {
            p.delete_client(&p.tenant(&org).await?, &client_id).await?;
            Ok(json!({ "deleted": client_id }))
        }
    }
}
