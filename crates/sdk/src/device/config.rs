//! Device configuration files: HJSON (comments allowed), JSON or TOML.
//!
//! Keys: `devicekey` or `cloud_id` + `cloud_key`, `host`, `port`, and for
//! TOTP `device_id` + `private_key`. Unknown keys are ignored.

use std::path::Path;

use serde::Deserialize;

use super::Credentials;

/// The format of a configuration file.
///
/// ```
/// use thingstead::device::ConfigFormat;
/// assert_eq!(ConfigFormat::from_path("device.toml".as_ref()), ConfigFormat::Toml);
/// assert_eq!(ConfigFormat::from_path("device.conf".as_ref()), ConfigFormat::Hjson);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// HJSON, a superset of JSON with comments (`#`, `//`, `/* */`) and
    /// unquoted strings.
    Hjson,
    /// Plain JSON.
    Json,
    /// TOML.
    Toml,
}

impl ConfigFormat {
    /// The format by file extension: `.toml` is TOML, `.json` is JSON,
    /// anything else HJSON.
    ///
    /// ```
    /// use thingstead::device::ConfigFormat;
    /// assert_eq!(ConfigFormat::from_path("a.json".as_ref()), ConfigFormat::Json);
    /// ```
    pub fn from_path(path: &Path) -> Self {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("toml") => Self::Toml,
            Some("json") => Self::Json,
            _ => Self::Hjson,
        }
    }
}

/// Why a configuration file could not be used.
///
/// ```
/// use thingstead::device::{ConfigFormat, DeviceConfig};
/// let err = DeviceConfig::parse("port = 'x'", ConfigFormat::Toml).unwrap_err();
/// assert!(err.to_string().contains("TOML"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not valid in its format.
    #[error("invalid {format} configuration: {message}")]
    Syntax {
        /// `HJSON`, `JSON` or `TOML`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// `devicekey` and `cloud_id`/`cloud_key` disagree.
    #[error("devicekey and cloud_id + cloud_key disagree")]
    ConflictingKeys,
}

/// A port given as a number or as a string of digits.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum PortValue {
    Number(u16),
    Text(String),
}

/// The contents of a device configuration file; every key is optional.
///
/// ```
/// use thingstead::device::{ConfigFormat, DeviceConfig};
/// let cfg = DeviceConfig::parse("{\n  # my device\n  devicekey: abcd1234\n  port: 4010\n}", ConfigFormat::Hjson).unwrap();
/// assert_eq!(cfg.devicekey.as_deref(), Some("abcd1234"));
/// assert_eq!(cfg.port, Some(4010));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceConfig {
    /// The first 4 characters of the device key.
    pub cloud_id: Option<String>,
    /// The last 4 characters of the device key.
    pub cloud_key: Option<String>,
    /// The whole 8-character device key.
    pub devicekey: Option<String>,
    /// The device uuid, for TOTP.
    pub device_id: Option<String>,
    /// The TOTP seed, for TOTP.
    pub private_key: Option<String>,
    /// The server host.
    pub host: Option<String>,
    /// The server port.
    pub port: Option<u16>,
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    cloud_id: Option<String>,
    cloud_key: Option<String>,
    devicekey: Option<String>,
    device_id: Option<String>,
    private_key: Option<String>,
    host: Option<String>,
    port: Option<PortValue>,
}

