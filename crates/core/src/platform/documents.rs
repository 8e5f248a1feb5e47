//! Application-platform resources (WIRE.md B.3): create, get, find, save
//! and delete documents, and data items, with the rules of who may do what
//! (see [`Access`]) and a bus event after every committed change.

use serde_json::{Map, Value};

use super::Platform;
use super::credentials::display_name;
use crate::bus::{Change, RegistryKind};
use crate::documents::{Collection, DataItem, DataQuery, DocumentQuery, NewDocument, check_data_name};
use crate::identity::{Actor, Principal};
use crate::ids::Tenant;
use crate::store::{NewDevice, StoreError};
use crate::{CoreError, secrets};

/// How many times device-key generation retries on a (rare) collision.
const KEY_ATTEMPTS: usize = 8;

/// A page of documents and how many match in all.
#[derive(Debug, Clone)]
pub struct Found<T> {
    /// The page.
    pub results: Vec<T>,
    /// Matches in all.
    pub total: u64,
}

/// What a caller wants to do; [`Platform`] decides whether it may.
///
/// Users do everything within their organization. Devices and consumer
/// apps read every resource and read and write data items; a device may
/// also save its own device document. Restricted tokens, pairing
/// identities and OAuth2 clients may do nothing here.
#[derive(Debug, Clone, Copy)]
enum Access<'a> {
    Read,
    Write,
    Save(Collection, &'a str),
    Data,
}

fn allowed<'p>(p: &'p Principal, access: Access<'_>) -> Result<&'p Tenant, CoreError> {
    let tenant = p.tenant()?;
    if p.is_restricted() {
        return Err(CoreError::Forbidden(
            "a restricted token only fetches layouts and content".into(),
        ));
    }
    let ok = match (p.actor(), access) {
        (Actor::User { .. }, _) => true,
        (Actor::Device { .. } | Actor::ConsumerApp { .. }, Access::Read | Access::Data) => true,
        (Actor::Device { uuid }, Access::Save(Collection::Devices, target)) => uuid == target,
        _ => false,
    };
    if ok {
        Ok(tenant)
    } else {
        Err(CoreError::Forbidden(format!(
            "a {} may not do this (creating, changing and deleting resources is for users)",
            p.actor().kind()
        )))
    }
}

/// A device just created through the API: its document, and once (as the
/// admin CLI prints them) its `secret` and `devicekey`.
fn with_credentials(doc: Value, secret: &str, devicekey: &str) -> Value {
    let mut doc = doc;
    if let Some(o) = doc.as_object_mut() {
        o.insert("secret".into(), Value::String(secret.to_owned()));
        o.insert("devicekey".into(), Value::String(devicekey.to_owned()));
    }
    doc
}

fn parse(body: &str) -> Result<Value, CoreError> {
    serde_json::from_str(body).map_err(|e| CoreError::Internal(format!("a stored document does not parse: {e}")))
}

fn object(doc: Option<Value>) -> Result<Map<String, Value>, CoreError> {
    match doc {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(CoreError::Invalid("a document must be a JSON object".into())),
    }
}

