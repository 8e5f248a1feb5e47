//! Property values of things (WIRE.md A.3): current values (`status`),
//! writes validated against the TD's data schemas and appended to the
//! history in the same transaction, and the history itself. The write path
//! is described in [`crate::things`].

use serde_json::{Map, Value};

use std::sync::Arc;

use super::Platform;
use super::thing_td_cache::{CachedTd, Declared};
use super::things::{ATTEMPTS, thing_not_found};
use crate::bus::{Change, RegistryKind};
use crate::documents::Collection;
use crate::ids::Tenant;
use crate::store::{PropertyWrite, StoreError, THING_CHANGED};
use crate::things::history::{self, MAX_CALL_BYTES, MAX_VALUE_BYTES, MAX_VALUES};
use crate::things::schema::validate_value;
use crate::things::{HistoryDelete, HistoryPage, HistoryPoint, HistoryQuery, HistoryRow, HistorySpec};
use crate::{CoreError, now_ms};

/// What a write naming a property its thing does not declare is: `Invalid`
/// when the name comes from a body (`PUT .../properties`), `NotFound` when
/// it is the path's own resource (`PUT .../properties/{p}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undeclared {
    Invalid,
    NotFound,
}

/// Checks that the thing declares `name` and that `value` fits its schema.
fn check_value(uid: &str, declared: &Declared, name: &str, value: &Value) -> Result<(), CoreError> {
    check_declared(uid, declared, name, value, Undeclared::Invalid)
}

fn check_declared(
    uid: &str,
    declared: &Declared,
    name: &str,
    value: &Value,
    undeclared: Undeclared,
) -> Result<(), CoreError> {
    let Some(schema) = declared.properties.as_ref().and_then(|p| p.get(name)) else {
        return Err(match undeclared {
            Undeclared::NotFound => no_property(uid, name),
            Undeclared::Invalid => CoreError::Invalid(format!(
                "thing {uid} has no property {name:?} (declare it in the thing's properties first)"
            )),
        });
    };
    validate_value(schema, value, &format!("property {name}"))
}

/// Checks the size of one value (its JSON text) and of all of a call.
fn check_size(name: &str, text: &str, total: &mut usize) -> Result<(), CoreError> {
    if text.len() > MAX_VALUE_BYTES {
        return Err(CoreError::Invalid(format!(
            "property {name}: a value is at most {MAX_VALUE_BYTES} bytes of JSON"
        )));
    }
    *total += text.len();
    if *total > MAX_CALL_BYTES {
        return Err(CoreError::Invalid(format!(
            "at most {MAX_CALL_BYTES} bytes of values per request"
        )));
    }
    Ok(())
}

/// The store writes of `values`, each checked against the TD and in size.
fn checked_writes(
    uid: &str,
    declared: &Declared,
    values: &Map<String, Value>,
    undeclared: Undeclared,
) -> Result<Vec<PropertyWrite>, CoreError> {
    let mut writes = Vec::with_capacity(values.len());
    let mut total = 0;
    for (name, value) in values {
        check_declared(uid, declared, name, value, undeclared)?;
        let write = PropertyWrite::new(name, value);
        check_size(name, &write.value, &mut total)?;
        writes.push(write);
    }
    Ok(writes)
}

fn no_property(uid: &str, name: &str) -> CoreError {
    CoreError::NotFound(format!("property {name} of thing {uid}"))
}

fn declares(declared: &Declared, name: &str) -> bool {
    declared.properties.as_ref().is_some_and(|p| p.contains_key(name))
}

impl Platform {
    /// `Ok` when thing `uid` declares property `name`; `NotFound` when it
    /// does not (or the thing does not exist). The TD comes from the cache
    /// when it declares the property there, else from the store.
    async fn check_property_path(&self, tenant: &Tenant, uid: &str, name: &str) -> Result<(), CoreError> {
        crate::things::model::check_affordance_name(name)?;
        if self
            .td_cache
            .get(tenant.id(), uid)
            .is_some_and(|td| declares(&td.declared, name))
        {
            return Ok(());
        }
        let thing = self.stored_thing(tenant, uid).await?;
        match declares(&Declared::parse(uid, &thing.body)?, name) {
            true => Ok(()),
            false => Err(no_property(uid, name)),
        }
    }

