//! [`Platform`]: the one entry point faces use.

mod broadcasts;
mod categories;
mod content;
mod credentials;
mod devices;
mod documents;
mod feeds;
mod identity;
mod messages;
mod oauth2;
mod pairing;
mod retention;
mod sms;
mod thing_actions;
mod thing_events;
mod thing_properties;
mod thing_td_cache;
mod things;
mod tokens;
mod verified_tokens;

use std::sync::Arc;

use crate::CoreError;
use crate::bus::{Bus, BusEvent, Change, Events, RegistryChange, RegistryKind};
use crate::ids::{OrgName, Tenant};
use crate::records::OrgRecord;
use crate::store::Store;

pub use broadcasts::Responses;
pub use categories::CategoryPage;
pub use content::{ContentDraft, Download, Upload};
pub use credentials::{CreatedApiKey, CreatedApp, CreatedClient};
pub use devices::{CreatedDevice, DeviceAuth, TotpProvisioned};
pub use documents::Found;
pub use feeds::{DEFAULT_MESSAGES, FEED_HTTP, FEED_MESSAGES, Feed, FeedSource, MAX_MESSAGES};
pub use identity::{MAX_LOGIN_JWT_AHEAD_MS, SESSION_TTL};
pub use messages::{IncomingMessage, IngestOutcome, Page};
pub use oauth2::{CLIENT_TOKEN_TTL, ClientToken, MAX_CLIENT_ID, MAX_CLIENT_SECRET, MAX_REQUESTED_SCOPES, OAuthError};
pub use pairing::{PAIRING_OFFER_TTL, PAIRING_SESSION_TTL};
pub use retention::{RETENTION_BATCH, RetentionSweep};
pub use things::{MAX_DELETE, MAX_PATCH_ITEMS, ThingPage};
pub use tokens::{IssuedToken, MAX_TOKEN_LEN, TokenClaims, TokenGrant};

/// The platform core: registry, messages, SMS outbox, over one store and one bus.
#[derive(Clone)]
pub struct Platform {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    token_keys: Arc<tokens::TokenKeys>,
    revoked: Arc<oauth2::RevokedTokens>,
    td_cache: Arc<thing_td_cache::TdCache>,
    broadcast_limits: crate::channels::BroadcastLimits,
}

impl Platform {
    /// A platform over a store and a bus.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        Self {
            store,
            bus,
            token_keys: Arc::default(),
            revoked: Arc::default(),
            td_cache: Arc::default(),
            broadcast_limits: crate::channels::BroadcastLimits::default(),
        }
    }

    /// This platform with other bounds on broadcasts and responses.
    pub fn with_broadcast_limits(mut self, limits: crate::channels::BroadcastLimits) -> Self {
        self.broadcast_limits = limits;
        self
    }

    /// The bus, subscribe only: faces and workers listen; only the core publishes.
    pub fn events(&self) -> Events {
        Events::new(self.bus.clone())
    }

    /// Publishes a registry change (call only after the store committed it).
    pub(crate) async fn changed(&self, org: &OrgName, kind: RegistryKind, id: &str, change: Change) {
        let event = RegistryChange {
            org: org.as_str().to_owned(),
            kind,
            id: id.to_owned(),
            change,
        };
        self.bus.publish(BusEvent::Registry(event)).await;
    }

    /// Store health.
    pub async fn ping(&self) -> Result<(), CoreError> {
        Ok(self.store.ping().await?)
    }

    /// Store counters.
    pub fn store_stats(&self) -> crate::store::StoreStats {
        self.store.stats()
    }

    /// Commits what is pending and closes the store; lets what was
    /// published leave the process (bounded).
    pub async fn close(&self) {
        self.bus.flush().await;
        self.store.close().await;
    }

    /// Creates an organization.
    pub async fn create_org(&self, name: &str) -> Result<OrgRecord, CoreError> {
        let name = OrgName::parse(name)?;
        let tenant = self.store.create_org(&name).await?;
        self.changed(&name, RegistryKind::Org, name.as_str(), Change::Created)
            .await;
        Ok(self.store.org(&tenant).await?)
    }

    /// Resolves an organization name to its tenant.
    pub async fn tenant(&self, name: &str) -> Result<Tenant, CoreError> {
        let parsed = OrgName::parse(name).map_err(|_| CoreError::NotFound(format!("organization {name}")))?;
        self.store
            .tenant(&parsed)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("organization {name}")))
    }

    /// Reads an organization.
    pub async fn org(&self, tenant: &Tenant) -> Result<OrgRecord, CoreError> {
        Ok(self.store.org(tenant).await?)
    }

    /// Lists organizations.
    pub async fn list_orgs(&self) -> Result<Vec<OrgRecord>, CoreError> {
        Ok(self.store.list_orgs().await?)
    }

    /// Deletes an organization and everything it owns.
    pub async fn delete_org(&self, tenant: &Tenant) -> Result<(), CoreError> {
        self.store.delete_org(tenant).await?;
        let name = tenant.name();
        self.changed(name, RegistryKind::Org, name.as_str(), Change::Deleted)
            .await;
        Ok(())
    }

    /// Sets message retention (`None`: keep forever).
    pub async fn set_message_retention(&self, tenant: &Tenant, secs: Option<i64>) -> Result<(), CoreError> {
        if secs.is_some_and(|s| s <= 0) {
            return Err(CoreError::Invalid(
                "retention must be a positive number of seconds".into(),
            ));
        }
        self.store.set_message_retention(tenant, secs).await?;
        let name = tenant.name();
        self.changed(name, RegistryKind::Org, name.as_str(), Change::Updated)
            .await;
        Ok(())
    }
}
