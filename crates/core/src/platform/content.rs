//! Content items and location layouts: the rules.
//!
//! Who may do what, whatever the face:
//! - users of the organization create, upload and delete;
//! - users, devices, consumer apps and OAuth2 clients read (find, get);
//! - any principal of the organization, a restricted one included, fetches
//!   bytes by path (delivery) and layout images; a restricted principal may
//!   do nothing else;
//! - nothing crosses organizations: every call is scoped by the caller's tenant.
//!
//! Bytes are streamed into the blob store under a fresh blob id, and only
//! then named by a record; a record's old blob is deleted after the record
//! stopped naming it. A blob whose record could not be written is deleted.

use super::Platform;
use crate::CoreError;
use crate::bus::{Change, RegistryKind};
use crate::content::{
    ContentData, ContentPage, ContentQuery, ContentRecord, MAX_NAME, MAX_PATH, MAX_VARIANT_NAME, MAX_VARIANTS,
    NewContent, Subtype, check_mime_type, check_name,
};
use crate::identity::{Actor, Principal};
use crate::ids::Tenant;
use crate::store::{BlobChunks, BlobReader};

/// Deepest nesting of folders.
const MAX_DEPTH: usize = 64;
/// Most items one find returns.
const MAX_FIND_LIMIT: u32 = 1000;
/// Items a find returns when it names no limit.
const DEFAULT_FIND_LIMIT: u32 = 100;
/// Longest url of a url item.
const MAX_URL: usize = 8192;
/// Largest free-form part of a document, as JSON.
const MAX_FIELDS_BYTES: usize = 64 * 1024;

/// A content item to create (its uuid and path are the platform's).
#[derive(Debug, Clone)]
pub struct ContentDraft {
    /// Name.
    pub name: String,
    /// Kind.
    pub subtype: Subtype,
    /// The folder to put it in (`None`: the root).
    pub parent: Option<String>,
    /// The link of a url item (required for those, refused for others).
    pub url: Option<String>,
    /// Free-form fields of the document.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Bytes coming in: their media type, the most that may come, and the chunks.
pub struct Upload {
    /// Media type (`application/octet-stream` when the client named none).
    pub mime_type: String,
    /// The cap: more bytes than this fail the upload and keep nothing.
    pub max_bytes: u64,
    /// The bytes.
    pub chunks: BlobChunks,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("mime_type", &self.mime_type)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// Bytes going out: their media type and length, and the chunks.
#[derive(Debug)]
pub struct Download {
    /// Media type.
    pub mime_type: String,
    /// The bytes, with their length.
    pub reader: BlobReader,
}

fn forbidden(what: &str) -> CoreError {
    CoreError::Forbidden(what.to_owned())
}

/// The tenant of a caller who may change content: a user, not restricted.
fn writer(who: &Principal) -> Result<&Tenant, CoreError> {
    let tenant = who.tenant()?;
    if who.is_restricted() {
        return Err(forbidden("a restricted token may only fetch delivery and layout URLs"));
    }
    match who.actor() {
        Actor::User { .. } => Ok(tenant),
        _ => Err(forbidden("only users upload, change and delete content")),
    }
}

/// The tenant of a caller who may read content records.
fn reader(who: &Principal) -> Result<&Tenant, CoreError> {
    let tenant = who.tenant()?;
    if who.is_restricted() {
        return Err(forbidden("a restricted token may only fetch delivery and layout URLs"));
    }
    Ok(tenant)
}

fn not_found(what: impl std::fmt::Display) -> CoreError {
    CoreError::NotFound(what.to_string())
}

fn check_uuid(uuid: &str, what: &str) -> Result<(), CoreError> {
    // Ids come from outside: keep them short before they reach the store.
    if uuid.is_empty() || uuid.len() > 64 {
        return Err(not_found(format!("{what} {uuid}")));
    }
    Ok(())
}

impl Platform {
    /// Creates a folder, url item, or (bytes to follow) file or app item.
    pub async fn create_content(&self, who: &Principal, draft: ContentDraft) -> Result<ContentRecord, CoreError> {
        let tenant = writer(who)?;
        let item = self.new_content(tenant, draft).await?;
        let created = self.store.create_content(tenant, item).await?;
        self.changed(tenant.name(), RegistryKind::Content, &created.uuid, Change::Created)
            .await;
        Ok(created)
    }

