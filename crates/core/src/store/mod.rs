//! The store: one trait per aggregate, one backend per database.
//!
//! The traits are [`RegistryStore`], [`MessageStore`], [`OutboxStore`], [`KeyStore`],
//! [`DocumentStore`], [`BlobStore`], [`ContentStore`], [`PairingStore`],
//! [`OAuthStore`], [`ThingActionStore`], [`ThingEventStore`], [`SpaceRetentionStore`] and
//! [`StoreLifecycle`]; [`Store`] is all of them, which is what the platform
//! holds. Each backend implements each trait in the module of that
//! aggregate. The embedded default is SQLite ([`sqlite::SqliteStore`]).
//! Nothing in the traits is backend-specific, and one test suite runs on
//! every backend. Writes are group-committed by the backends: a write
//! returns only after its transaction committed, and concurrent writes share
//! transactions.

mod blob_stream;
mod document_query;
pub mod migrate;
mod outbox_claims;
#[cfg(feature = "postgres")]
pub mod postgres;
mod sealed;
pub mod sqlite;
mod thing_query;

use crate::content::{ContentData, ContentPage, ContentQuery, ContentRecord, NewContent};
use crate::documents::{Collection, DataItem, DataQuery, DocumentQuery, NewDocument};
use crate::ids::{OrgName, Tenant};
use crate::records::*;
use crate::things::{
    Category, CategoryDraft, HistoryDelete, HistoryRow, HistorySpec, KeyValue, StoredThing, ThingFilter, ThingQuery,
};
use crate::things_activity::{
    NewThingAction, NewThingEvent, SpaceRetention, SpaceRetentionChange, ThingAction, ThingActionUpdate, ThingEvent,
};

/// Chunks of a blob's bytes, in order, as a stream: what a blob is written
/// from and read as. An error item ends it.
pub type BlobChunks = futures::stream::BoxStream<'static, Result<bytes::Bytes, StoreError>>;

/// A stored blob being read: its length, and its bytes as chunks (never
/// whole in memory).
pub struct BlobReader {
    /// Bytes in all.
    pub size: u64,
    /// The bytes.
    pub chunks: BlobChunks,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Errors of a store backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was hit.
    #[error("{0} already exists")]
    Conflict(String),
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The store cannot serve (closed, locked, disk full).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The on-disk schema is newer than this binary knows.
    #[error(
        "the data directory's schema version {found} is newer than this binary supports ({known}); upgrade thingstead"
    )]
    SchemaTooNew {
        /// Version found on disk.
        found: i64,
        /// Newest version this binary knows.
        known: i64,
    },
    /// A blob was longer than the cap its writer set; nothing was kept.
    #[error("more than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The bytes of a blob stopped coming (the client went away); nothing was kept.
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    /// Anything else from the backend.
    #[error("store error: {0}")]
    Backend(String),
}

/// Counters a backend keeps, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Write operations committed.
    pub writes: u64,
    /// Transactions committed (fewer than `writes` under group commit).
    pub commits: u64,
}

/// A device as stored, before it exists.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// uuid.
    pub uuid: String,
    /// name.
    pub name: String,
    /// HS256 secret.
    pub secret: String,
    /// 8-char key.
    pub devicekey: String,
}

impl NewDevice {
    /// The record of this device once stored in `tenant` at `now` (ms).
    pub(crate) fn into_record(self, tenant: &Tenant, now: i64) -> DeviceRecord {
        DeviceRecord {
            org: tenant.name().to_string(),
            uuid: self.uuid,
            name: self.name,
            secret: self.secret,
            totp_seed: None,
            last_seen_addr: None,
            last_seen_at: None,
            created_at: now,
        }
    }
}

/// The document a registry device gets when it is made without one: `{uuid, name}`.
pub(crate) fn default_device_document(d: &NewDevice) -> Result<NewDocument, StoreError> {
    let mut doc = serde_json::Map::new();
    doc.insert("name".into(), serde_json::Value::String(d.name.clone()));
    NewDocument::new(Collection::Devices, &d.uuid, doc).map_err(|e| StoreError::Backend(e.to_string()))
}

