//! Things of the things API (WIRE.md A.3): create, read, replace, JSON
//! Patch (one thing or many), delete (one, or by filter), list. A thing is
//! the `/api/things` document (see [`crate::things`]); every committed
//! change is announced as a thing registry change on the bus, which the
//! realtime face shows as `update` on the thing's system channel.

use serde_json::{Map, Value};

use super::Platform;
use crate::CoreError;
use crate::bus::{Change, RegistryKind};
use crate::ids::Tenant;
use crate::store::{NewThing, StoreError, THING_CHANGED};
use crate::things::cursor;
use crate::things::model::{check_uid, thing_document, thing_new_document};
use crate::things::{StoredThing, Thing, ThingFilter, ThingQuery};

/// How many times a write tries when the thing keeps changing under it
/// (optimistic: a TD change between the read and the commit; then the
/// caller gets `Unavailable`).
pub(super) const ATTEMPTS: usize = 8;
/// Most things one delete by filter removes (the caller repeats for more).
pub const MAX_DELETE: u32 = 10_000;
/// Most items of one multi-thing patch.
pub const MAX_PATCH_ITEMS: usize = 1000;

/// A page of things, in the query's order, with the cursors around it.
pub type ThingPage = crate::paging::CursorPage<Thing>;

pub(super) fn thing_not_found(uid: &str) -> CoreError {
    CoreError::NotFound(format!("thing {uid}"))
}

fn new_thing(uid: &str, doc: Map<String, Value>, categories: Vec<String>) -> Result<NewThing, CoreError> {
    let properties = doc
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    Ok(NewThing {
        doc: thing_new_document(uid, doc)?,
        categories,
        properties,
    })
}

fn changed_under_us(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(m) if m == THING_CHANGED)
}

/// Why a JSON Patch did not apply, with the RFC 6902 rule a client most
/// often trips on: `replace` and `remove` need the member to exist.
fn patch_failed(ops: &json_patch::Patch, e: &json_patch::PatchError) -> CoreError {
    let hint = match (&e.kind, ops.0.get(e.operation)) {
        (
            json_patch::PatchErrorKind::InvalidPointer,
            Some(json_patch::PatchOperation::Replace(_) | json_patch::PatchOperation::Remove(_)),
        ) => " (replace and remove need an existing member; add makes one)",
        _ => "",
    };
    CoreError::Invalid(format!("JSON Patch failed: {e}{hint}"))
}