    /// Creates a file or app item with its bytes, in one call: the bytes
    /// are stored first, so the item exists only with them.
    pub async fn upload_content(
        &self,
        who: &Principal,
        draft: ContentDraft,
        upload: Upload,
    ) -> Result<ContentRecord, CoreError> {
        let tenant = writer(who)?;
        if !draft.subtype.has_bytes() {
            return Err(CoreError::Invalid(format!(
                "a {} item has no bytes to upload",
                draft.subtype.as_str()
            )));
        }
        let item = self.new_content(tenant, draft).await?;
        let data = self.store_upload(tenant, upload).await?;
        let uuid = item.uuid.clone();
        let stored = async {
            self.store.create_content(tenant, item).await?;
            self.store.set_content_data(tenant, &uuid, None, data.clone()).await
        }
        .await;
        match stored {
            Ok((record, _)) => {
                self.changed(tenant.name(), RegistryKind::Content, &uuid, Change::Created)
                    .await;
                Ok(record)
            }
            Err(e) => {
                // The item may exist without bytes: take it away too.
                let _ = self.store.delete_content(tenant, &uuid).await;
                self.drop_blob(tenant, &data.blob).await;
                Err(e.into())
            }
        }
    }

    /// Sets the bytes of a file or app item (`variant` `None`) or of its
    /// named variant; the bytes they replace are deleted.
    pub async fn put_content_data(
        &self,
        who: &Principal,
        uuid: &str,
        variant: Option<&str>,
        upload: Upload,
    ) -> Result<ContentRecord, CoreError> {
        let tenant = writer(who)?;
        check_uuid(uuid, "content")?;
        if let Some(name) = variant {
            check_name(name, "variant name", MAX_VARIANT_NAME)?;
        }
        let item = self
            .store
            .content(tenant, uuid)
            .await?
            .ok_or_else(|| not_found(format!("content {uuid}")))?;
        if !item.subtype.has_bytes() {
            return Err(CoreError::Invalid(format!(
                "a {} item has no bytes to upload",
                item.subtype.as_str()
            )));
        }
        if let Some(name) = variant
            && item.variants.len() >= MAX_VARIANTS
            && !item.variants.iter().any(|v| v.name == name)
        {
            return Err(CoreError::Invalid(format!(
                "an item keeps at most {MAX_VARIANTS} variants"
            )));
        }
        let data = self.store_upload(tenant, upload).await?;
        match self.store.set_content_data(tenant, uuid, variant, data.clone()).await {
            Ok((record, replaced)) => {
                if let Some(old) = replaced {
                    self.drop_blob(tenant, &old).await;
                }
                self.changed(tenant.name(), RegistryKind::Content, uuid, Change::Updated)
                    .await;
                Ok(record)
            }
            Err(e) => {
                self.drop_blob(tenant, &data.blob).await;
                Err(e.into())
            }
        }
    }

    /// Reads an item.
    pub async fn content(&self, who: &Principal, uuid: &str) -> Result<ContentRecord, CoreError> {
        let tenant = reader(who)?;
        check_uuid(uuid, "content")?;
        self.store
            .content(tenant, uuid)
            .await?
            .ok_or_else(|| not_found(format!("content {uuid}")))
    }

    /// Finds items (`limit` 0: the default; above the maximum: the maximum).
    pub async fn find_content(&self, who: &Principal, mut query: ContentQuery) -> Result<ContentPage, CoreError> {
        let tenant = reader(who)?;
        query.limit = match query.limit {
            0 => DEFAULT_FIND_LIMIT,
            n => n.min(MAX_FIND_LIMIT),
        };
        Ok(self.store.find_content(tenant, &query).await?)
    }

    /// Deletes an item, and for a folder everything under it, with their bytes.
    pub async fn delete_content(&self, who: &Principal, uuid: &str) -> Result<(), CoreError> {
        let tenant = writer(who)?;
        check_uuid(uuid, "content")?;
        let deleted = self.store.delete_content(tenant, uuid).await?;
        for record in &deleted {
            for blob in record.blobs() {
                self.drop_blob(tenant, blob).await;
            }
            self.changed(tenant.name(), RegistryKind::Content, &record.uuid, Change::Deleted)
                .await;
        }
        Ok(())
    }

    /// The bytes of the item at `path` (or of its `variant`; an empty name
    /// is the item's own bytes), for any principal of its organization.
    pub async fn deliver_content(
        &self,
        who: &Principal,
        path: &str,
        variant: Option<&str>,
    ) -> Result<Download, CoreError> {
        let tenant = who.tenant()?;
        if path.len() > MAX_PATH {
            return Err(not_found(format!("content {path}")));
        }
        let item = self
            .store
            .content_by_path(tenant, path)
            .await?
            .ok_or_else(|| not_found(format!("content {path}")))?;
        let data = item
            .data_of(variant)
            .ok_or_else(|| match variant.filter(|v| !v.is_empty()) {
                Some(v) => not_found(format!("variant {v} of {path}")),
                None => not_found(format!("the bytes of {path}")),
            })?;
        self.open_blob(tenant, data).await
    }