impl Platform {
    /// Creates a document (`None`: an empty one) with a fresh uuid. A device
    /// is created with the registry device in one transaction, and its
    /// answer carries `secret` and `devicekey`, the only time they are shown.
    pub async fn create_document(
        &self,
        p: &Principal,
        collection: Collection,
        doc: Option<Value>,
    ) -> Result<Value, CoreError> {
        let tenant = allowed(p, Access::Write)?;
        let mut doc = object(doc)?;
        for field in ["secret", "devicekey"] {
            doc.remove(field);
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        let out = if collection == Collection::Devices {
            let name = match doc.get("name") {
                None | Some(Value::Null) => display_name(None, "device", &uuid)?,
                Some(Value::String(n)) => display_name(Some(n), "device", &uuid)?,
                Some(_) => return Err(CoreError::Invalid("a device's name must be a string".into())),
            };
            doc.insert("name".into(), Value::String(name.clone()));
            let new = NewDocument::new(collection, &uuid, doc)?;
            let stored = parse(&new.body)?;
            let secret = secrets::random_hex(32);
            let mut created = None;
            for _ in 0..KEY_ATTEMPTS {
                let devicekey = secrets::random_lower_alnum(8);
                let device = NewDevice {
                    uuid: uuid.clone(),
                    name: name.clone(),
                    secret: secret.clone(),
                    devicekey: devicekey.clone(),
                };
                match self.store.create_device_document(tenant, device, new.clone()).await {
                    Ok(_) => {
                        created = Some(devicekey);
                        break;
                    }
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            let devicekey = created.ok_or_else(|| CoreError::Conflict("device key (collisions; try again)".into()))?;
            with_credentials(stored, &secret, &devicekey)
        } else {
            let new = NewDocument::new(collection, &uuid, doc)?;
            let stored = parse(&new.body)?;
            self.store.create_document(tenant, new).await?;
            stored
        };
        self.changed(tenant.name(), collection.kind(), &uuid, Change::Created)
            .await;
        Ok(out)
    }

    /// Reads a document; `NotFound` when there is none in the caller's organization.
    pub async fn document(&self, p: &Principal, collection: Collection, uuid: &str) -> Result<Value, CoreError> {
        let tenant = allowed(p, Access::Read)?;
        self.read_document(tenant, collection, uuid).await
    }

    pub(crate) async fn read_document(
        &self,
        tenant: &Tenant,
        collection: Collection,
        uuid: &str,
    ) -> Result<Value, CoreError> {
        let body = self
            .store
            .document(tenant, collection, uuid)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("{} {uuid}", collection.noun())))?;
        parse(&body)
    }

    /// One page of the documents matching `query`, with the total.
    pub async fn find_documents(
        &self,
        p: &Principal,
        collection: Collection,
        query: &DocumentQuery,
    ) -> Result<Found<Value>, CoreError> {
        let tenant = allowed(p, Access::Read)?;
        let (bodies, total) = self.store.find_documents(tenant, collection, query).await?;
        let results = bodies.iter().map(|b| parse(b)).collect::<Result<_, _>>()?;
        Ok(Found { results, total })
    }

    /// Replaces a document with `doc` (the whole document); its `uuid`
    /// stays, whatever `doc` says. Returns the stored document.
    pub async fn save_document(
        &self,
        p: &Principal,
        collection: Collection,
        uuid: &str,
        doc: Value,
    ) -> Result<Value, CoreError> {
        let tenant = allowed(p, Access::Save(collection, uuid))?;
        let mut doc = object(Some(doc))?;
        for field in ["secret", "devicekey"] {
            doc.remove(field);
        }
        if collection == Collection::Devices {
            match doc.get("name") {
                Some(Value::String(n)) => {
                    display_name(Some(n), "device", uuid)?;
                }
                None | Some(Value::Null) => {
                    // A device keeps its registry name when the document drops it.
                    let old = self.read_document(tenant, collection, uuid).await?;
                    if let Some(name) = old.get("name").cloned() {
                        doc.insert("name".into(), name);
                    }
                }
                Some(_) => return Err(CoreError::Invalid("a device's name must be a string".into())),
            }
        }
        let new = NewDocument::new(collection, uuid, doc)?;
        let stored = parse(&new.body)?;
        self.store.update_document(tenant, new).await?;
        self.changed(tenant.name(), collection.kind(), uuid, Change::Updated)
            .await;
        Ok(stored)
    }

    /// Deletes a document; a device document with its registry device.
    pub async fn delete_document(&self, p: &Principal, collection: Collection, uuid: &str) -> Result<(), CoreError> {
        let tenant = allowed(p, Access::Write)?;
        self.store.delete_document(tenant, collection, uuid).await?;
        self.changed(tenant.name(), collection.kind(), uuid, Change::Deleted)
            .await;
        Ok(())
    }

    /// Creates or replaces a data item; its value must be a JSON object.
    pub async fn put_data(&self, p: &Principal, group: &str, key: &str, value: &Value) -> Result<Value, CoreError> {
        let tenant = allowed(p, Access::Data)?;
        let item = DataItem::new(group, key, value)?;
        let out = item.to_json();
        let created = self.store.put_data(tenant, item).await?;
        let change = if created { Change::Created } else { Change::Updated };
        self.changed(tenant.name(), RegistryKind::Data, &format!("{group}:{key}"), change)
            .await;
        Ok(out)
    }

    /// Reads a data item as `{"group", "key", "value"}`.
    pub async fn data_item(&self, p: &Principal, group: &str, key: &str) -> Result<Value, CoreError> {
        let tenant = allowed(p, Access::Data)?;
        check_data_name("group", group)?;
        check_data_name("key", key)?;
        self.store
            .data_item(tenant, group, key)
            .await?
            .map(|i| i.to_json())
            .ok_or_else(|| CoreError::NotFound(format!("data item {group}:{key}")))
    }

    /// Deletes a data item.
    pub async fn delete_data(&self, p: &Principal, group: &str, key: &str) -> Result<(), CoreError> {
        let tenant = allowed(p, Access::Data)?;
        check_data_name("group", group)?;
        check_data_name("key", key)?;
        self.store.delete_data(tenant, group, key).await?;
        self.changed(tenant.name(), RegistryKind::Data, &format!("{group}:{key}"), Change::Deleted)
            .await;
        Ok(())
    }

    /// One page of data items (by group, then key), with the total.
    pub async fn find_data(&self, p: &Principal, query: &DataQuery) -> Result<Found<Value>, CoreError> {
        let tenant = allowed(p, Access::Data)?;
        let (items, total) = self.store.find_data(tenant, query).await?;
        Ok(Found {
            results: items.iter().map(DataItem::to_json).collect(),
            total,
        })
    }
}
