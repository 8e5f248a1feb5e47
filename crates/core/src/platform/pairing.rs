//! Pairing (WIRE.md B.2): a device that logs in with `allowPairing` and no
//! credentials gets a pairing session whose identity is a random id. A user
//! of an organization pairs that id to one of the organization's devices
//! (`POST /api/devices/{uuid}/pair`, or `thingstead admin device pair`); the
//! waiting device's next token refresh then returns that device's session.
//!
//! Pairing sessions are short ([`PAIRING_SESSION_TTL`]), so the EXP SDK,
//! which refreshes after about 75 % of a token's life, picks the pairing up
//! within a minute. An offer is kept [`PAIRING_OFFER_TTL`]; older offers are
//! forgotten.

use std::time::Duration;

use super::Platform;
use crate::identity::{Actor, Principal};
use crate::ids::Tenant;
use crate::{CoreError, now_ms};

/// How long a pairing session's token is valid.
pub const PAIRING_SESSION_TTL: Duration = Duration::from_secs(60);
/// How long a pairing offer waits for the device's refresh.
pub const PAIRING_OFFER_TTL: Duration = Duration::from_secs(600);
/// The longest pairing id accepted (ours are 36-character uuids).
const MAX_PAIRING_ID: usize = 64;

impl Platform {
    /// Pairs the device waiting with pairing id `pairing_id` to device
    /// `device_uuid` of `tenant` (operator: the admin CLI). `NotFound` for
    /// an unknown device, `Conflict` when the id is already paired.
    pub async fn pair_device(&self, tenant: &Tenant, pairing_id: &str, device_uuid: &str) -> Result<(), CoreError> {
        if pairing_id.is_empty()
            || pairing_id.len() > MAX_PAIRING_ID
            || !pairing_id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(CoreError::Invalid(
                "pairingId must be the id of a pairing session".into(),
            ));
        }
        self.device(tenant, device_uuid).await?;
        let now = now_ms();
        self.store
            .pair_device(
                tenant,
                pairing_id,
                device_uuid,
                now,
                now - PAIRING_OFFER_TTL.as_millis() as i64,
            )
            .await?;
        tracing::info!(org = %tenant.name(), device = %device_uuid, "device paired");
        Ok(())
    }

    /// [`Platform::pair_device`] on behalf of a caller: only users pair.
    pub async fn pair_device_as(
        &self,
        principal: &Principal,
        pairing_id: &str,
        device_uuid: &str,
    ) -> Result<(), CoreError> {
        if !matches!(principal.actor(), Actor::User { .. }) || principal.is_restricted() {
            return Err(CoreError::Forbidden("only users pair devices".into()));
        }
        self.pair_device(principal.tenant()?, pairing_id, device_uuid).await
    }

    /// The device a pairing session was paired to, if it was and the device
    /// still exists in the organization it was paired in.
    pub(super) async fn paired_principal(&self, pairing_id: &str) -> Result<Option<Principal>, CoreError> {
        let since = now_ms() - PAIRING_OFFER_TTL.as_millis() as i64;
        let Some((org_id, uuid)) = self.store.paired_device(pairing_id, since).await? else {
            return Ok(None);
        };
        Ok(match self.store.device_by_uuid(&uuid).await? {
            Some((tenant, _)) if tenant.id() == org_id => {
                Some(Principal::of_tenant(tenant, Actor::Device { uuid }, Vec::new()))
            }
            _ => None,
        })
    }
}
