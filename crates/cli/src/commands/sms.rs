//! `thingstead sms`: send an SMS through the cloud as a device.

use thingstead::device::{Mode, check_sms};

use super::device_args::DeviceArgs;

/// What a successful `sms` did.
const QUEUED: &str = "queued in the cloud's outbox: the server sends it through its SMS provider \
     (sms.provider; with none it stays queued); GET /api/1/sms shows its state";

/// Send an SMS through the cloud as a device.
#[derive(clap::Args, Debug)]
pub struct SmsArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Where the SMS goes: '+' and 8 to 15 digits (E.164).
    #[arg(long, value_name = "+E164")]
    pub destination: String,
    /// The text, at most 160 characters (several words are joined with spaces).
    #[arg(required = true, value_name = "MESSAGE")]
    pub message: Vec<String>,
}

pub async fn run(args: SmsArgs) -> anyhow::Result<()> {
    let text = args.message.join(" ");
    // Checked before anything else: a bad destination never needs a key or a server.
    check_sms(&args.destination, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = args.device.client(Mode::Cloud).await?;
    let outcome = client
        .send_sms(&args.destination, &text)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Code 0 means the server committed the SMS to its outbox, not that it
    // reached a phone: the dispatcher sends it through the configured
    // provider (sms.provider), and with none it stays queued. The reply to
    // an SMS frame is bare digits (hologram-python reads nothing else), so
    // it carries no outbox id; GET /api/1/sms lists the outbox.
    let line = if outcome.is_success() {
        serde_json::json!({
            "destination": args.destination,
            "message": text,
            "code": outcome.code(),
            "state": "queued",
            "description": QUEUED,
        })
    } else {
        serde_json::json!({
            "destination": args.destination,
            "message": text,
            "code": outcome.code(),
            "description": outcome.description(),
        })
    };
    println!("{line}");
    if !outcome.is_success() {
        anyhow::bail!("the SMS was not accepted: {}", outcome.description());
    }
    Ok(())
}
