//! The network a device tool uses (`--network`, `--modem`, `--baud`,
//! `--ssid`, `--psk`, `--wifi-interface`, `--dbus-address`) and
//! `thingstead network status`.

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
    /// Wi-Fi through NetworkManager (`--ssid`, `--psk` or
    /// `THINGSTEAD_WIFI_PSK`): the host's TCP stack carries the traffic.
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
    /// The Wi-Fi network's key (WPA-PSK). Prefer the environment variable,
    /// which stays out of the shell's history. Without one, a connection
    /// NetworkManager saved for the SSID is used with its own key.
    #[arg(long, env = "THINGSTEAD_WIFI_PSK", hide_env_values = true)]
    pub psk: Option<String>,
    /// The Wi-Fi interface (default: NetworkManager's first Wi-Fi device).
    #[arg(long, value_name = "IFACE")]
    pub wifi_interface: Option<String>,
    /// The D-Bus bus NetworkManager is on (default: the system bus).
    #[arg(long, env = "THINGSTEAD_DBUS_ADDRESS", value_name = "ADDRESS")]
    pub dbus_address: Option<String>,
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
            NetworkChoice::Wifi => {
                let wifi = self.wifi().await?;
                match wifi.join().await {
                    #[cfg(target_os = "linux")]
                    Err(e @ thingstead::device::WifiError::WrongKey { .. }) => anyhow::bail!("{e}"),
                    Err(e) => {
                        tracing::warn!(error = %e, "the Wi-Fi is not joined: messages wait if a buffer is given")
                    }
                    Ok(()) => {}
                }
                Ok(Chosen::Open(wifi.into_network()))
            }
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

/// NetworkManager's Wi-Fi, opened for `--ssid`.
#[cfg(target_os = "linux")]
struct OpenWifi(thingstead::device::Wifi);

#[cfg(target_os = "linux")]
impl OpenWifi {
    async fn join(&self) -> Result<(), thingstead::device::WifiError> {
        self.0.join().await
    }

    fn into_network(self) -> Arc<dyn Network> {
        Arc::new(self.0)
    }

    async fn status(&self) -> anyhow::Result<serde_json::Value> {
        let status = self.0.status().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(serde_json::json!({
            "network": "wifi",
            "interface": status.interface,
            "state": if status.connected { "connected" } else { "disconnected" },
            "device_state": status.state,
            "ssid": status.ssid,
            "bssid": status.bssid,
            "signal": status.signal,
        }))
    }
}

/// Off Linux there is no NetworkManager: never built.
#[cfg(not(target_os = "linux"))]
enum OpenWifi {}

#[cfg(not(target_os = "linux"))]
impl OpenWifi {
    async fn join(&self) -> Result<(), std::convert::Infallible> {
        match *self {}
    }

    fn into_network(self) -> Arc<dyn Network> {
        match self {}
    }

    async fn status(&self) -> anyhow::Result<serde_json::Value> {
        match *self {}
    }
}

impl NetworkArgs {
    /// Opens NetworkManager's Wi-Fi for `--ssid` (not joined yet).
    #[cfg(target_os = "linux")]
    async fn wifi(&self) -> anyhow::Result<OpenWifi> {
        let ssid = self
            .ssid
            .clone()
            .context("--network wifi needs --ssid NAME (the Wi-Fi network to join)")?;
        let mut options = thingstead::device::WifiOptions::new(ssid);
        options.psk = self.psk.clone().filter(|p| !p.is_empty());
        options.interface = self.wifi_interface.clone();
        options.dbus_address = self.dbus_address.clone();
        let wifi = thingstead::device::Wifi::open(options)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(OpenWifi(wifi))
    }

    #[cfg(not(target_os = "linux"))]
    async fn wifi(&self) -> anyhow::Result<OpenWifi> {
        anyhow::bail!("Wi-Fi through NetworkManager needs Linux")
    }
}

/// `thingstead network ...`
#[derive(clap::Subcommand, Debug)]
pub enum NetworkCommand {
    /// The network's state; for a modem its identity, SIM, operator,
    /// signal and registration; for Wi-Fi the interface, the SSID, the
    /// access point's BSSID and its signal (0-100). JSON when piped.
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
        NetworkChoice::Wifi => {
            // The status needs no SSID: it says what the device is on.
            let mut args = args.clone();
            args.ssid.get_or_insert_with(String::new);
            args.wifi().await?.status().await
        }
        NetworkChoice::Ble => {
            args.open().await?;
            anyhow::bail!("BLE is not supported on this platform: it cannot carry the SDK's traffic")
        }
    }
}
