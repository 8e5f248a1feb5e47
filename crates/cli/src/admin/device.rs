//! `admin device`.

use std::time::Duration;

use serde_json::{Value, json};
use thingstead_core::Platform;
use thingstead_server::Settings;
use thingstead_server::push::{PlannedPush, PushPolicy, PushTarget, push_all};

/// `admin device` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum DeviceCommand {
    /// Create a device (prints its secret and device key once).
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List devices (no secrets).
    List(super::OrgFilter),
    /// Delete a device.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        uuid: String,
    },
    /// Pair a device waiting for pairing (an EXP SDK started with
    /// `allow_pairing` and no credentials) to this device record; it becomes
    /// this device at its next token refresh (within a minute).
    Pair {
        #[arg(long)]
        org: String,
        /// The device record to pair to.
        #[arg(long)]
        uuid: String,
        /// The waiting device's pairing id (`identity.uuid` of its session).
        #[arg(long)]
        pairing_id: String,
    },
    /// A device's TOTP seed: show the current one, or rotate it.
    #[command(subcommand)]
    Totp(super::totp::TotpCommand),
    /// Push a cloud-to-device message to the device's listener.
    Push {
        #[arg(long)]
        uuid: String,
        /// The device's receive port.
        #[arg(long)]
        port: u16,
        /// Host to connect to: an IP, the device's last address or one within
        /// push.allowed_networks (default: the address the device last sent from).
        #[arg(long)]
        host: Option<String>,
        /// The message.
        message: String,
    },
}

pub(super) async fn run(p: &Platform, settings: &Settings, cmd: DeviceCommand) -> anyhow::Result<Value> {
    match cmd {
        DeviceCommand::Create { org, name } => {
            super::json(p.create_device(&p.tenant(&org).await?, name.as_deref()).await?)
        }
        DeviceCommand::List(super::OrgFilter { org }) => {
            super::list_each(p, org.as_deref(), |t| async move { p.list_devices(&t).await }).await
        }
        DeviceCommand::Delete { org, uuid } => {
            p.delete_device(&p.tenant(&org).await?, &uuid).await?;
            Ok(json!({ "deleted": uuid }))
        }
        DeviceCommand::Pair { org, uuid, pairing_id } => {
            p.pair_device(&p.tenant(&org).await?, &pairing_id, &uuid).await?;
            Ok(json!({ "paired": uuid, "pairingId": pairing_id }))
        }
        DeviceCommand::Totp(cmd) => super::totp::run(p, cmd).await,
        DeviceCommand::Push {
            uuid,
            port,
            host,
            message,
        } => {
            let (tenant, device) = p.find_device(&uuid).await?;
            // The same policy as the API: the device's address, or a host in
            // push.allowed_networks; never the server's own listeners.
            let own = [&settings.http, &settings.device_tcp]
                .into_iter()
                .filter_map(|a| a.parse::<std::net::SocketAddr>().ok())
                .collect();
            let policy = PushPolicy::new(&settings.push, own).map_err(anyhow::Error::msg)?;
            let addr = policy.resolve(&device, &PushTarget { host, port })?;
            let rec = push_all(
                p,
                &tenant,
                vec![PlannedPush { device, addr }],
                message.as_bytes(),
                Duration::from_millis(settings.device.push_timeout_ms),
                Duration::from_millis(settings.push.deadline_ms),
            )
            .await?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("push to {uuid}: no outcome recorded"))?;
            if rec.result != thingstead_core::records::DeliveryResult::Delivered {
                anyhow::bail!(
                    "push to {} {}: {}",
                    if rec.target.is_empty() { "device" } else { &rec.target },
                    rec.result.as_str(),
                    rec.detail.unwrap_or_default()
                );
            }
            super::json(rec)
        }
    }
}
