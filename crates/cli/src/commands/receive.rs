//! `thingstead receive`: listen for cloud-to-device messages and print them.

use thingstead::device::{Credentials, DeviceClient, InboundMessage};

/// Listen for cloud-to-device messages.
#[derive(clap::Args, Debug)]
pub struct ReceiveArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
    /// Port to listen on (0 picks a free one; the address is printed on stderr).
    #[arg(short = 'p', long)]
    pub port: u16,
    /// Stop after N messages (default: run until interrupted).
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Print each message as a JSON line {"peer", "message"} instead of its text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: ReceiveArgs) -> anyhow::Result<()> {
    let client = DeviceClient::new(Credentials::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let addr = client
        .start_receiving(&args.host, args.port)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("listening on {addr}");
    let mut received = 0usize;
    while args.count.is_none_or(|n| received < n) {
        let message = tokio::select! {
            m = client.next_received() => m,
            interrupted = tokio::signal::ctrl_c() => {
                interrupted?;
                break;
            }
        };
        print_message(&message, args.json);
        received += 1;
    }
    client.stop_receiving();
    Ok(())
}

fn print_message(message: &InboundMessage, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({ "peer": message.peer.to_string(), "message": message.text() })
        );
    } else {
        println!("{}", message.text());
    }
}