    /// The current values of a thing's properties (`{name: value}`; a
    /// property never written is absent).
    pub async fn properties(&self, tenant: &Tenant, uid: &str) -> Result<Map<String, Value>, CoreError> {
        Ok(self.thing(tenant, uid).await?.status)
    }

    /// The current value of one property (`null` when declared but never
    /// written); `NotFound` when the thing does not declare it.
    pub async fn property(&self, tenant: &Tenant, uid: &str, name: &str) -> Result<Value, CoreError> {
        let thing = self.thing(tenant, uid).await?;
        if !thing.has_property(name) {
            return Err(no_property(uid, name));
        }
        Ok(thing.status.get(name).cloned().unwrap_or(Value::Null))
    }

    /// Writes current values (`values`: `{name: value}`, at least one) of a
    /// thing, each validated against its property's data schema; a property
    /// the thing does not declare is `Invalid`, and then nothing is written.
    /// With `update_history` the values are appended to the history at this
    /// instant in the same transaction. Returns once committed, with the
    /// values written; a thing `updated` event follows on the bus.
    pub async fn update_properties(
        &self,
        tenant: &Tenant,
        uid: &str,
        values: &Value,
        update_history: bool,
    ) -> Result<Map<String, Value>, CoreError> {
        let Value::Object(values) = values else {
            return Err(CoreError::Invalid(
                "property values are a JSON object {name: value}".into(),
            ));
        };
        if values.is_empty() || values.len() > MAX_VALUES {
            return Err(CoreError::Invalid(format!("1 to {MAX_VALUES} property values")));
        }
        self.write_values(tenant, uid, values, update_history, Undeclared::Invalid)
            .await?;
        Ok(values.clone())
    }

    /// Writes one property (`PUT .../properties/{p}`); see
    /// [`Platform::update_properties`]. Returns the value written.
    /// `NotFound` when the thing does not exist or does not declare `name`
    /// (the path names a resource that is not there).
    pub async fn update_property(
        &self,
        tenant: &Tenant,
        uid: &str,
        name: &str,
        value: &Value,
        update_history: bool,
    ) -> Result<Value, CoreError> {
        let mut one = Map::new();
        one.insert(name.to_owned(), value.clone());
        self.write_values(tenant, uid, &one, update_history, Undeclared::NotFound)
            .await?;
        Ok(value.clone())
    }

