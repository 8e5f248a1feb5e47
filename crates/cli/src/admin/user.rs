//! `admin user`.

use serde_json::{Value, json};
use thingstead_core::Platform;

/// `admin user` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (password stored as an argon2id hash).
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[command(flatten)]
        password: super::password::PasswordArgs,
    },
    /// List users.
    List(super::OrgFilter),
    /// Delete a user.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
    },
}

pub(super) async fn run(p: &Platform, cmd: UserCommand) -> anyhow::Result<Value> {
    match cmd {
        UserCommand::Create {
            org,
            username,
            password,
        } => {
            let tenant = p.tenant(&org).await?;
            let password = password.resolve(&username).await?;
            let u = p.create_user(&tenant, &username, &password).await?;
            Ok(json!({ "org": u.org, "username": u.username }))
        }
        UserCommand::List(super::OrgFilter { org }) => {
            super::list_each(p, org.as_deref(), |t| async move { p.list_users(&t).await }).await
        }
        UserCommand::Delete { org, username } => {
            p.delete_user(&p.tenant(&org).await?, &username).await?;
            Ok(json!({ "deleted": username }))
        }
    }
}
