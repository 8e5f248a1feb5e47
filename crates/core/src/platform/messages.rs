//! Device messages: ingest (commit, then publish), queries, retention.

use std::sync::Arc;

use super::Platform;
use crate::CoreError;
use crate::bus::BusEvent;
use crate::ids::Tenant;
use crate::records::{DeviceRecord, MessageQuery, MessageRecord, NewMessage, StoredMessage};

/// The largest page a message query returns.
pub(crate) const MAX_PAGE: u32 = 1000;

/// Messages deleted per retention write: small enough that ingest never waits long behind one.
const RETENTION_CHUNK: u32 = 2000;

/// One page of a listing, newest first, and whether rows follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// At most the limit asked for.
    pub items: Vec<T>,
    /// Whether at least one more row follows the last of `items`.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// A page of `limit` rows from a fetch of up to `limit + 1` rows.
    pub(crate) fn of(mut rows: Vec<T>, limit: u32) -> Self {
        let limit = limit as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        Self { items: rows, has_more }
    }
}

/// A stored message, as ingest returns it.
pub type IngestOutcome = Arc<MessageRecord>;

/// Splits hologram metadata (`\u{1}` + modem + `-` + SDK version) into
/// (SDK version, modem). The modem part is `agnostic` without a modem, the
/// modem type otherwise (with its id for a Nova: `nova-<id>`).
fn parse_metadata(m: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(m) = m.map(|m| m.trim_start_matches('\u{1}')).filter(|m| !m.is_empty()) else {
        return (None, None);
    };
    match m.rsplit_once('-') {
        Some((modem, version)) if !modem.is_empty() && !version.is_empty() => {
            (Some(version.to_owned()), Some(modem.to_owned()))
        }
        _ => (Some(m.to_owned()), None),
    }
}

/// A device message as a face received it, before it is stored.
#[derive(Debug, Clone)]
pub struct IncomingMessage<'a> {
    /// Topics, validated by the face.
    pub topics: Vec<String>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The sender's address (`ip:port`).
    pub peer: String,
    /// Hologram metadata (`\u{1}` + modem + `-` + SDK version), if sent.
    pub metadata: Option<&'a str>,
    /// The device's idempotency key, if it sent one.
    pub idempotency_key: Option<String>,
}

impl IncomingMessage<'_> {
    fn into_new(self) -> NewMessage {
        let (sdk, modem) = parse_metadata(self.metadata);
        NewMessage {
            topics: self.topics,
            payload: self.payload,
            received_at: crate::now_ms(),
            peer: self.peer,
            sdk,
            modem,
            idempotency_key: self.idempotency_key,
        }
    }
}

impl Platform {
    /// Stores a device message, then publishes it. Returns only after the
    /// commit: success here means stored.
    pub async fn ingest_message(
        &self,
        tenant: &Tenant,
        device: &DeviceRecord,
        message: IncomingMessage<'_>,
    ) -> Result<IngestOutcome, CoreError> {
        let stored = self
            .store
            .insert_message(tenant, &device.uuid, message.into_new())
            .await?;
        Ok(self.published(stored).await)
    }

    /// Authenticates by device key and stores the message in one store
    /// round trip (the device protocol's hot path); then publishes it.
    /// `Unauthorized` when no device holds the key.
    pub async fn ingest_by_devicekey(
        &self,
        devicekey: &str,
        message: IncomingMessage<'_>,
    ) -> Result<IngestOutcome, CoreError> {
        let (_, stored) = self
            .store
            .insert_message_by_key(devicekey, message.into_new())
            .await?
            .ok_or_else(|| CoreError::Unauthorized("unknown device or bad credentials".into()))?;
        Ok(self.published(stored).await)
    }

    /// Publishes a newly committed message on the bus (a duplicate was
    /// published when it was first stored).
    async fn published(&self, stored: StoredMessage) -> IngestOutcome {
        let record = Arc::new(stored.record);
        if !stored.duplicate {
            self.bus.publish(BusEvent::MessageStored(record.clone())).await;
        }
        record
    }

    /// Lists messages, newest first; `limit` is clamped to 1..=1000.
    pub async fn list_messages(&self, tenant: &Tenant, query: &MessageQuery) -> Result<Vec<MessageRecord>, CoreError> {
        let mut q = query.clone();
        q.limit = q.limit.clamp(1, MAX_PAGE);
        Ok(self.store.list_messages(tenant, &q).await?)
    }

    /// One page of messages, newest first (`limit` clamped to 1..=1000),
    /// saying whether more rows follow it, at every limit up to the maximum.
    pub async fn page_messages(&self, tenant: &Tenant, query: &MessageQuery) -> Result<Page<MessageRecord>, CoreError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let q = MessageQuery {
            limit: limit + 1,
            ..query.clone()
        };
        Ok(Page::of(self.store.list_messages(tenant, &q).await?, limit))
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
            loop {
                let n = self
                    .store
                    .delete_messages_before(&tenant, cutoff, RETENTION_CHUNK)
                    .await?;
                deleted += n;
                if n < u64::from(RETENTION_CHUNK) {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::{Page, parse_metadata};

    #[test]
    fn a_page_knows_whether_rows_follow() {
        assert_eq!(
            Page::of(vec![3, 2, 1], 2),
            Page {
                items: vec![3, 2],
                has_more: true
            }
        );
        assert!(!Page::of(vec![3, 2], 2).has_more);
        assert!(!Page::of(Vec::<i32>::new(), 2).has_more);
    }

    #[test]
    fn metadata_splits_sdk_and_modem() {
        let split = |m: &str| parse_metadata(Some(m));
        assert_eq!(
            split("\u{1}agnostic-0.9.1"),
            (Some("0.9.1".into()), Some("agnostic".into()))
        );
        assert_eq!(
            split("\u{1}nova-1234-0.9.1"),
            (Some("0.9.1".into()), Some("nova-1234".into()))
        );
        assert_eq!(split("\u{1}odd"), (Some("odd".into()), None));
        assert_eq!(parse_metadata(None), (None, None));
    }
}
