//! Device messages: ingest (commit, then publish), queries, retention.

use std::sync::Arc;

use super::Platform;
use crate::CoreError;
use crate::bus::BusEvent;
use crate::ids::Tenant;
use crate::records::{DeviceRecord, MessageQuery, MessageRecord, NewMessage};

/// The largest page a message query returns.
pub(crate) const MAX_PAGE: u32 = 1000;

/// A stored message, as ingest returns it.
pub type IngestOutcome = Arc<MessageRecord>;

/// Splits hologram metadata (`\u{1}` + modem + `-` + version) into (sdk, modem).
fn parse_metadata(m: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(m) = m.map(|m| m.trim_start_matches('\u{1}')) else {
        return (None, None);
    };
    if m.is_empty() {
        return (None, None);
    }
    let modem = m
        .split('-')
        .next()
        .filter(|s| !s.is_empty() && *s != "agnostic")
        .map(str::to_owned);
    (Some(m.to_owned()), modem)
}

fn new_message(topics: Vec<String>, payload: Vec<u8>, peer: String, metadata: Option<&str>) -> NewMessage {
    let (sdk, modem) = parse_metadata(metadata);
    NewMessage {
        topics,
        payload,
        received_at: crate::now_ms(),
        peer,
        sdk,
        modem,
    }
}

impl Platform {
    /// Stores a device message, then publishes it. Returns only after the
    /// commit: success here means stored.
    pub async fn ingest_message(
        &self,
        tenant: &Tenant,
        device: &DeviceRecord,
        topics: Vec<String>,
        payload: Vec<u8>,
        peer: String,
        metadata: Option<&str>,
    ) -> Result<IngestOutcome, CoreError> {
        let new = new_message(topics, payload, peer, metadata);
        let stored = Arc::new(self.store.insert_message(tenant, &device.uuid, new).await?);
        self.bus.publish(BusEvent::MessageStored(stored.clone()));
        Ok(stored)
    }

    /// Authenticates by device key and stores the message in one store
    /// round trip (the device protocol's hot path); then publishes it.
    /// `Unauthorized` when no device holds the key.
    pub async fn ingest_by_devicekey(
        &self,
        devicekey: &str,
        topics: Vec<String>,
        payload: Vec<u8>,
        peer: String,
        metadata: Option<&str>,
    ) -> Result<IngestOutcome, CoreError> {
        let new = new_message(topics, payload, peer, metadata);
        let (_, stored) = self
            .store
            .insert_message_by_key(devicekey, new)
            .await?
            .ok_or_else(|| CoreError::Unauthorized("unknown device or bad credentials".into()))?;
        let stored = Arc::new(stored);
        self.bus.publish(BusEvent::MessageStored(stored.clone()));
        Ok(stored)
    }

    /// Lists messages, newest first; `limit` is clamped to 1..=1000.
    pub async fn list_messages(&self, tenant: &Tenant, query: &MessageQuery) -> Result<Vec<MessageRecord>, CoreError> {
        let mut q = query.clone();
        q.limit = q.limit.clamp(1, MAX_PAGE);
        Ok(self.store.list_messages(tenant, &q).await?)
    }

    /// Reads one message.
    pub async fn message(&self, tenant: &Tenant, id: i64) -> Result<MessageRecord, CoreError> {
        self.store
            .message(tenant, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("message {id}")))
    }

    /// Deletes messages past each organization's retention; returns how many.
    pub async fn enforce_retention(&self) -> Result<u64, CoreError> {
        let mut deleted = 0;
        for org in self.store.list_orgs().await? {
            let Some(secs) = org.message_retention_secs else {
                continue;
            };
            let Ok(tenant) = self.tenant(&org.name).await else {
                continue;
            };
            let cutoff = crate::now_ms() - secs * 1000;
            deleted += self.store.delete_messages_before(&tenant, cutoff).await?;
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_metadata;

    #[test]
    fn metadata_splits_sdk_and_modem() {
        assert_eq!(
            parse_metadata(Some("\u{1}agnostic-0.9.1")),
            (Some("agnostic-0.9.1".into()), None)
        );
        assert_eq!(
            parse_metadata(Some("\u{1}nova-0.9.1")),
            (Some("nova-0.9.1".into()), Some("nova".into()))
        );
        assert_eq!(parse_metadata(None), (None, None));
    }
}
