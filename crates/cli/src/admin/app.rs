//! `admin app`.

use serde_json::{Value, json};
use thingstead_core::Platform;

/// `admin app` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AppCommand {
    /// Create a consumer app (prints its api key once).
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List consumer apps.
    List(super::OrgFilter),
    /// Delete a consumer app.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        uuid: String,
    },
}

pub(super) async fn run(p: &Platform, cmd: AppCommand) -> anyhow::Result<Value> {
    match cmd {
        AppCommand::Create { org, name } => super::json(p.create_app(&p.tenant(&org).await?, name.as_deref()).await?),
        AppCommand::List(super::OrgFilter { org }) => {
            super::list_each(p, org.as_deref(), |t| async move { p.list_apps(&t).await }).await
        }
        AppCommand::Delete { org, uuid } => {
            p.delete_app(&p.tenant(&org).await?, &uuid).await?;
            Ok(json!({ "deleted": uuid }))
        }
    }
}
