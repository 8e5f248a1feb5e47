//! `/spaces/{s}/things[/{t}]` and the same under
//! `/spaces/{s}/categories/{c}/things[/{t}]`, restricted to the things of
//! that category (WIRE.md A.3):
//!
//! * `POST` (201 Thing; under a category the thing is put in it),
//! * `GET` list (200 ThingList; all query pairs are the filters of
//!   [`ThingQuery::from_pairs`], repeated keys kept),
//! * `PATCH` many (207 `{"has_errors": [indexes of the items that failed],
//!   "errors": [{"index", "message"}]}`, never a `results` array),
//! * `DELETE` by filter (200 JSON array of the deleted uids; 400 without a filter),
//! * `GET`/`PUT`/`PATCH` (RFC 6902)/`DELETE` one (200 Thing / 204).
//!
//! A thing's `id` is its URL `http(s)://{Host}/spaces/{s}/things/{uid}`:
//! the request's `Host` header (what the client used to reach the server;
//! the URI's authority on HTTP/2), see [`Origin`]; `https` when `X-Forwarded-Proto: https` says a proxy ended TLS.
//! Reads need scope `thing.read` or `thing`, writes `thing`.
//! 400 for a TD, filter or patch that is not valid, 404 for an unknown
//! thing or category (a thing outside the category of the path is
//! unknown there), 409 for a given `uid` that is taken.

use std::convert::Infallible;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::extract::{Path, State};
use axum::http::header::HOST;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use thingstead_core::scopes::{Need, Resource};
use thingstead_core::things::{Thing, ThingQuery};
use thingstead_core::{Actor, CoreError, Tenant};

use super::SpaceCaller;
use super::actions::page_body;
use super::json::JsonBody;
use super::query::QueryPairs;
use crate::app::AppState;
use crate::http::error::ApiError;

/// Reading things.
pub const READ: Need = Need::read(Resource::Things);
/// Changing things.
pub const WRITE: Need = Need::write(Resource::Things);

/// The path parameters of every thing route: `{space}`, and `{category}`,
/// `{thing}`, `{property}` when the route has them.
#[derive(Debug, Clone, Deserialize)]
pub struct ThingPath {
    /// The space (already checked against the token).
    pub space: String,
    /// The category of a `/categories/{category}/things` path.
    pub category: Option<String>,
    /// The thing's uid.
    pub thing: Option<String>,
    /// The property of a `.../properties/{property}` or
    /// `.../properties-history/{property}` path.
    pub property: Option<String>,
}

impl ThingPath {
    /// The thing's uid (empty on routes without one).
    pub fn uid(&self) -> &str {
        self.thing.as_deref().unwrap_or_default()
    }
}

/// Where the client reached this server: `http(s)://{host}` (see the
/// module docs). The `Host` header, else the request URI's authority
/// (HTTP/2 sends `:authority` instead of `Host`), else `localhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(pub String);

impl Origin {
    /// The origin of a request with `headers` and `uri`.
    pub fn of(headers: &HeaderMap, uri: &Uri) -> Self {
        let usable = |h: &str| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
        let host = headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| usable(h))
            .or_else(|| uri.authority().map(|a| a.as_str()).filter(|h| usable(h)))
            .unwrap_or("localhost");
        let tls = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        let scheme = if tls { "https" } else { "http" };
        Self(format!("{scheme}://{host}"))
    }

    /// The URL of thing `uid` of `space`: the thing's `id`.
    pub fn thing_url(&self, space: &str, uid: &str) -> String {
        format!("{}/spaces/{space}/things/{uid}", self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.headers, &parts.uri))
    }
}

/// A thing as the face shows it, with its `id`.
pub fn render(origin: &Origin, space: &str, thing: &Thing) -> Value {
    thing.to_json(&origin.thing_url(space, &thing.uid))
}

/// Reads the thing of the path: in its category on a category path
/// (404 when it is not in it).
pub async fn thing_of_path(state: &AppState, tenant: &Tenant, path: &ThingPath) -> Result<Thing, CoreError> {
    match &path.category {
        Some(c) => state.platform.thing_in_category(tenant, c, path.uid()).await,
        None => state.platform.thing(tenant, path.uid()).await,
    }
}

/// Fails with 404 when the path's thing is not there (or, on a category
/// path, not in that category). Plain paths are left to the operation.
pub(super) async fn check_in_category(state: &AppState, tenant: &Tenant, path: &ThingPath) -> Result<(), CoreError> {
    if path.category.is_some() {
        thing_of_path(state, tenant, path).await?;
    }
    Ok(())
}

fn client_id(caller: &SpaceCaller) -> Option<&str> {
    match caller.principal().actor() {
        Actor::Client { client_id } => Some(client_id.as_str()),
        _ => None,
    }
}

/// `POST .../things`: 201 Thing.
pub async fn create(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    origin: Origin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let tenant = caller.tenant();
    let thing = match &path.category {
        Some(c) => {
            state
                .platform
                .create_thing_in_category(tenant, c, &body, client_id(&caller))
                .await?
        }
        None => state.platform.create_thing(tenant, &body, client_id(&caller)).await?,
    };
    Ok((StatusCode::CREATED, Json(render(&origin, &path.space, &thing))).into_response())
}

