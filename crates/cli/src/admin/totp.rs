//! `admin device totp show | rotate`.

use serde_json::Value;
use thingstead_core::{CoreError, Platform};

/// `admin device totp` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TotpCommand {
    /// Print the device's current TOTP seed and otpauth:// URI (an error if it has none).
    Show {
        #[arg(long)]
        uuid: String,
    },
    /// Provision a new TOTP seed; the previous one, if any, stops working at once.
    Rotate {
        #[arg(long)]
        uuid: String,
    },
}

pub(super) async fn run(p: &Platform, cmd: TotpCommand) -> anyhow::Result<Value> {
    match cmd {
        TotpCommand::Show { uuid } => {
            let (tenant, _) = p.find_device(&uuid).await?;
            match p.device_totp(&tenant, &uuid).await {
                Ok(t) => super::json(t),
                Err(CoreError::NotFound(_)) => anyhow::bail!(
                    "device {uuid} has no TOTP seed; `thingstead admin device totp rotate --uuid {uuid}` provisions one"
                ),
                Err(e) => Err(e.into()),
            }
        }
        TotpCommand::Rotate { uuid } => {
            let (tenant, _) = p.find_device(&uuid).await?;
            let had_seed = match p.device_totp(&tenant, &uuid).await {
                Ok(_) => true,
                Err(CoreError::NotFound(_)) => false,
                Err(e) => return Err(e.into()),
            };
            let mut out = super::json(p.provision_totp(&tenant, &uuid).await?)?;
            out["previous_seed"] = Value::from(if had_seed {
                "replaced: it no longer works; give the device the new secret"
            } else {
                "none"
            });
            Ok(out)
        }
    }
}