    /// The write of [`Platform::update_properties`]: validated against the
    /// (cached) TD, committed, then announced on the bus.
    async fn write_values(
        &self,
        tenant: &Tenant,
        uid: &str,
        values: &Map<String, Value>,
        update_history: bool,
        undeclared: Undeclared,
    ) -> Result<(), CoreError> {
        let mut attempt = 0;
        // The TD comes from the cache unless it just proved stale.
        let mut use_cache = true;
        loop {
            attempt += 1;
            let cached = if use_cache {
                self.td_cache.get(tenant.id(), uid)
            } else {
                None
            };
            let from_cache = cached.is_some();
            let td = match cached {
                Some(td) => td,
                None => {
                    // Only the document: its current values are not needed here.
                    let body = self
                        .store
                        .document(tenant, Collection::Things, uid)
                        .await?
                        .ok_or_else(|| thing_not_found(uid))?;
                    let declared = Declared::parse(uid, &body)?;
                    let td = Arc::new(CachedTd { body, declared });
                    self.td_cache.put(tenant.id(), uid, td.clone());
                    td
                }
            };
            let writes = match checked_writes(uid, &td.declared, values, undeclared) {
                Ok(writes) => writes,
                // A TD changed elsewhere may allow it now: refuse only on a fresh read.
                Err(_) if from_cache => {
                    self.td_cache.forget(tenant.id(), uid);
                    use_cache = false;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self
                .store
                .write_properties(tenant, uid, td.body.clone(), writes, now_ms(), update_history)
                .await
            {
                Ok(()) => break,
                Err(StoreError::Conflict(m)) if m == THING_CHANGED => {
                    self.td_cache.forget(tenant.id(), uid);
                    use_cache = false;
                    if attempt >= ATTEMPTS {
                        return Err(StoreError::Unavailable(format!("thing {uid} keeps changing; try again")).into());
                    }
                }
                Err(e) => {
                    self.td_cache.forget(tenant.id(), uid);
                    return Err(e.into());
                }
            }
        }
        self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Updated)
            .await;
        Ok(())
    }

    /// Adds explicit history points (`body`: one `{at, properties}` or a
    /// list), validated like writes; with `property`, points may hold only
    /// that property. `Conflict` when a property already has a value at one
    /// of those instants (then nothing is added). Current values are not
    /// changed. Returns the points added.
    pub async fn add_property_history(
        &self,
        tenant: &Tenant,
        uid: &str,
        property: Option<&str>,
        body: &Value,
    ) -> Result<Vec<HistoryPoint>, CoreError> {
        let points = HistoryPoint::parse_many(body)?;
        let thing = self.stored_thing(tenant, uid).await?;
        let declared = Declared::parse(uid, &thing.body)?;
        let mut rows = Vec::new();
        let mut total = 0;
        for p in &points {
            for (name, value) in &p.properties {
                if property.is_some_and(|only| only != name) {
                    return Err(CoreError::Invalid(format!(
                        "this history is of property {}; {name} does not belong here",
                        property.unwrap_or_default()
                    )));
                }
                check_value(uid, &declared, name, value)?;
                let text = value.to_string();
                check_size(name, &text, &mut total)?;
                rows.push(HistoryRow {
                    at: p.at,
                    name: name.clone(),
                    value: text,
                });
            }
        }
        if rows.len() > MAX_VALUES {
            return Err(CoreError::Invalid(format!("at most {MAX_VALUES} values per request")));
        }
        self.store.add_history(tenant, uid, rows).await?;
        self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Updated)
            .await;
        Ok(points)
    }

    /// A page of a thing's history (of one property with `property`:
    /// `NotFound` when the thing does not declare it), oldest first; with
    /// `group`, values of one instant form one item and a page holds
    /// `limit` instants.
    pub async fn property_history(
        &self,
        tenant: &Tenant,
        uid: &str,
        property: Option<&str>,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, CoreError> {
        if let Some(p) = property {
            self.check_property_path(tenant, uid, p).await?;
        }
        let spec = HistorySpec {
            range: query.range,
            property: property.map(str::to_owned),
            limit: query.limit,
            group: query.group,
            after: query.after.clone(),
            direction: query.direction,
        };
        let (rows, more) = self.store.history(tenant, uid, &spec).await.map_err(|e| match e {
            StoreError::NotFound(_) => thing_not_found(uid),
            e => e.into(),
        })?;
        history::page(rows, more, query)
    }

    /// Deletes history values of a thing (`at` range, properties; with
    /// `property` only that one's: `NotFound` when the thing does not
    /// declare it). Returns how many went.
    pub async fn delete_property_history(
        &self,
        tenant: &Tenant,
        uid: &str,
        property: Option<&str>,
        what: &HistoryDelete,
    ) -> Result<u64, CoreError> {
        let mut what = what.clone();
        if let Some(p) = property {
            self.check_property_path(tenant, uid, p).await?;
            what.properties = vec![p.to_owned()];
        }
        let n = self.store.delete_history(tenant, uid, &what).await?;
        if n > 0 {
            self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Updated)
                .await;
        }
        Ok(n)
    }

    /// Deletes the space's history values older than `before_ms` (epoch
    /// ms), in bounded batches; returns how many (the retention task).
    pub async fn prune_property_history(&self, tenant: &Tenant, before_ms: i64) -> Result<u64, CoreError> {
        Ok(self.store.prune_property_history(tenant, before_ms).await?)
    }
}
