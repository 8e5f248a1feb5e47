//! Device credentials: who the device is and where its server is.

use std::fmt;

use thingstead_proto::device::DeviceKey;

use super::DeviceError;

/// The default server host.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// The default server device port.
pub const DEFAULT_PORT: u16 = 9999;

/// What a device needs to talk to its server, as hologram-python's
/// `Credentials`: the 8-character device key is `cloud_id` (4 characters) +
/// `cloud_key` (4 characters); TOTP authentication uses `device_id` (the
/// device uuid) and `private_key` (the TOTP seed: a base32 secret or an
/// `otpauth://` URI, as `thingstead admin device totp show --uuid U` prints).
///
/// `Debug` masks the secrets.
///
/// ```
/// use thingstead::device::Credentials;
/// let c = Credentials::from_devicekey("abcd1234").unwrap().with_host("10.0.0.2").with_port(4010);
/// assert_eq!(c.cloud_id.as_deref(), Some("abcd"));
/// assert_eq!(c.devicekey().unwrap().as_str(), "abcd1234");
/// assert!(!format!("{c:?}").contains("1234"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The first 4 characters of the device key.
    pub cloud_id: Option<String>,
    /// The last 4 characters of the device key.
    pub cloud_key: Option<String>,
    /// The device uuid (for TOTP authentication).
    pub device_id: Option<String>,
    /// The TOTP seed: base32 secret or `otpauth://` URI (for TOTP authentication).
    pub private_key: Option<String>,
    /// The server host name or address.
    pub host: String,
    /// The server's device TCP port.
    pub port: u16,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            cloud_id: None,
            cloud_key: None,
            device_id: None,
            private_key: None,
            host: DEFAULT_HOST.to_owned(),
            port: DEFAULT_PORT,
        }
    }
}

impl Credentials {
    /// Credentials from a cloud id and a cloud key (not checked until used).
    ///
    /// ```
    /// let c = thingstead::device::Credentials::new("abcd", "1234");
    /// assert_eq!(c.devicekey().unwrap().as_str(), "abcd1234");
    /// ```
    pub fn new(cloud_id: impl Into<String>, cloud_key: impl Into<String>) -> Self {
        Self {
            cloud_id: Some(cloud_id.into()),
            cloud_key: Some(cloud_key.into()),
            ..Self::default()
        }
    }

    /// Credentials from a whole 8-character device key.
    ///
    /// ```
    /// assert!(thingstead::device::Credentials::from_devicekey("abcd1234").is_ok());
    /// assert!(thingstead::device::Credentials::from_devicekey("abc").is_err());
    /// ```
    pub fn from_devicekey(devicekey: &str) -> Result<Self, DeviceError> {
        let key = DeviceKey::parse(devicekey).map_err(|_| DeviceError::InvalidDeviceKey)?;
        let (id, secret) = key.as_str().split_at(4);
        Ok(Self::new(id, secret))
    }

    /// Credentials for TOTP authentication: the device uuid and its seed.
    ///
    /// ```
    /// let c = thingstead::device::Credentials::totp("6f1c...", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    /// assert!(c.device_id.is_some());
    /// ```
    pub fn totp(device_uuid: impl Into<String>, seed: impl Into<String>) -> Self {
        Self {
            device_id: Some(device_uuid.into()),
            private_key: Some(seed.into()),
            ..Self::default()
        }
    }

    /// Sets the server host.
    ///
    /// ```
    /// let c = thingstead::device::Credentials::default().with_host("example.org");
    /// assert_eq!(c.host, "example.org");
    /// ```
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets the server's device port.
    ///
    /// ```
    /// let c = thingstead::device::Credentials::default().with_port(4010);
    /// assert_eq!(c.port, 4010);
    /// ```
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The device key, `cloud_id` + `cloud_key`, checked.
    ///
    /// ```
    /// use thingstead::device::{Credentials, DeviceError};
    /// assert!(matches!(Credentials::default().devicekey(), Err(DeviceError::MissingDeviceKey)));
    /// ```
    pub fn devicekey(&self) -> Result<DeviceKey, DeviceError> {
        match (&self.cloud_id, &self.cloud_key) {
            (Some(id), Some(key)) => DeviceKey::parse(&format!("{id}{key}")).map_err(|_| DeviceError::InvalidDeviceKey),
            _ => Err(DeviceError::MissingDeviceKey),
        }
    }

    /// `host:port`, as used in messages.
    ///
    /// ```
    /// assert_eq!(thingstead::device::Credentials::default().target(), "127.0.0.1:9999");
    /// ```
    pub fn target(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn mask(value: &Option<String>) -> &'static str {
    if value.is_some() { "Some(****)" } else { "None" }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("cloud_id", &self.cloud_id)
            .field("cloud_key", &format_args!("{}", mask(&self.cloud_key)))
            .field("device_id", &self.device_id)
            .field("private_key", &format_args!("{}", mask(&self.private_key)))
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devicekey_is_cloud_id_plus_cloud_key() {
        let c = Credentials::new("ab12", "cd34");
        assert_eq!(c.devicekey().unwrap().as_str(), "ab12cd34");
        assert!(matches!(
            Credentials::new("AB12", "cd34").devicekey(),
            Err(DeviceError::InvalidDeviceKey)
        ));
        assert!(matches!(
            Credentials::new("ab12", "cd3").devicekey(),
            Err(DeviceError::InvalidDeviceKey)
        ));
    }

    #[test]
    fn target_brackets_ipv6() {
        assert_eq!(Credentials::default().with_host("::1").with_port(1).target(), "[::1]:1");
    }
}
