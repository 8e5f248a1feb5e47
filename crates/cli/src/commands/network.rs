//! The network a device tool uses (`--network`, `--modem`, `--baud`,
//! `--ssid`) and `thingstead network status`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use thingstead::device::{Cellular, CellularOptions, Network, NetworkType, probe_system_network};

/// Which network a device tool goes through.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetworkChoice {
    /// Whatever the host is connected to, taken as connected.
    #[default]
    Static,
    /// The host's network as the operating system reports it (netlink).
    System,
    /// A cellular modem on a serial port (`--modem`): the traffic goes
    /// through the modem's own sockets.
    Cellular,
    /// Wi-Fi through NetworkManager (`--ssid`).
    Wifi,
    /// Bluetooth Low Energy: refused, it cannot carry the traffic.
    Ble,
}

/// The network flags of `send`, `sms` and `network status`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct NetworkArgs {
    /// The network to use.
    #[arg(long, value_enum, default_value_t = NetworkChoice::Static)]
    pub network: NetworkChoice,
    /// The modem's serial port (with `--network cellular`).
    #[arg(long, value_name = "PORT")]
    pub modem: Option<PathBuf>,
    /// The modem's baud rate.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// The Wi-Fi network to join (with `--network wifi`).
    #[arg(long)]
    pub ssid: Option<String>,
}

/// What the chosen network is, for a client.
pub enum Chosen {
    /// A network type the SDK builds itself.
    Type(NetworkType),
    /// A network already open.
    Open(Arc<dyn Network>),
}

impl NetworkArgs {
    /// Opens the chosen network; a cellular modem is brought up (it waits,
    /// bounded, for a registration) so that sending goes out at once.
    pub async fn open(&self) -> anyhow::Result<Chosen> {
        match self.network {
            NetworkChoice::Static => Ok(Chosen::Type(NetworkType::Static)),
            NetworkChoice::System => Ok(Chosen::Type(NetworkType::System)),
            NetworkChoice::Ble => Ok(Chosen::Type(NetworkType::Ble)),
            NetworkChoice::Wifi => anyhow::bail!(
                "--network wifi{}: Wi-Fi through NetworkManager is not available in this release; \
                 use --network system once the host has joined it",
                self.ssid.as_deref().map(|s| format!(" --ssid {s}")).unwrap_or_default()
            ),
            NetworkChoice::Cellular => {
                let modem = self.cellular().await?;
                if let Err(e) = modem.connect().await {
                    tracing::warn!(error = %e, "the modem is not registered: messages wait if a buffer is given");
                }
                Ok(Chosen::Open(Arc::new(modem)))
            }
        }
    }

    async fn cellular(&self) -> anyhow::Result<Cellular> {
        let port = self
            .modem
            .clone()
            .context("--network cellular needs --modem PORT (the modem's serial port, e.g. /dev/ttyUSB0)")?;
        let mut options = CellularOptions::new(port);
        options.baud_rate = self.baud;
        Cellular::open(options).await.map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// `thingstead network ...`
#[derive(clap::Subcommand, Debug)]
pub enum NetworkCommand {
    /// The network's state; for a modem its identity, SIM, operator,
    /// signal and registration. JSON when piped.
    Status(NetworkArgs),
}

pub async fn run(command: NetworkCommand) -> anyhow::Result<()> {
    let NetworkCommand::Status(args) = command;
    let status = status(&args).await?;
    if std::io::stdout().is_terminal() {
        for (key, value) in status.as_object().into_iter().flatten() {
            let shown = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            println!("{key:<14} {shown}");
        }
    } else {
        println!("{status}");
    }
    Ok(())
}

async fn status(args: &NetworkArgs) -> anyhow::Result<serde_json::Value> {
    match args.network {
        NetworkChoice::Cellular => {
            let modem = args.cellular().await?;
            let interface = args.modem.as_ref().map(|p| p.display().to_string());
            let registration = modem.registration().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let sim = modem.sim_status().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let identity = modem.identity().await.ok();
            let signal = modem.signal().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let operator = modem.operator().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(serde_json::json!({
                "network": "cellular",
                "interface": interface,
                "state": if registration.is_registered() { "connected" } else { "disconnected" },
                "registration": format!("{registration:?}"),
                "sim": format!("{sim:?}"),
                "operator": operator,
                "signal_dbm": signal.dbm,
                "signal_bars": signal.bars,
                "modem": identity,
            }))
        }
        NetworkChoice::Static | NetworkChoice::System => {
            let connected = probe_system_network().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(serde_json::json!({
                "network": "system",
                "interface": "host",
                "state": if connected { "connected" } else { "disconnected" },
            }))
        }
        NetworkChoice::Wifi | NetworkChoice::Ble => {
            args.open().await?;
            anyhow::bail!("BLE is not supported on this platform: it cannot carry the SDK's traffic")
        }
    }
}
