//! Devices: creation with fresh credentials, device authentication, TOTP.

use serde::Serialize;

use super::Platform;
use super::credentials::display_name;
use crate::ids::Tenant;
use crate::records::{DeviceRecord, DeviceSummary};
use crate::store::{NewDevice, StoreError};
use crate::{CoreError, secrets, totp};

/// How many times device-key generation retries on a (rare) collision.
const KEY_ATTEMPTS: usize = 8;

/// A device just created: the only time its secret and key are shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedDevice {
    /// uuid.
    pub uuid: String,
    /// name.
    pub name: String,
    /// HS256 login secret.
    pub secret: String,
    /// 8-character device key.
    pub devicekey: String,
}

/// A TOTP seed just provisioned.
#[derive(Debug, Clone, Serialize)]
pub struct TotpProvisioned {
    /// The device.
    pub uuid: String,
    /// Base32 seed.
    pub secret: String,
    /// `otpauth://totp/...` URI.
    pub otpauth_uri: String,
}

/// How a device proves who it is on the device protocol.
#[derive(Debug, Clone)]
pub enum DeviceAuth {
    /// The 8-character device key (hologram csrpsk).
    DeviceKey(String),
    /// Device uuid and a TOTP code.
    Totp {
        /// Device uuid.
        uuid: String,
        /// 6-digit code.
        code: String,
    },
}

impl Platform {
    /// Creates a device with a fresh secret and a unique device key.
    pub async fn create_device(&self, tenant: &Tenant, name: Option<&str>) -> Result<CreatedDevice, CoreError> {
        let uuid = uuid::Uuid::new_v4().to_string();
        let name = display_name(name, "device", &uuid)?;
        let secret = secrets::random_hex(32);
        for _ in 0..KEY_ATTEMPTS {
            let devicekey = secrets::random_lower_alnum(8);
            let new = NewDevice {
                uuid: uuid.clone(),
                name: name.clone(),
                secret: secret.clone(),
                devicekey: devicekey.clone(),
            };
            match self.store.create_device(tenant, new).await {
                Ok(d) => {
                    return Ok(CreatedDevice {
                        uuid: d.uuid,
                        name: d.name,
                        secret: d.secret,
                        devicekey,
                    });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Conflict("device key (collisions; try again)".into()))
    }

    /// Lists devices without secrets.
    pub async fn list_devices(&self, tenant: &Tenant) -> Result<Vec<DeviceSummary>, CoreError> {
        Ok(self
            .store
            .list_devices(tenant)
            .await?
            .iter()
            .map(DeviceSummary::from)
            .collect())
    }

    /// Reads a device with its credentials (for faces that need them, e.g. pushes).
    pub async fn device(&self, tenant: &Tenant, uuid: &str) -> Result<DeviceRecord, CoreError> {
        self.store
            .device(tenant, uuid)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("device {uuid}")))
    }

    /// Operator look-up of a device by uuid in any organization.
    pub async fn find_device(&self, uuid: &str) -> Result<(Tenant, DeviceRecord), CoreError> {
        self.store
            .device_by_uuid(uuid)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("device {uuid}")))
    }

    /// Deletes a device (its stored messages stay until retention removes them).
    pub async fn delete_device(&self, tenant: &Tenant, uuid: &str) -> Result<(), CoreError> {
        Ok(self.store.delete_device(tenant, uuid).await?)
    }

    /// Provisions (or replaces) a device's TOTP seed.
    pub async fn provision_totp(&self, tenant: &Tenant, uuid: &str) -> Result<TotpProvisioned, CoreError> {
        let seed = totp::new_seed();
        let otpauth_uri = totp::otpauth_uri(&seed, uuid)?;
        self.store.set_device_totp(tenant, uuid, &seed).await?;
        Ok(TotpProvisioned {
            uuid: uuid.to_owned(),
            secret: seed,
            otpauth_uri,
        })
    }

    /// A device's current TOTP seed and URI; `NotFound` when the device has none.
    pub async fn device_totp(&self, tenant: &Tenant, uuid: &str) -> Result<TotpProvisioned, CoreError> {
        let device = self.device(tenant, uuid).await?;
        let seed = device
            .totp_seed
            .ok_or_else(|| CoreError::NotFound(format!("TOTP seed of device {uuid}")))?;
        let otpauth_uri = totp::otpauth_uri(&seed, uuid)?;
        Ok(TotpProvisioned {
            uuid: uuid.to_owned(),
            secret: seed,
            otpauth_uri,
        })
    }

    /// Authenticates a device on the device protocol. Unknown keys, unknown
    /// uuids, wrong or replayed codes all give `Unauthorized`.
    pub async fn authenticate_device(&self, auth: &DeviceAuth) -> Result<(Tenant, DeviceRecord), CoreError> {
        let denied = || CoreError::Unauthorized("unknown device or bad credentials".into());
        match auth {
            DeviceAuth::DeviceKey(key) => self.store.device_by_key(key).await?.ok_or_else(denied),
            DeviceAuth::Totp { uuid, code } => {
                let (tenant, device) = self.store.device_by_uuid(uuid).await?.ok_or_else(denied)?;
                let seed = device.totp_seed.as_deref().ok_or_else(denied)?;
                let now = (crate::now_ms() / 1000) as u64;
                // A stored seed that does not decode is the server's fault, not the device's.
                let step = totp::matching_step(seed, code, now)
                    .map_err(|e| CoreError::Internal(format!("device {uuid}: {e}")))?
                    .ok_or_else(denied)?;
                if !self.store.consume_totp_step(&tenant, uuid, step).await? {
                    return Err(CoreError::Unauthorized("TOTP code already used".into()));
                }
                Ok((tenant, device))
            }
        }
    }
}