/// Organizations, identities and their credentials. Tenant-scoped calls
/// take a [`Tenant`]; the credential look-ups resolve one.
#[async_trait::async_trait]
pub trait RegistryStore: Send + Sync {
    // --- organizations
    /// Creates an organization.
    async fn create_org(&self, name: &OrgName) -> Result<Tenant, StoreError>;
    /// Resolves an organization by name.
    async fn tenant(&self, name: &OrgName) -> Result<Option<Tenant>, StoreError>;
    /// Reads an organization.
    async fn org(&self, tenant: &Tenant) -> Result<OrgRecord, StoreError>;
    /// Lists all organizations (operator view).
    async fn list_orgs(&self) -> Result<Vec<OrgRecord>, StoreError>;
    /// Deletes an organization and everything it owns.
    async fn delete_org(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// Sets the message retention of an organization.
    async fn set_message_retention(&self, tenant: &Tenant, secs: Option<i64>) -> Result<(), StoreError>;

    // --- users
    /// Creates a user with an argon2id password hash.
    async fn create_user(&self, tenant: &Tenant, username: &str, password_hash: &str) -> Result<(), StoreError>;
    /// Lists users.
    async fn list_users(&self, tenant: &Tenant) -> Result<Vec<UserRecord>, StoreError>;
    /// A user's password hash.
    async fn user_password_hash(&self, tenant: &Tenant, username: &str) -> Result<Option<String>, StoreError>;
    /// Deletes a user.
    async fn delete_user(&self, tenant: &Tenant, username: &str) -> Result<(), StoreError>;

    // --- devices
    /// Creates a device.
    async fn create_device(&self, tenant: &Tenant, device: NewDevice) -> Result<DeviceRecord, StoreError>;
    /// Lists devices.
    async fn list_devices(&self, tenant: &Tenant) -> Result<Vec<DeviceRecord>, StoreError>;
    /// Reads a device.
    async fn device(&self, tenant: &Tenant, uuid: &str) -> Result<Option<DeviceRecord>, StoreError>;
    /// Deletes a device.
    async fn delete_device(&self, tenant: &Tenant, uuid: &str) -> Result<(), StoreError>;
    /// Sets a device's TOTP seed.
    async fn set_device_totp(&self, tenant: &Tenant, uuid: &str, seed: &str) -> Result<(), StoreError>;
    /// Consumes a TOTP step: true when `step` is later than every step used before.
    async fn consume_totp_step(&self, tenant: &Tenant, uuid: &str, step: i64) -> Result<bool, StoreError>;
    /// Credential look-up: the device holding this device key, with its tenant.
    async fn device_by_key(&self, devicekey: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError>;
    /// Credential look-up: the device with this uuid, with its tenant.
    async fn device_by_uuid(&self, uuid: &str) -> Result<Option<(Tenant, DeviceRecord)>, StoreError>;

    // --- consumer apps
    /// Creates a consumer app.
    async fn create_app(&self, tenant: &Tenant, uuid: &str, name: &str, api_key: &str)
    -> Result<AppRecord, StoreError>;
    /// Lists consumer apps.
    async fn list_apps(&self, tenant: &Tenant) -> Result<Vec<AppRecord>, StoreError>;
    /// Deletes a consumer app.
    async fn delete_app(&self, tenant: &Tenant, uuid: &str) -> Result<(), StoreError>;
    /// A consumer app's api key (the HS256 key of its login tokens) and
    /// its tenant, looked up by uuid in any organization.
    async fn app_api_key(&self, uuid: &str) -> Result<Option<(Tenant, String)>, StoreError>;

    // --- OAuth2 clients
    /// Creates an OAuth2 client with a hashed secret.
    async fn create_client(
        &self,
        tenant: &Tenant,
        client_id: &str,
        secret_hash: &str,
        scopes: &[String],
    ) -> Result<ClientRecord, StoreError>;
    /// Lists OAuth2 clients.
    async fn list_clients(&self, tenant: &Tenant) -> Result<Vec<ClientRecord>, StoreError>;
    /// Deletes an OAuth2 client.
    async fn delete_client(&self, tenant: &Tenant, client_id: &str) -> Result<(), StoreError>;

    // --- API keys
    /// Stores an API key by its hash.
    async fn create_api_key(
        &self,
        tenant: &Tenant,
        id: &str,
        prefix: &str,
        key_hash: &str,
    ) -> Result<ApiKeyRecord, StoreError>;
    /// Lists API keys (id and prefix only).
    async fn list_api_keys(&self, tenant: &Tenant) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Deletes an API key.
    async fn delete_api_key(&self, tenant: &Tenant, id: &str) -> Result<(), StoreError>;
    /// Credential look-up: the tenant owning the API key with this hash.
    async fn tenant_by_api_key_hash(&self, key_hash: &str) -> Result<Option<Tenant>, StoreError>;
}

/// Device messages.
#[async_trait::async_trait]
pub trait MessageStore: Send + Sync {
    // --- messages
    /// Stores a message of device `device_uuid` (and the device's last-seen
    /// address) in one commit. A message whose idempotency key the device
    /// used before is not stored again: the earlier one comes back as a duplicate.
    async fn insert_message(
        &self,
        tenant: &Tenant,
        device_uuid: &str,
        message: NewMessage,
    ) -> Result<StoredMessage, StoreError>;
    /// The ingest fast path: resolves the device holding `devicekey` and
    /// stores its message in the same write, one round trip to the store.
    /// `Ok(None)` when no device holds the key (nothing is written).
    async fn insert_message_by_key(
        &self,
        devicekey: &str,
        message: NewMessage,
    ) -> Result<Option<(Tenant, StoredMessage)>, StoreError>;
    /// Lists messages, newest first.
    async fn list_messages(&self, tenant: &Tenant, query: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError>;
    /// Reads one message.
    async fn message(&self, tenant: &Tenant, id: i64) -> Result<Option<MessageRecord>, StoreError>;
    /// Deletes up to `limit` of the messages received before `cutoff_ms`,
    /// oldest first; returns how many. Bounded so a sweep never holds the
    /// writer (and so ingest) for long.
    async fn delete_messages_before(&self, tenant: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError>;
}

/// The SMS outbox and cloud-to-device delivery records.
#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    // --- SMS outbox
    /// Queues an SMS.
    async fn enqueue_sms(
        &self,
        tenant: &Tenant,
        device_uuid: Option<&str>,
        destination: &str,
        text: &str,
    ) -> Result<SmsRecord, StoreError>;
    /// Lists the outbox, newest first, below the cursor id.
    async fn list_sms(&self, tenant: &Tenant, before_id: Option<i64>, limit: u32)
    -> Result<Vec<SmsRecord>, StoreError>;
    /// System worker scan: claims for `node`, until `now_ms + lease_ms`, up
    /// to `limit` queued SMS of every tenant due at `now_ms` and not claimed
    /// by another node whose claim is still running (a claim whose lease
    /// expired is free again: its node died mid-send). Atomic across nodes:
    /// two nodes never claim one SMS at once. Oldest due first.
    async fn claim_due_sms(
        &self,
        node: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<(Tenant, SmsRecord)>, StoreError>;
    /// Takes or renews the cluster-wide lease `name` for `node` until
    /// `now_ms + ttl_ms`; `false` while another node holds it unexpired.
    /// For work that must run on one node at a time (retention sweeps).
    async fn try_lease(&self, name: &str, node: &str, now_ms: i64, ttl_ms: i64) -> Result<bool, StoreError>;
    /// Records a state change of an SMS (its row and its history) and
    /// clears its claim in the same update, only while `node` holds the
    /// claim: `Conflict` when another node has claimed it since (this
    /// node's lease ran out mid-send; the other node's outcome stands),
    /// and then nothing changes.
    async fn update_sms(&self, tenant: &Tenant, id: i64, node: &str, update: SmsUpdate) -> Result<(), StoreError>;
    /// Reads one SMS with every state change it went through, oldest first.
    async fn sms(&self, tenant: &Tenant, id: i64) -> Result<Option<(SmsRecord, Vec<SmsEvent>)>, StoreError>;

    // --- cloud-to-device
    /// Records a push outcome.
    async fn record_delivery(
        &self,
        tenant: &Tenant,
        device_uuid: &str,
        target: &str,
        result: DeliveryResult,
        detail: Option<&str>,
    ) -> Result<DeliveryRecord, StoreError>;
    /// A device's recorded pushes, newest first.
    async fn list_deliveries(
        &self,
        tenant: &Tenant,
        device_uuid: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
}

/// Server keys shared by every node: token signing keys, sealed with the
/// master key at rest. Keys of one purpose are numbered by generation; the
/// newest signs, every stored one verifies (a rotation keeps older tokens
/// valid until they expire).
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// The keys of `purpose`, newest generation first (empty when none).
    async fn signing_keys(&self, purpose: &str) -> Result<Vec<SigningKey>, StoreError>;
    /// Stores `secret` as generation `generation` of `purpose`; `false` when
    /// that generation already exists (another node made it first, and its
    /// key is the one every node uses). Atomic across nodes.
    async fn add_signing_key(&self, purpose: &str, generation: i64, secret: &[u8]) -> Result<bool, StoreError>;
}

/// Pairing offers: a user of an organization pairs a device waiting for
/// pairing (known by the random id of its pairing session) to one of the
/// organization's devices.
#[async_trait::async_trait]
pub trait PairingStore: Send + Sync {
    /// Records that pairing session `pairing_id` is device `device_uuid` of
    /// `tenant`, at `now_ms`, and forgets offers made before
    /// `expired_before_ms`. `Conflict` when the pairing id is already paired.
    async fn pair_device(
        &self,
        tenant: &Tenant,
        pairing_id: &str,
        device_uuid: &str,
        now_ms: i64,
        expired_before_ms: i64,
    ) -> Result<(), StoreError>;
    /// The organization id and device uuid pairing session `pairing_id` was
    /// paired to at or after `since_ms`, if any. A credential look-up: the
    /// caller checks the device still exists in that organization.
    async fn paired_device(&self, pairing_id: &str, since_ms: i64) -> Result<Option<(i64, String)>, StoreError>;
}

/// An OAuth2 client's credentials, from a credential look-up.
#[derive(Clone)]
pub struct OAuthClientCredentials {
    /// Its organization.
    pub tenant: Tenant,
    /// The client id.
    pub client_id: String,
    /// SHA-256 of its secret, hex ([`crate::secrets::token_hash`]).
    pub secret_hash: String,
    /// The scopes it may be granted.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OAuthClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClientCredentials")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// OAuth2 (RFC 6749 client credentials, RFC 7009 revocation): the client
/// credential look-up of the token endpoint, and revoked tokens. A
/// revocation is kept by the token's random id (`jti`) until the token
/// would have expired anyway, in the store, so every node refuses a token
/// revoked on any node.
#[async_trait::async_trait]
pub trait OAuthStore: Send + Sync {
    /// Credential look-up: the OAuth2 client `client_id` of any
    /// organization, with its secret hash and allowed scopes.
    async fn oauth_client(&self, client_id: &str) -> Result<Option<OAuthClientCredentials>, StoreError>;
    /// Records that the token `jti` of `tenant`, which expires at
    /// `expires_at_ms`, is revoked (again: nothing changes), and deletes up
    /// to a few revocations whose tokens expired before `now_ms`.
    async fn revoke_token(&self, tenant: &Tenant, jti: &str, expires_at_ms: i64, now_ms: i64)
    -> Result<(), StoreError>;
    /// Credential look-up: whether the token `jti` is revoked.
    async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
    /// Credential look-up of a client token, in one read: whether its
    /// `jti` (when it has one) is revoked, and its client `client_id`.
    /// What every request with a client token asks, so backends answer it
    /// in one trip. An answer must reflect every change committed before
    /// the call, on every node (SQLite answers from memory while its
    /// standing epoch shows nothing changed: `store/sqlite/standing.rs`).
    async fn client_token_standing(
        &self,
        jti: Option<&str>,
        client_id: &str,
    ) -> Result<(bool, Option<OAuthClientCredentials>), StoreError>;
    /// Deletes up to `limit` revocations of tokens that expired before
    /// `now_ms` (a token past its expiry is refused anyway); returns how many.
    async fn prune_token_revocations(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError>;
}

/// A server key, opened (the store keeps it sealed).
#[derive(Clone)]
pub struct SigningKey {
    /// What it signs, e.g. `"token"`.
    pub purpose: String,
    /// Its generation, 1 for the first; newer keys sign.
    pub generation: i64,
    /// The key bytes.
    pub secret: zeroize::Zeroizing<Vec<u8>>,
    /// When it was made (epoch ms).
    pub created_at: i64,
}

impl SigningKey {
    /// The key id tokens name in their header: `<purpose>-<generation>`.
    pub fn kid(&self) -> String {
        format!("{}-{}", self.purpose, self.generation)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("purpose", &self.purpose)
            .field("generation", &self.generation)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Blobs: byte strings of any length (content files, layout images),
/// streamed in and out in chunks, never held whole in memory. A blob is
/// written once under a fresh id and never changed; it belongs to one
/// tenant. SQLite keeps each blob in a file under the data dir; PostgreSQL
/// in `blob_chunks` rows, so every node serves every blob.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Writes blob `id` (letters, digits and `-`; new) from `chunks`, at
    /// most `max_bytes` long; returns its length. Returns only once the
    /// blob is durable (fsynced and renamed into place on SQLite, committed
    /// on PostgreSQL). A blob over the cap fails with
    /// [`StoreError::TooLarge`], a failing or abandoned stream with
    /// [`StoreError::Interrupted`] (or the stream's own error); either way,
    /// and when the caller drops the future, nothing of it is kept.
    async fn put_blob(&self, tenant: &Tenant, id: &str, chunks: BlobChunks, max_bytes: u64) -> Result<u64, StoreError>;
    /// The length of blob `id`, if the tenant has it.
    async fn blob_size(&self, tenant: &Tenant, id: &str) -> Result<Option<u64>, StoreError>;
    /// Reads blob `id` as chunks, if the tenant has it.
    async fn read_blob(&self, tenant: &Tenant, id: &str) -> Result<Option<BlobReader>, StoreError>;
    /// Deletes blob `id`; `false` when the tenant had none.
    async fn delete_blob(&self, tenant: &Tenant, id: &str) -> Result<bool, StoreError>;
}

/// Content items and location layouts: the records that name blobs.
#[async_trait::async_trait]
pub trait ContentStore: Send + Sync {
    /// Stores a new item; `Conflict` when its uuid or its path is taken in
    /// the tenant, `NotFound` when its parent is gone.
    async fn create_content(&self, tenant: &Tenant, item: NewContent) -> Result<ContentRecord, StoreError>;
    /// Reads an item.
    async fn content(&self, tenant: &Tenant, uuid: &str) -> Result<Option<ContentRecord>, StoreError>;
    /// Reads the item at `path`.
    async fn content_by_path(&self, tenant: &Tenant, path: &str) -> Result<Option<ContentRecord>, StoreError>;
    /// Finds items, in path order.
    async fn find_content(&self, tenant: &Tenant, query: &ContentQuery) -> Result<ContentPage, StoreError>;
    /// Sets the bytes of an item (`variant` `None`) or of its named variant
    /// (added when new), in one atomic update; returns the record and the
    /// blob those bytes replaced, if any (the caller deletes it).
    /// `NotFound` when the item is gone.
    async fn set_content_data(
        &self,
        tenant: &Tenant,
        uuid: &str,
        variant: Option<&str>,
        data: ContentData,
    ) -> Result<(ContentRecord, Option<String>), StoreError>;
    /// Deletes an item and, for a folder, everything under it, in one
    /// commit; returns the deleted records (whose blobs the caller
    /// deletes). `NotFound` when the item is gone.
    async fn delete_content(&self, tenant: &Tenant, uuid: &str) -> Result<Vec<ContentRecord>, StoreError>;
    /// Sets the layout image of location `location`; returns the blob it
    /// replaced, if any.
    async fn set_layout(
        &self,
        tenant: &Tenant,
        location: &str,
        data: ContentData,
    ) -> Result<Option<String>, StoreError>;
    /// The layout image of a location.
    async fn layout(&self, tenant: &Tenant, location: &str) -> Result<Option<ContentData>, StoreError>;
}

/// Health and lifetime of a backend.
#[async_trait::async_trait]
pub trait StoreLifecycle: Send + Sync {
    // --- health
    /// Checks the store answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Counters.
    fn stats(&self) -> StoreStats;
    /// Commits what is pending and closes; later calls fail with `Unavailable`.
    async fn close(&self);
}

/// A whole store: every aggregate on one backend. Tenant-scoped calls take a
/// [`Tenant`]; the few global ones are credential look-ups (which resolve the
/// tenant) and the system workers' scans, named as such.
pub trait Store:
    RegistryStore
    + MessageStore
    + OutboxStore
    + KeyStore
    + DocumentStore
    + BlobStore
    + ContentStore
    + PairingStore
    + OAuthStore
    + ThingActionStore
    + ThingEventStore
    + SpaceRetentionStore
    + ThingStore
    + StoreLifecycle
    + 'static
{
}

impl<
    T: RegistryStore
        + MessageStore
        + OutboxStore
        + KeyStore
        + DocumentStore
        + BlobStore
        + ContentStore
        + PairingStore
        + OAuthStore
        + ThingActionStore
        + ThingEventStore
        + SpaceRetentionStore
        + ThingStore
        + StoreLifecycle
        + 'static,
> Store for T
{
}

/// Application-platform documents (WIRE.md B.3) and data items. A device
/// document is the registry device's: it is created with the device (in the
/// same transaction) and goes when the device goes.
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync {
    /// Stores a new document (not of [`Collection::Devices`]); `Conflict`
    /// when its uuid or its unique name is taken.
    async fn create_document(&self, tenant: &Tenant, doc: NewDocument) -> Result<(), StoreError>;
    /// Creates a registry device and its document in one transaction.
    async fn create_device_document(
        &self,
        tenant: &Tenant,
        device: NewDevice,
        doc: NewDocument,
    ) -> Result<DeviceRecord, StoreError>;
    /// A document's JSON text.
    async fn document(&self, tenant: &Tenant, collection: Collection, uuid: &str)
    -> Result<Option<String>, StoreError>;
    /// One page of the documents matching `query`, and how many match in all.
    async fn find_documents(
        &self,
        tenant: &Tenant,
        collection: Collection,
        query: &DocumentQuery,
    ) -> Result<(Vec<String>, u64), StoreError>;
    /// Replaces a document (and its terms); a device's registry name
    /// follows the document's `name`. `NotFound` when it does not exist.
    async fn update_document(&self, tenant: &Tenant, doc: NewDocument) -> Result<(), StoreError>;
    /// Deletes a document; for a device, the registry device with it.
    async fn delete_document(&self, tenant: &Tenant, collection: Collection, uuid: &str) -> Result<(), StoreError>;
    /// Creates or replaces a data item; `true` when it was created.
    async fn put_data(&self, tenant: &Tenant, item: DataItem) -> Result<bool, StoreError>;
    /// Reads a data item.
    async fn data_item(&self, tenant: &Tenant, group: &str, key: &str) -> Result<Option<DataItem>, StoreError>;
    /// Deletes a data item.
    async fn delete_data(&self, tenant: &Tenant, group: &str, key: &str) -> Result<(), StoreError>;
    /// One page of the data items matching `query` (by group, then key), and how many match.
    async fn find_data(&self, tenant: &Tenant, query: &DataQuery) -> Result<(Vec<DataItem>, u64), StoreError>;
}

/// Actions requested of things ([`crate::things_activity`]), keyed by
/// tenant, thing uid, action name and id. Rows are not tied to a stored
/// thing: callers check the thing exists. Lists run newest first (by
/// descending [`ThingAction::seq`]).
#[async_trait::async_trait]
pub trait ThingActionStore: Send + Sync {
    /// Stores a new action (status `pending`).
    async fn create_thing_action(&self, tenant: &Tenant, action: NewThingAction) -> Result<ThingAction, StoreError>;
    /// Reads action `id` of action `name` of thing `thing`.
    async fn thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingAction>, StoreError>;
    /// Up to `limit` actions of `thing` (of action `name` only, when given)
    /// whose `seq` is below `before_seq` (all when `None`), newest first.
    async fn list_thing_actions(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ThingAction>, StoreError>;
    /// Up to `limit` actions of `thing` (of name `name` only, when given)
    /// whose `seq` is above `after_seq`, oldest first: the page before a
    /// `previous_cursor`, nearest it first.
    async fn list_thing_actions_after(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ThingAction>, StoreError>;
    /// Applies `update` at `now_ms` in one atomic statement (see
    /// [`crate::things_activity`] for `time_completed`); the action as
    /// updated, `None` when there is no such action.
    async fn update_thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
        update: ThingActionUpdate,
        now_ms: i64,
    ) -> Result<Option<ThingAction>, StoreError>;
    /// Deletes an action; the action deleted, `None` when there was none.
    async fn delete_thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingAction>, StoreError>;
    /// Deletes every action of `thing` (a thing that is deleted); how many.
    async fn delete_thing_actions(&self, tenant: &Tenant, thing: &str) -> Result<u64, StoreError>;
}

/// Events of things ([`crate::things_activity`]), keyed like actions.
/// Lists run newest first (by descending [`ThingEvent::seq`]).
#[async_trait::async_trait]
pub trait ThingEventStore: Send + Sync {
    /// Stores a new event.
    async fn create_thing_event(&self, tenant: &Tenant, event: NewThingEvent) -> Result<ThingEvent, StoreError>;
    /// Reads event `id` of event `name` of thing `thing`.
    async fn thing_event(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingEvent>, StoreError>;
    /// Up to `limit` events of `thing` (of event `name` only, when given)
    /// whose `seq` is below `before_seq` (all when `None`), newest first.
    async fn list_thing_events(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ThingEvent>, StoreError>;
    /// Up to `limit` events of `thing` (of name `name` only, when given)
    /// whose `seq` is above `after_seq`, oldest first: the page before a
    /// `previous_cursor`, nearest it first.
    async fn list_thing_events_after(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ThingEvent>, StoreError>;
    /// Deletes an event; the event deleted, `None` when there was none.
    async fn delete_thing_event(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<ThingEvent>, StoreError>;
    /// Deletes every event of `thing` (a thing that is deleted); how many.
    async fn delete_thing_events(&self, tenant: &Tenant, thing: &str) -> Result<u64, StoreError>;
    /// Retention: deletes up to `limit` of the tenant's events that
    /// happened before `cutoff_ms`, oldest first; returns how many. Bounded
    /// so a sweep never holds the writer for long; idempotent.
    async fn delete_thing_events_before(&self, tenant: &Tenant, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError>;
}

/// Per-space retention of property history and events, shared by every node.
#[async_trait::async_trait]
pub trait SpaceRetentionStore: Send + Sync {
    /// Applies `change` atomically (at `now_ms`); returns the retention now in force.
    async fn update_space_retention(
        &self,
        tenant: &Tenant,
        change: SpaceRetentionChange,
        now_ms: i64,
    ) -> Result<SpaceRetention, StoreError>;
    /// A space's retention (unlimited when never set).
    async fn space_retention(&self, tenant: &Tenant) -> Result<SpaceRetention, StoreError>;
    /// System worker scan: every space with at least one limit, by organization id.
    async fn limited_spaces(&self) -> Result<Vec<(Tenant, SpaceRetention)>, StoreError>;
}

/// The message of the [`StoreError::Conflict`] a thing write returns when
/// the thing's document is no longer the one the caller read (it changed
/// in between): read again and retry.
pub const THING_CHANGED: &str = "a newer version of this thing";

/// Which side of a `seq` a keyset read of actions or events seeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seek {
    /// Rows with a lower `seq`, newest first (list order).
    Older(i64),
    /// Rows with a higher `seq`, oldest first (toward the list's start).
    Newer(i64),
}

impl Seek {
    /// `(comparison, order, seq)` for `id {comparison} seq ORDER BY id {order}`.
    pub(crate) fn sql(self) -> (&'static str, &'static str, i64) {
        match self {
            Self::Older(seq) => ("<", "DESC", seq),
            Self::Newer(seq) => (">", "ASC", seq),
        }
    }
}

/// A thing document ready for the store.
#[derive(Debug, Clone)]
pub struct NewThing {
    /// The document (collection things; its uuid is the uid).
    pub doc: NewDocument,
    /// The categories it is in: each must exist in the tenant.
    pub categories: Vec<String>,
    /// The properties its TD declares: current values of others are dropped.
    pub properties: Vec<String>,
}

/// One current value to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyWrite {
    /// The property.
    pub name: String,
    /// Its value, JSON text.
    pub value: String,
    /// The value when it is a number (for filters and sorting).
    pub number: Option<f64>,
    /// The value when it is a string.
    pub text: Option<String>,
}

impl PropertyWrite {
    /// The write of `value` to `name`.
    pub fn new(name: &str, value: &serde_json::Value) -> Self {
        Self {
            name: name.to_owned(),
            value: value.to_string(),
            number: value.as_f64(),
            text: value.as_str().map(str::to_owned),
        }
    }
}

/// Things of the things API (WIRE.md A.3–A.5): categories, thing documents
/// (the `/api/things` documents, see [`crate::things`]), current property
/// values and their history. Every call is scoped by its tenant; writes of
/// several rows are one transaction.
#[async_trait::async_trait]
pub trait ThingStore: Send + Sync {
    // --- categories
    /// Creates a category; `Conflict` when the name is taken.
    async fn create_category(&self, tenant: &Tenant, category: &CategoryDraft) -> Result<Category, StoreError>;
    /// Reads a category.
    async fn category(&self, tenant: &Tenant, name: &str) -> Result<Option<Category>, StoreError>;
    /// Up to `limit` categories by name, after `after`.
    async fn list_categories(
        &self,
        tenant: &Tenant,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Category>, StoreError>;
    /// Up to `limit` categories before `before` by name, nearest first
    /// (the page before a `previous_cursor`).
    async fn list_categories_before(
        &self,
        tenant: &Tenant,
        before: &str,
        limit: u32,
    ) -> Result<Vec<Category>, StoreError>;
    /// Replaces category `name` with `category` (which may rename it: the
    /// things in it move to the new name in the same transaction).
    /// `NotFound`, or `Conflict` when the new name is taken. Returns the
    /// category and the uids of the things whose document changed.
    async fn update_category(
        &self,
        tenant: &Tenant,
        name: &str,
        category: &CategoryDraft,
    ) -> Result<(Category, Vec<String>), StoreError>;
    /// Deletes a category and removes it from the things in it, in one
    /// transaction; returns the uids of those things. `NotFound` when none.
    async fn delete_category(&self, tenant: &Tenant, name: &str) -> Result<Vec<String>, StoreError>;

    // --- things
    /// Stores a new thing; `Conflict` when its uid is taken, `NotFound`
    /// when one of its categories does not exist.
    async fn create_thing(&self, tenant: &Tenant, thing: NewThing) -> Result<StoredThing, StoreError>;
    /// Reads a thing with its current values.
    async fn thing(&self, tenant: &Tenant, uid: &str) -> Result<Option<StoredThing>, StoreError>;
    /// Replaces a thing's document (and search terms), dropping the current
    /// values of properties it no longer declares. With `expected`, only if
    /// the stored document is still exactly that text (else `Conflict` with
    /// [`THING_CHANGED`]). `NotFound` when the thing (or a category) is missing.
    async fn replace_thing(
        &self,
        tenant: &Tenant,
        thing: NewThing,
        expected: Option<String>,
    ) -> Result<StoredThing, StoreError>;
    /// Deletes a thing with its values and history.
    async fn delete_thing(&self, tenant: &Tenant, uid: &str) -> Result<(), StoreError>;
    /// One page of things, each with its sort-key values (then its uid),
    /// in the query's order (reversed, nearest the cursor first, for a
    /// `previous_cursor`); and whether another thing follows them.
    async fn find_things(
        &self,
        tenant: &Tenant,
        query: &ThingQuery,
    ) -> Result<(Vec<(StoredThing, Vec<KeyValue>)>, bool), StoreError>;
    /// Deletes at most `limit` of the things `filter` selects (oldest
    /// first) in one transaction; returns their uids.
    async fn delete_things(&self, tenant: &Tenant, filter: &ThingFilter, limit: u32)
    -> Result<Vec<String>, StoreError>;

    // --- properties
    /// Sets current values of thing `uid` and, with `history`, appends them
    /// to its history at `at` (a value already there for that property and
    /// instant is replaced), in one transaction, provided the thing's
    /// document is still `expected` (else `Conflict` with [`THING_CHANGED`]).
    /// A current value set at a later instant than `at` stays current (the
    /// newest instant wins, whatever the commit order).
    async fn write_properties(
        &self,
        tenant: &Tenant,
        uid: &str,
        expected: String,
        values: Vec<PropertyWrite>,
        at: i64,
        history: bool,
    ) -> Result<(), StoreError>;

    // --- history
    /// Adds history rows to thing `uid` in one transaction; `Conflict` when
    /// one property already has a value at that instant (nothing is kept).
    async fn add_history(&self, tenant: &Tenant, uid: &str, rows: Vec<HistoryRow>) -> Result<(), StoreError>;
    /// A page of thing `uid`'s history by `(at, property)`, and whether more follow.
    async fn history(
        &self,
        tenant: &Tenant,
        uid: &str,
        spec: &HistorySpec,
    ) -> Result<(Vec<HistoryRow>, bool), StoreError>;
    /// Deletes history of thing `uid`; returns how many values.
    async fn delete_history(&self, tenant: &Tenant, uid: &str, what: &HistoryDelete) -> Result<u64, StoreError>;
    /// Deletes every history value of the tenant older than `before_ms`
    /// (epoch ms), thing by thing in bounded batches (so it never holds the
    /// writer long); returns how many. For the retention task.
    async fn prune_property_history(&self, tenant: &Tenant, before_ms: i64) -> Result<u64, StoreError>;
}