    /// Stores the layout image of a location (users only).
    pub async fn put_layout(&self, who: &Principal, location: &str, upload: Upload) -> Result<ContentData, CoreError> {
        let tenant = writer(who)?;
        check_uuid(location, "location")?;
        if !self.location_exists(tenant, location).await? {
            return Err(not_found(format!("location {location}")));
        }
        let data = self.store_upload(tenant, upload).await?;
        match self.store.set_layout(tenant, location, data.clone()).await {
            Ok(replaced) => {
                if let Some(old) = replaced {
                    self.drop_blob(tenant, &old).await;
                }
                self.changed(tenant.name(), RegistryKind::Location, location, Change::Updated)
                    .await;
                Ok(data)
            }
            Err(e) => {
                self.drop_blob(tenant, &data.blob).await;
                Err(e.into())
            }
        }
    }

    /// The layout image of a location, for any principal of its organization.
    pub async fn layout(&self, who: &Principal, location: &str) -> Result<Download, CoreError> {
        let tenant = who.tenant()?;
        check_uuid(location, "location")?;
        let data = self
            .store
            .layout(tenant, location)
            .await?
            .ok_or_else(|| not_found(format!("layout of location {location}")))?;
        self.open_blob(tenant, &data).await
    }

    /// Whether location `uuid` exists in the tenant.
    async fn location_exists(&self, tenant: &Tenant, uuid: &str) -> Result<bool, CoreError> {
        Ok(self
            .store
            .document(tenant, crate::documents::Collection::Locations, uuid)
            .await?
            .is_some())
    }

    /// The stored form of a draft: checked, with a fresh uuid and its path.
    async fn new_content(&self, tenant: &Tenant, draft: ContentDraft) -> Result<NewContent, CoreError> {
        check_name(&draft.name, "content name", MAX_NAME)?;
        match (draft.subtype, &draft.url) {
            (Subtype::Url, None) => return Err(CoreError::Invalid("a url item needs a url".into())),
            (Subtype::Url, Some(url)) if url.is_empty() || url.len() > MAX_URL => {
                return Err(CoreError::Invalid(format!("a url is 1 to {MAX_URL} bytes")));
            }
            (Subtype::Url, Some(_)) => {}
            (_, Some(_)) => {
                return Err(CoreError::Invalid(format!(
                    "only url items (subtype {}) have a url",
                    Subtype::Url.as_str()
                )));
            }
            (_, None) => {}
        }
        let fields_len = serde_json::to_string(&draft.fields).map_or(usize::MAX, |s| s.len());
        if fields_len > MAX_FIELDS_BYTES {
            return Err(CoreError::Invalid(format!(
                "the free-form fields of a content item are at most {MAX_FIELDS_BYTES} bytes of JSON"
            )));
        }
        let path = match &draft.parent {
            None => format!("/{}", draft.name),
            Some(parent) => {
                check_uuid(parent, "folder")?;
                let folder = self
                    .store
                    .content(tenant, parent)
                    .await?
                    .ok_or_else(|| not_found(format!("folder {parent}")))?;
                if folder.subtype != Subtype::Folder {
                    return Err(CoreError::Invalid(format!("{} is not a folder", folder.path)));
                }
                if folder.path.matches('/').count() >= MAX_DEPTH {
                    return Err(CoreError::Invalid(format!("folders nest at most {MAX_DEPTH} deep")));
                }
                format!("{}/{}", folder.path, draft.name)
            }
        };
        if path.len() > MAX_PATH {
            return Err(CoreError::Invalid(format!(
                "a content path is at most {MAX_PATH} bytes"
            )));
        }
        Ok(NewContent {
            uuid: uuid::Uuid::new_v4().to_string(),
            name: draft.name,
            subtype: draft.subtype,
            parent: draft.parent,
            path,
            url: draft.url,
            fields: draft.fields,
        })
    }

    /// Streams an upload into a new blob.
    async fn store_upload(&self, tenant: &Tenant, upload: Upload) -> Result<ContentData, CoreError> {
        check_mime_type(&upload.mime_type)?;
        let blob = uuid::Uuid::new_v4().to_string();
        let size = self
            .store
            .put_blob(tenant, &blob, upload.chunks, upload.max_bytes)
            .await?;
        Ok(ContentData {
            blob,
            size: size as i64,
            mime_type: upload.mime_type,
        })
    }

    async fn open_blob(&self, tenant: &Tenant, data: &ContentData) -> Result<Download, CoreError> {
        let reader = self
            .store
            .read_blob(tenant, &data.blob)
            .await?
            .ok_or_else(|| CoreError::Internal(format!("blob {} of a record is missing", data.blob)))?;
        Ok(Download {
            mime_type: data.mime_type.clone(),
            reader,
        })
    }

    /// Deletes a blob no record names any more; a failure leaves an
    /// orphan, logged (it holds no one's data).
    async fn drop_blob(&self, tenant: &Tenant, blob: &str) {
        if let Err(e) = self.store.delete_blob(tenant, blob).await {
            tracing::warn!(blob, error = %e, "could not delete an unused blob");
        }
    }
}
