//! The device flags `send` and `sms` share: key, server, config file.
//!
//! Precedence: defaults (127.0.0.1:9999) < `-f` file < environment < flags.

use std::path::PathBuf;

use anyhow::Context;
use thingstead::device::{
    Authentication, ConfigFormat, Credentials, DeviceClient, DeviceConfig, DeviceError, Mode, OfflineBuffer,
};

/// Who the device is and where its server is.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DeviceArgs {
    /// The 8-character device key (cloud_id + cloud_key).
    #[arg(long, env = "THINGSTEAD_DEVICEKEY", hide_env_values = true, conflicts_with_all = ["cloud_id", "cloud_key"])]
    pub devicekey: Option<String>,
    /// The first 4 characters of the device key.
    #[arg(long, requires = "cloud_key")]
    pub cloud_id: Option<String>,
    /// The last 4 characters of the device key.
    #[arg(long, requires = "cloud_id")]
    pub cloud_key: Option<String>,
    /// TOTP authentication: the device uuid (with --totp-secret, instead of a device key).
    #[arg(long, requires = "totp_secret")]
    pub uuid: Option<String>,
    /// TOTP authentication: the device's base32 secret or otpauth:// URI
    /// (from `thingstead admin device totp show --uuid U`).
    #[arg(long, env = "THINGSTEAD_TOTP_SECRET", hide_env_values = true, requires = "uuid")]
    pub totp_secret: Option<String>,
    /// Server host [default: 127.0.0.1].
    #[arg(long)]
    pub host: Option<String>,
    /// Server device port [default: 9999].
    #[arg(short = 'p', long)]
    pub port: Option<u16>,
    /// Device configuration file: HJSON (comments allowed), JSON (.json) or
    /// TOML (.toml), with cloud_id, cloud_key, devicekey, host, port
    /// (and device_id, private_key for TOTP).
    #[arg(short = 'f', long = "device-config", value_name = "CONFIG")]
    pub config: Option<PathBuf>,
    /// The network to send through.
    #[command(flatten)]
    pub network: super::network::NetworkArgs,
}

impl DeviceArgs {
    /// The credentials and the authentication they call for.
    ///
    /// `needs_key` is false for raw mode, which sends no key.
    pub async fn resolve(&self, needs_key: bool) -> anyhow::Result<(Credentials, Authentication)> {
        let mut credentials = Credentials::default();
        if let Some(path) = &self.config {
            let text = tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("cannot read the device config {}", path.display()))?;
            DeviceConfig::parse(&text, ConfigFormat::from_path(path))
                .and_then(|cfg| cfg.apply_to(&mut credentials))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
        if let Some(key) = &self.devicekey {
            let from_flag = Credentials::from_devicekey(key).map_err(|e| anyhow::anyhow!("--devicekey: {e}"))?;
            credentials.cloud_id = from_flag.cloud_id;
            credentials.cloud_key = from_flag.cloud_key;
        }
        if let (Some(id), Some(key)) = (&self.cloud_id, &self.cloud_key) {
            credentials.cloud_id = Some(id.clone());
            credentials.cloud_key = Some(key.clone());
        }
        if let (Some(uuid), Some(secret)) = (&self.uuid, &self.totp_secret) {
            credentials.device_id = Some(uuid.clone());
            credentials.private_key = Some(secret.clone());
        }
        if let Some(host) = &self.host {
            credentials.host = host.clone();
        }
        if let Some(port) = self.port {
            credentials.port = port;
        }
        let has_key = credentials.cloud_id.is_some() || credentials.cloud_key.is_some();
        let has_totp = credentials.device_id.is_some() && credentials.private_key.is_some();
        let flag_totp = self.uuid.is_some() && self.devicekey.is_none() && self.cloud_id.is_none();
        let authentication = if has_totp && (flag_totp || !has_key) {
            Authentication::Totp
        } else {
            Authentication::CsrPsk
        };
        if needs_key && authentication == Authentication::CsrPsk {
            credentials.devicekey().map_err(|e| match e {
                DeviceError::MissingDeviceKey => anyhow::anyhow!(
                    "no device key: give --devicekey K, or --cloud-id I --cloud-key K, or -f CONFIG with devicekey"
                ),
                other => anyhow::anyhow!("{other}"),
            })?;
        }
        Ok((credentials, authentication))
    }

    /// A client for these flags, on a network assumed connected.
    pub async fn client(&self, mode: Mode) -> anyhow::Result<DeviceClient> {
        self.client_with_buffer(mode, None).await
    }

    /// A client for these flags, with `buffer` as its offline buffer if given.
    pub async fn client_with_buffer(&self, mode: Mode, buffer: Option<OfflineBuffer>) -> anyhow::Result<DeviceClient> {
        let (credentials, authentication) = self.resolve(mode == Mode::Cloud).await?;
        let mut builder = DeviceClient::builder(credentials)
            .mode(mode)
            .authentication(authentication);
        builder = match self.network.open().await? {
            super::network::Chosen::Type(network_type) => builder.network_type(network_type),
            super::network::Chosen::Open(network) => builder.network(network),
        };
        if let Some(buffer) = buffer {
            builder = builder.offline_buffer(buffer);
        }
        builder.build().await.map_err(|e| anyhow::anyhow!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flags_override_the_config_file() {
        let path = std::env::temp_dir().join(format!("thingstead-device-args-{}.hjson", std::process::id()));
        std::fs::write(
            &path,
            "{\n  // my device\n  devicekey: abcd1234\n  host: 10.0.0.1\n  port: 4000\n}",
        )
        .unwrap();
        let args = DeviceArgs {
            config: Some(path),
            port: Some(5000),
            ..Default::default()
        };
        let resolved = args.resolve(true).await;
        let _ = std::fs::remove_file(args.config.as_ref().unwrap());
        let (c, auth) = resolved.unwrap();
        assert_eq!(
            (c.devicekey().unwrap().as_str(), c.host.as_str(), c.port),
            ("abcd1234", "10.0.0.1", 5000)
        );
        assert_eq!(auth, Authentication::CsrPsk);
    }

    #[tokio::test]
    async fn missing_key_is_a_clear_error() {
        let err = DeviceArgs::default().resolve(true).await.unwrap_err();
        assert!(err.to_string().starts_with("no device key"), "{err}");
        assert!(DeviceArgs::default().resolve(false).await.is_ok());
        let bad = DeviceArgs {
            devicekey: Some("short".into()),
            ..Default::default()
        };
        assert!(bad.resolve(true).await.unwrap_err().to_string().contains("--devicekey"));
    }

    #[tokio::test]
    async fn totp_flags_select_totp() {
        let args = DeviceArgs {
            uuid: Some("u-1".into()),
            totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
            ..Default::default()
        };
        let (c, auth) = args.resolve(true).await.unwrap();
        assert_eq!(auth, Authentication::Totp);
        assert_eq!(c.device_id.as_deref(), Some("u-1"));
    }
}