impl DeviceConfig {
    /// Parses configuration text.
    ///
    /// ```
    /// use thingstead::device::{ConfigFormat, DeviceConfig};
    /// let cfg = DeviceConfig::parse("host = \"10.0.0.2\"\nport = 9999", ConfigFormat::Toml).unwrap();
    /// assert_eq!(cfg.host.as_deref(), Some("10.0.0.2"));
    /// ```
    pub fn parse(text: &str, format: ConfigFormat) -> Result<Self, ConfigError> {
        let raw: RawConfig = match format {
            ConfigFormat::Hjson => deser_hjson::from_str(text).map_err(|e| ConfigError::Syntax {
                format: "HJSON",
                message: e.to_string(),
            })?,
            ConfigFormat::Json => serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
                format: "JSON",
                message: e.to_string(),
            })?,
            ConfigFormat::Toml => toml::from_str(text).map_err(|e| ConfigError::Syntax {
                format: "TOML",
                message: e.to_string(),
            })?,
        };
        let port = match raw.port {
            None => None,
            Some(PortValue::Number(n)) => Some(n),
            Some(PortValue::Text(t)) => Some(t.trim().parse().map_err(|_| ConfigError::Syntax {
                format: format.name(),
                message: format!("port {t:?} is not a number from 0 to 65535"),
            })?),
        };
        Ok(Self {
            cloud_id: raw.cloud_id,
            cloud_key: raw.cloud_key,
            devicekey: raw.devicekey,
            device_id: raw.device_id,
            private_key: raw.private_key,
            host: raw.host,
            port,
        })
    }

    /// Reads and parses a file, choosing the format by its extension
    /// ([`ConfigFormat::from_path`]). This is a small blocking read.
    ///
    /// ```no_run
    /// let cfg = thingstead::device::DeviceConfig::load("device.hjson".as_ref()).unwrap();
    /// ```
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, ConfigFormat::from_path(path))
    }

    /// Writes the values present in this file over `credentials`
    /// (`devicekey` is split into `cloud_id` + `cloud_key`).
    ///
    /// ```
    /// use thingstead::device::{Credentials, DeviceConfig};
    /// let cfg = DeviceConfig { devicekey: Some("abcd1234".into()), port: Some(4010), ..Default::default() };
    /// let mut c = Credentials::default();
    /// cfg.apply_to(&mut c).unwrap();
    /// assert_eq!((c.cloud_id.as_deref(), c.cloud_key.as_deref(), c.port), (Some("abcd"), Some("1234"), 4010));
    /// ```
    pub fn apply_to(&self, credentials: &mut Credentials) -> Result<(), ConfigError> {
        if let Some(key) = &self.devicekey {
            let (id, secret) = split_devicekey(key);
            let agrees = |given: &Option<String>, part: &str| given.as_deref().is_none_or(|g| g == part);
            if !agrees(&self.cloud_id, &id) || !agrees(&self.cloud_key, &secret) {
                return Err(ConfigError::ConflictingKeys);
            }
            credentials.cloud_id = Some(id);
            credentials.cloud_key = Some(secret);
        }
        if let Some(v) = &self.cloud_id {
            credentials.cloud_id = Some(v.clone());
        }
        if let Some(v) = &self.cloud_key {
            credentials.cloud_key = Some(v.clone());
        }
        if let Some(v) = &self.device_id {
            credentials.device_id = Some(v.clone());
        }
        if let Some(v) = &self.private_key {
            credentials.private_key = Some(v.clone());
        }
        if let Some(v) = &self.host {
            credentials.host = v.clone();
        }
        if let Some(v) = self.port {
            credentials.port = v;
        }
        Ok(())
    }
}

impl ConfigFormat {
    fn name(self) -> &'static str {
        match self {
            Self::Hjson => "HJSON",
            Self::Json => "JSON",
            Self::Toml => "TOML",
        }
    }
}

/// Splits a device key at its 4th character (by characters, so a malformed
/// key never panics; it is checked when used).
pub(crate) fn split_devicekey(key: &str) -> (String, String) {
    let at = key.char_indices().nth(4).map_or(key.len(), |(i, _)| i);
    (key[..at].to_owned(), key[at..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hjson_with_comments_and_unquoted_strings() {
        let text = r#"
        // Thingstead device
        {
          # the key, split
          cloud_id: abcd
          cloud_key: "1234"
          /* where the server is */
          host: 10.1.2.3
          port: "4010"
        }"#;
        let cfg = DeviceConfig::parse(text, ConfigFormat::Hjson).unwrap();
        assert_eq!(cfg.cloud_id.as_deref(), Some("abcd"));
        assert_eq!(cfg.cloud_key.as_deref(), Some("1234"));
        assert_eq!(cfg.host.as_deref(), Some("10.1.2.3"));
        assert_eq!(cfg.port, Some(4010));
    }

    #[test]
    fn json_and_toml() {
        let json = DeviceConfig::parse(
            r#"{"devicekey": "abcd1234", "port": 1, "extra": true}"#,
            ConfigFormat::Json,
        );
        assert_eq!(json.unwrap().devicekey.as_deref(), Some("abcd1234"));
        let toml = DeviceConfig::parse("devicekey = \"abcd1234\"\nhost = \"h\"", ConfigFormat::Toml).unwrap();
        assert_eq!(toml.host.as_deref(), Some("h"));
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        assert!(DeviceConfig::parse("{ port: 70000 }", ConfigFormat::Hjson).is_err());
        assert!(DeviceConfig::parse("{ port: \"x\" }", ConfigFormat::Hjson).is_err());
        assert!(DeviceConfig::parse("{", ConfigFormat::Json).is_err());
        assert!(DeviceConfig::parse("= =", ConfigFormat::Toml).is_err());
        let missing = DeviceConfig::load(Path::new("/nonexistent/device.hjson")).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/device.hjson"));
    }

    #[test]
    fn apply_splits_devicekey_and_detects_conflicts() {
        let mut c = Credentials::default();
        let cfg = DeviceConfig {
            devicekey: Some("ab12cd34".into()),
            host: Some("h".into()),
            ..Default::default()
        };
        cfg.apply_to(&mut c).unwrap();
        assert_eq!(c.devicekey().unwrap().as_str(), "ab12cd34");
        assert_eq!(c.host, "h");
        let conflict = DeviceConfig {
            devicekey: Some("ab12cd34".into()),
            cloud_id: Some("zzzz".into()),
            ..Default::default()
        };
        assert!(matches!(conflict.apply_to(&mut c), Err(ConfigError::ConflictingKeys)));
        // Multi-byte garbage is split without panicking and rejected when used.
        let (id, key) = split_devicekey("ééééé");
        assert_eq!((id.as_str(), key.as_str()), ("éééé", "é"));
    }
}
