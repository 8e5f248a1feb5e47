//! `admin org`.

use serde_json::{Value, json};
use thingstead_core::Platform;

/// `admin org` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization: `[a-z0-9][a-z0-9-]{0,62}`.
    Create { name: String },
    /// List organizations.
    List,
    /// Delete an organization and everything it owns.
    Delete { name: String },
    /// Set message retention (or `--unlimited`).
    Retention {
        name: String,
        /// Keep messages this many seconds.
        #[arg(long, conflicts_with = "unlimited", required_unless_present = "unlimited")]
        secs: Option<i64>,
        /// Keep messages forever.
        #[arg(long)]
        unlimited: bool,
    },
}

pub(super) async fn run(p: &Platform, cmd: OrgCommand) -> anyhow::Result<Value> {
    match cmd {
        OrgCommand::Create { name } => {
            let org = p.create_org(&name).await?;
            Ok(json!({ "name": org.name }))
        }
        OrgCommand::List => super::json(p.list_orgs().await?),
        OrgCommand::Delete { name } => {
            p.delete_org(&p.tenant(&name).await?).await?;
            Ok(json!({ "deleted": name }))
        }
        OrgCommand::Retention { name, secs, .. } => {
            let t = p.tenant(&name).await?;
            p.set_message_retention(&t, secs).await?;
            Ok(json!({ "name": name, "message_retention_secs": secs }))
        }
    }
}