impl Platform {
    /// Creates a thing from a TD (WIRE.md A.3 ThingCreate). Its uid is the
    /// body's `uid` when it gives one (1 to 64 of `[A-Za-z0-9_-]`;
    /// `Conflict` when taken), else a new uuid. `client_id` (the OAuth2
    /// client creating it) is kept with it. `NotFound` when one of its
    /// `categories` does not exist; `Invalid` for a TD that is not valid.
    pub async fn create_thing(
        &self,
        tenant: &Tenant,
        body: &Value,
        client_id: Option<&str>,
    ) -> Result<Thing, CoreError> {
        let uid = match body.get("uid") {
            Some(Value::String(u)) => {
                check_uid(u)?;
                u.clone()
            }
            None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
            Some(_) => return Err(CoreError::Invalid("uid must be a string".into())),
        };
        let (mut doc, categories) = thing_document(body, None)?;
        if let Some(c) = client_id {
            doc.insert("client_id".into(), Value::String(c.to_owned()));
        }
        let stored = self
            .store
            .create_thing(tenant, new_thing(&uid, doc, categories)?)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => CoreError::Conflict(format!("thing {uid}")),
                e => e.into(),
            })?;
        self.changed(tenant.name(), RegistryKind::Thing, &uid, Change::Created)
            .await;
        Thing::from_stored(stored)
    }

    /// Creates a thing in category `category` (`POST
    /// /categories/{c}/things`): as [`Platform::create_thing`], with the
    /// category added to the TD's `categories`; `NotFound` when it does not exist.
    pub async fn create_thing_in_category(
        &self,
        tenant: &Tenant,
        category: &str,
        body: &Value,
        client_id: Option<&str>,
    ) -> Result<Thing, CoreError> {
        self.category(tenant, category).await?;
        let mut body = body.clone();
        let Some(td) = body.as_object_mut() else {
            return Err(CoreError::Invalid("a thing is a JSON object".into()));
        };
        let mut names = match td.remove("categories") {
            Some(Value::Array(a)) => a,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(CoreError::Invalid(
                    "categories must be an array of category names".into(),
                ));
            }
        };
        if !names.iter().any(|n| n.as_str() == Some(category)) {
            names.push(Value::String(category.to_owned()));
        }
        td.insert("categories".into(), Value::Array(names));
        self.create_thing(tenant, &body, client_id).await
    }

    pub(super) async fn stored_thing(&self, tenant: &Tenant, uid: &str) -> Result<StoredThing, CoreError> {
        if uid.is_empty() || uid.len() > crate::documents::MAX_PATH {
            return Err(thing_not_found(uid));
        }
        self.store.thing(tenant, uid).await?.ok_or_else(|| thing_not_found(uid))
    }

    /// Reads a thing with its current property values.
    pub async fn thing(&self, tenant: &Tenant, uid: &str) -> Result<Thing, CoreError> {
        Thing::from_stored(self.stored_thing(tenant, uid).await?)
    }

    /// Reads a thing of category `category` (the `/categories/{c}/things/{t}`
    /// paths): `NotFound` when the thing is not in it.
    pub async fn thing_in_category(&self, tenant: &Tenant, category: &str, uid: &str) -> Result<Thing, CoreError> {
        let thing = self.thing(tenant, uid).await?;
        if thing.categories().iter().any(|c| c == category) {
            Ok(thing)
        } else {
            Err(CoreError::NotFound(format!("thing {uid} in category {category}")))
        }
    }

    /// Replaces a thing's TD with `body` (WIRE.md A.3 ThingUpdate, a full
    /// replacement; read-only members such as `uid` and `status` are
    /// ignored). Current values of properties it no longer declares go.
    pub async fn replace_thing(&self, tenant: &Tenant, uid: &str, body: &Value) -> Result<Thing, CoreError> {
        self.rewrite_thing(tenant, uid, |_| Ok(body.clone())).await
    }

    /// Applies a JSON Patch (RFC 6902, a JSON array of operations) to the
    /// thing as the things API shows it (without `id`), then stores the
    /// result as a full replacement. A patch that fails (a `test` that does
    /// not hold, a missing path) or that makes an invalid TD changes
    /// nothing (`Invalid`). Patching read-only members (`uid`, `status`,
    /// `created`, ...) has no effect.
    pub async fn patch_thing(&self, tenant: &Tenant, uid: &str, patch: &Value) -> Result<Thing, CoreError> {
        let ops: json_patch::Patch = serde_json::from_value(patch.clone())
            .map_err(|e| CoreError::Invalid(format!("not a JSON Patch (RFC 6902): {e}")))?;
        self.rewrite_thing(tenant, uid, |thing| {
            let mut view = thing.td_view();
            json_patch::patch(&mut view, &ops).map_err(|e| patch_failed(&ops, &e))?;
            Ok(view)
        })
        .await
    }

    /// Patches several things (WIRE.md A.3 multi-thing PATCH): `items` is
    /// `[{"id": uid, "patch": [ops]}]`. Each item is applied on its own
    /// (one failing leaves the others); the result has one entry per item,
    /// in order, so the face lists the indexes that failed (`has_errors`).
    pub async fn patch_things(
        &self,
        tenant: &Tenant,
        items: &Value,
    ) -> Result<Vec<Result<Thing, CoreError>>, CoreError> {
        let Value::Array(items) = items else {
            return Err(CoreError::Invalid(
                "a multi-thing patch is a JSON array of {id, patch}".into(),
            ));
        };
        if items.len() > MAX_PATCH_ITEMS {
            return Err(CoreError::Invalid(format!(
                "at most {MAX_PATCH_ITEMS} things per patch"
            )));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let result = match (item.get("id").and_then(Value::as_str), item.get("patch")) {
                (Some(uid), Some(ops)) => self.patch_thing(tenant, uid, ops).await,
                _ => Err(CoreError::Invalid(
                    "each item is {\"id\": uid, \"patch\": [ops]}".into(),
                )),
            };
            out.push(result);
        }
        Ok(out)
    }

    /// Reads the thing, makes its new TD with `make`, stores it if the
    /// thing did not change meanwhile (else starts again), publishes.
    async fn rewrite_thing<F>(&self, tenant: &Tenant, uid: &str, make: F) -> Result<Thing, CoreError>
    where
        F: Fn(&Thing) -> Result<Value, CoreError>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self.stored_thing(tenant, uid).await?;
            let expected = stored.body.clone();
            let thing = Thing::from_stored(stored)?;
            let input = make(&thing)?;
            let (doc, categories) = thing_document(&input, Some(&thing.body))?;
            match self
                .store
                .replace_thing(tenant, new_thing(uid, doc, categories)?, Some(expected))
                .await
            {
                Ok(stored) => {
                    self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Updated)
                        .await;
                    return Thing::from_stored(stored);
                }
                Err(e) if changed_under_us(&e) && attempt < ATTEMPTS => continue,
                Err(e) if changed_under_us(&e) => {
                    return Err(StoreError::Unavailable(format!("thing {uid} keeps changing; try again")).into());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Deletes a thing with its property values and history.
    pub async fn delete_thing(&self, tenant: &Tenant, uid: &str) -> Result<(), CoreError> {
        if uid.is_empty() || uid.len() > crate::documents::MAX_PATH {
            return Err(thing_not_found(uid));
        }
        self.store.delete_thing(tenant, uid).await?;
        self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Deleted)
            .await;
        Ok(())
    }

    /// One page of things (filters, order and cursor of `query`).
    pub async fn list_things(&self, tenant: &Tenant, query: &ThingQuery) -> Result<ThingPage, CoreError> {
        let (rows, more) = self.store.find_things(tenant, query).await?;
        let rows = rows
            .into_iter()
            .map(|(stored, keys)| Ok((Thing::from_stored(stored)?, keys)))
            .collect::<Result<Vec<_>, CoreError>>()?;
        Ok(ThingPage::from_keyed(rows, more, query.direction, cursor::THINGS))
    }

    /// Deletes the things `filter` selects (at most [`MAX_DELETE`], oldest
    /// first) and returns their uids. A filter without any member besides
    /// [`ThingFilter::within`] is refused (`Invalid`), under a category too:
    /// a bare `DELETE` never deletes everything.
    pub async fn delete_things(&self, tenant: &Tenant, filter: &ThingFilter) -> Result<Vec<String>, CoreError> {
        let given = ThingFilter {
            within: None,
            ..filter.clone()
        };
        if given.is_empty() {
            return Err(CoreError::Invalid(
                "deleting things needs at least one filter (a delete without one would delete every thing)".into(),
            ));
        }
        let uids = self.store.delete_things(tenant, filter, MAX_DELETE).await?;
        for uid in &uids {
            self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Deleted)
                .await;
        }
        Ok(uids)
    }
}
