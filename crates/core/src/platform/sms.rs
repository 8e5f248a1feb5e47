//! The SMS outbox and cloud-to-device delivery records.

use super::Platform;
use super::messages::{MAX_PAGE, Page};
use crate::CoreError;
use crate::bus::BusEvent;
use crate::ids::Tenant;
use crate::records::{DeliveryRecord, DeliveryResult, SmsEvent, SmsRecord, SmsUpdate};
use thingstead_proto::device::{E164, SMS_MAX_CHARS};

impl Platform {
    /// Queues an SMS durably, then wakes the dispatcher.
    pub async fn queue_sms(
        &self,
        tenant: &Tenant,
        device_uuid: Option<&str>,
        destination: &E164,
        text: &str,
    ) -> Result<SmsRecord, CoreError> {
        if text.chars().count() > SMS_MAX_CHARS {
            return Err(CoreError::Invalid(format!(
                "an SMS is at most {SMS_MAX_CHARS} characters"
            )));
        }
        let sms = self
            .store
            .enqueue_sms(tenant, device_uuid, destination.as_str(), text)
            .await?;
        self.bus
            .publish(BusEvent::SmsQueued {
                org: sms.org.clone(),
                id: sms.id,
            })
            .await;
        Ok(sms)
    }

    /// Lists the outbox, newest first.
    pub async fn list_sms(
        &self,
        tenant: &Tenant,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<SmsRecord>, CoreError> {
        Ok(self.store.list_sms(tenant, before_id, limit.clamp(1, 1000)).await?)
    }

    /// One page of the outbox, newest first (`limit` clamped to 1..=1000),
    /// saying whether more rows follow it.
    pub async fn page_sms(
        &self,
        tenant: &Tenant,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Page<SmsRecord>, CoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.store.list_sms(tenant, before_id, limit + 1).await?;
        Ok(Page::of(rows, limit))
    }

    /// One SMS with every state change it went through.
    pub async fn sms(&self, tenant: &Tenant, id: i64) -> Result<(SmsRecord, Vec<SmsEvent>), CoreError> {
        self.store
            .sms(tenant, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("sms {id}")))
    }

    /// For the dispatcher: claims for `node`, for `lease_ms`, SMS of every
    /// tenant due now that no other node is sending.
    pub async fn claim_due_sms(
        &self,
        node: &str,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Tenant, SmsRecord)>, CoreError> {
        Ok(self.store.claim_due_sms(node, crate::now_ms(), lease_ms, limit).await?)
    }

    /// For cluster-wide jobs (retention sweeps): takes or renews the lease
    /// `name` for `node` for `ttl_ms`; `false` while another node holds it.
    pub async fn try_lease(&self, name: &str, node: &str, ttl_ms: i64) -> Result<bool, CoreError> {
        Ok(self.store.try_lease(name, node, crate::now_ms(), ttl_ms).await?)
    }

    /// For the dispatcher: records a state change of an SMS `node`
    /// claimed; `Conflict` when another node has claimed it since.
    pub async fn update_sms(&self, tenant: &Tenant, id: i64, node: &str, update: SmsUpdate) -> Result<(), CoreError> {
        Ok(self.store.update_sms(tenant, id, node, update).await?)
    }

    /// Records the outcome of a cloud-to-device push.
    pub async fn record_delivery(
        &self,
        tenant: &Tenant,
        device_uuid: &str,
        target: &str,
        result: DeliveryResult,
        detail: Option<&str>,
    ) -> Result<DeliveryRecord, CoreError> {
        Ok(self
            .store
            .record_delivery(tenant, device_uuid, target, result, detail)
            .await?)
    }

    /// The newest of a device's recorded cloud-to-device pushes (`limit`
    /// clamped to 1..=1000), saying whether older ones exist.
    pub async fn page_deliveries(
        &self,
        tenant: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Page<DeliveryRecord>, CoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.store.list_deliveries(tenant, device_uuid, limit + 1).await?;
        Ok(Page::of(rows, limit))
    }

    /// A device's recorded cloud-to-device pushes, newest first.
    pub async fn list_deliveries(
        &self,
        tenant: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, CoreError> {
        Ok(self
            .store
            .list_deliveries(tenant, device_uuid, limit.clamp(1, 1000))
            .await?)
    }
}