/// The query of a list or delete, restricted to the path's category
/// (404 when that category does not exist).
async fn query_of(
    state: &AppState,
    tenant: &Tenant,
    path: &ThingPath,
    pairs: &[(String, String)],
) -> Result<ThingQuery, CoreError> {
    let mut query = ThingQuery::from_pairs(pairs)?;
    if let Some(c) = &path.category {
        state.platform.category(tenant, c).await?;
        query.filter = query.filter.within_category(c);
    }
    Ok(query)
}

/// `GET .../things`: 200 ThingList.
pub async fn list(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    origin: Origin,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let query = query_of(&state, caller.tenant(), &path, &pairs).await?;
    let page = state.platform.list_things(caller.tenant(), &query).await?;
    Ok(Json(page_body(&page, |t| render(&origin, &path.space, t))))
}

/// `DELETE .../things` (filters): 200 with the deleted uids.
pub async fn delete_many(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Vec<String>>, ApiError> {
    caller.require(WRITE)?;
    let query = query_of(&state, caller.tenant(), &path, &pairs).await?;
    Ok(Json(
        state.platform.delete_things(caller.tenant(), &query.filter).await?,
    ))
}

/// `PATCH .../things` (`[{"id", "patch"}]`): 207 `{"has_errors": [..],
/// "errors": [{"index", "message"}]}` (`errors` says why each failed).
/// Under a category an item naming a thing outside it fails.
pub async fn patch_many(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let tenant = caller.tenant();
    let Value::Array(items) = body else {
        return Err(CoreError::Invalid("a multi-thing patch is a JSON array of {id, patch}".into()).into());
    };
    // Which items may be applied (all, except outside the path's category).
    let mut allowed = Vec::with_capacity(items.len());
    for item in &items {
        let ok = match (&path.category, item.get("id").and_then(Value::as_str)) {
            (Some(c), Some(uid)) => state.platform.thing_in_category(tenant, c, uid).await.is_ok(),
            _ => true,
        };
        allowed.push(ok);
    }
    let applied: Vec<Value> = items
        .iter()
        .zip(&allowed)
        .filter(|(_, ok)| **ok)
        .map(|(item, _)| item.clone())
        .collect();
    let mut results = state
        .platform
        .patch_things(tenant, &Value::Array(applied))
        .await?
        .into_iter();
    // WIRE's `has_errors`, and beside it why each of those failed.
    let mut has_errors = Vec::new();
    let mut errors = Vec::new();
    for (i, ok) in allowed.iter().enumerate() {
        let why = match (ok, path.category.as_deref()) {
            (false, Some(c)) => Some(format!("the thing is not in category {c}")),
            (false, None) => Some("the thing cannot be patched here".to_owned()),
            (true, _) => match results.next() {
                Some(Ok(_)) => None,
                Some(Err(e)) => Some(ApiError::from(e).message),
                None => Some("not applied".to_owned()),
            },
        };
        if let Some(message) = why {
            has_errors.push(i);
            errors.push(json!({ "index": i, "message": message }));
        }
    }
    let body = json!({ "has_errors": has_errors, "errors": errors });
    Ok((StatusCode::MULTI_STATUS, Json(body)).into_response())
}

/// `GET .../things/{t}`: 200 Thing.
pub async fn get_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    origin: Origin,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let thing = thing_of_path(&state, caller.tenant(), &path).await?;
    Ok(Json(render(&origin, &path.space, &thing)))
}

/// `PUT .../things/{t}` (a full replacement): 200 Thing.
pub async fn replace(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    origin: Origin,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    caller.require(WRITE)?;
    check_in_category(&state, caller.tenant(), &path).await?;
    let thing = state.platform.replace_thing(caller.tenant(), path.uid(), &body).await?;
    Ok(Json(render(&origin, &path.space, &thing)))
}

/// `PATCH .../things/{t}` (RFC 6902 operations): 200 Thing.
pub async fn patch_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    origin: Origin,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    caller.require(WRITE)?;
    check_in_category(&state, caller.tenant(), &path).await?;
    let thing = state.platform.patch_thing(caller.tenant(), path.uid(), &body).await?;
    Ok(Json(render(&origin, &path.space, &thing)))
}

/// `DELETE .../things/{t}`: 204.
pub async fn delete_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
) -> Result<StatusCode, ApiError> {
    caller.require(WRITE)?;
    let tenant = caller.tenant();
    check_in_category(&state, tenant, &path).await?;
    state.platform.delete_thing(tenant, path.uid()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_id_is_the_url_the_client_used() {
        let mut h = HeaderMap::new();
        let bare = Uri::from_static("/spaces/acme/things");
        let o = Origin::of(&h, &bare);
        assert_eq!(o.thing_url("acme", "t1"), "http://localhost/spaces/acme/things/t1");
        let h2 = Uri::from_static("http://h2.example:9000/spaces/acme/things");
        assert_eq!(Origin::of(&h, &h2).0, "http://h2.example:9000");
        h.insert(HOST, HeaderValue::from_static("iot.example:8080"));
        let o = Origin::of(&h, &bare);
        assert_eq!(
            o.thing_url("acme", "t1"),
            "http://iot.example:8080/spaces/acme/things/t1"
        );
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(Origin::of(&h, &bare).0, "https://iot.example:8080");
        h.insert(HOST, HeaderValue::from_static("evil/path"));
        assert_eq!(
            Origin::of(&h, &bare).0,
            "https://localhost",
            "a Host with a slash is not used"
        );
    }
}
