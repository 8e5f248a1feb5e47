//! `.../things/{t}/properties[/{p}]` (WIRE.md A.3), also under
//! `/categories/{c}/things/{t}`: the current property values.
//!
//! * `GET .../properties`: 200 `{prop: value}` (a property never written is absent);
//! * `GET .../properties/{p}`: 200 `{p: value}` (`null` when never written);
//! * `PUT .../properties` with `{prop: value, ...}`: 200 with the values written;
//! * `PUT .../properties/{p}` with `{"p": value}`: 200 `{p: value}`.
//!
//! Writes append to the history unless `update_history` is false
//! (`False`/`false`/`0`, any case). Reads need scope `thing.read` or
//! `thing`, writes `thing`, or a token of the device that owns the thing
//! (its `device` relation, [`thingstead_core::things::owner`]; the token
//! `POST /api/auth/login` gives the device): that device may write the
//! thing's properties, one or many, and nothing else. Any other device
//! gets 403, also for a thing that does not exist (a device learns nothing
//! of things it does not own).
//!
//! Errors: 404 for an unknown thing (or one outside the path's category)
//! and for a property path `{p}` the thing does not declare (read or
//! write); 400 for a value outside its property's data schema, a body key
//! of `PUT .../properties` naming a property the thing does not declare
//! (the body is what is wrong there, and nothing is written), a `PUT
//! .../properties/{p}` body without key `p`, and a bad `update_history`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value};
use thingstead_core::things::history::update_history;
use thingstead_core::{Actor, CoreError, ErrorKind};

use super::SpaceCaller;
use super::json::JsonBody;
use super::query::QueryPairs;
use super::things::{READ, ThingPath, WRITE, check_in_category, thing_of_path};
use crate::app::AppState;
use crate::http::error::ApiError;

fn one(name: &str, value: Value) -> Json<Value> {
    let mut m = Map::new();
    m.insert(name.to_owned(), value);
    Json(Value::Object(m))
}

/// `Ok` when the caller may write the properties of the path's thing:
/// with scope `thing`, or as the device that owns it (403 otherwise).
async fn authorize_write(state: &AppState, caller: &SpaceCaller, path: &ThingPath) -> Result<(), ApiError> {
    if caller.principal().allows(WRITE) {
        return Ok(());
    }
    // Only a device can own a thing: anyone else simply lacks the scope.
    if !matches!(caller.principal().actor(), Actor::Device { .. }) {
        return caller.require(WRITE);
    }
    let owner = match thing_of_path(state, caller.tenant(), path).await {
        Ok(thing) => thing.owner_device().map(str::to_owned),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    caller.require_property_write(owner.as_deref())
}

/// `GET .../properties`.
pub async fn get_all(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let thing = thing_of_path(&state, caller.tenant(), &path).await?;
    Ok(Json(Value::Object(thing.status)))
}

/// `GET .../properties/{p}`.
pub async fn get_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let name = path.property.as_deref().unwrap_or_default();
    let thing = thing_of_path(&state, caller.tenant(), &path).await?;
    if !thing.has_property(name) {
        return Err(CoreError::NotFound(format!("property {name} of thing {}", thing.uid)).into());
    }
    let value = thing.status.get(name).cloned().unwrap_or(Value::Null);
    Ok(one(name, value))
}

/// `PUT .../properties` (`update_history`).
pub async fn put_all(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    QueryPairs(pairs): QueryPairs,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    authorize_write(&state, &caller, &path).await?;
    let history = update_history(&pairs)?;
    check_in_category(&state, caller.tenant(), &path).await?;
    let written = state
        .platform
        .update_properties(caller.tenant(), path.uid(), &body, history)
        .await?;
    Ok(Json(Value::Object(written)))
}

/// `PUT .../properties/{p}` (`update_history`), body `{"p": value}`.
pub async fn put_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    QueryPairs(pairs): QueryPairs,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    authorize_write(&state, &caller, &path).await?;
    let history = update_history(&pairs)?;
    let name = path.property.as_deref().unwrap_or_default();
    let Some(value) = body.get(name) else {
        return Err(CoreError::Invalid(format!("the body is {{\"{name}\": value}}")).into());
    };
    // The write itself answers 404 for an unknown thing or property.
    check_in_category(&state, caller.tenant(), &path).await?;
    let value = state
        .platform
        .update_property(caller.tenant(), path.uid(), name, value, history)
        .await?;
    Ok(one(name, value))
}
