//! What the action and event routes share ([`super::actions`],
//! [`super::events`]): list, create, read and delete, generic over the
//! kind of record ([`Activity`]); each route module keeps what only its
//! records have (an action's update, the members of its response).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use thingstead_core::paging::{CursorPage, PageRequest};
use thingstead_core::{CoreError, Platform, Tenant};

use super::SpaceCaller;
use super::actions::{ActivityPath, affordance, check_against, named_body, page_body};
use super::json::JsonBody;
use super::query::QueryPairs;
use super::things::{Origin, READ, WRITE};
use crate::app::AppState;
use crate::http::error::ApiError;

/// Actions or events: their records, how the face shows them and the
/// platform calls that keep them.
pub(super) trait Activity: Sized {
    /// The TD member and path segment: `actions`, `events`.
    const KIND: &'static str;
    /// One of them, in messages: `action`, `event`.
    const SINGULAR: &'static str;
    /// The member of a create body with the value: `input`, `data`.
    const PAYLOAD: &'static str;

    /// The record's name and id (the last segment of its `href`).
    fn key(&self) -> (&str, &str);
    /// The members of its response besides `href`.
    fn members(&self, out: &mut Map<String, Value>);

    /// Creates one with `value` (the [`Activity::PAYLOAD`]).
    async fn create(p: &Platform, t: &Tenant, thing: &str, name: &str, value: Option<Value>)
    -> Result<Self, CoreError>;
    /// A page of the thing's records (of `name` only, when given).
    async fn list(
        p: &Platform,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        page: &PageRequest,
    ) -> Result<CursorPage<Self>, CoreError>;
    /// Record `id` of `name`.
    async fn one(p: &Platform, t: &Tenant, thing: &str, name: &str, id: &str) -> Result<Self, CoreError>;
    /// Deletes record `id` of `name`.
    async fn delete(p: &Platform, t: &Tenant, thing: &str, name: &str, id: &str) -> Result<(), CoreError>;
}

/// A record as the face shows it: `{"<name>": {"href", ...}}`, `href` the
/// URL of the record.
pub(super) fn render<A: Activity>(path: &ActivityPath, origin: &Origin, a: &A) -> Value {
    let (name, id) = a.key();
    let mut inner = Map::new();
    inner.insert("href".into(), Value::String(path.href(origin, A::KIND, name, id)));
    a.members(&mut inner);
    let mut out = Map::new();
    out.insert(name.to_owned(), Value::Object(inner));
    Value::Object(out)
}

/// `GET .../{kind}[/{name}]`: 200 list, newest first.
pub(super) async fn list<A: Activity>(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let page = PageRequest::from_pairs(&pairs)?;
    let thing = path.thing(&state, &caller).await?;
    let page = A::list(
        &state.platform,
        caller.tenant(),
        &thing.uid,
        path.name.as_deref(),
        &page,
    )
    .await?;
    Ok(Json(page_body(&page, |a| render(&path, &origin, a))))
}

/// `POST .../{kind}/{name}` with `{"<name>": {"<payload>": any}}` (the
/// payload optional, checked against the affordance's schema of that
/// name): 201 with the record.
pub(super) async fn create<A: Activity>(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let name = path.name();
    let value = named_body(&body, A::SINGULAR, name)?
        .and_then(|b| b.get(A::PAYLOAD))
        .cloned();
    let thing = path.thing(&state, &caller).await?;
    let declared = affordance(&thing, A::KIND, name)?;
    let at = format!("{} of {} {name}", A::PAYLOAD, A::SINGULAR);
    check_against(declared, A::PAYLOAD, value.as_ref(), &at)?;
    let record = A::create(&state.platform, caller.tenant(), &thing.uid, name, value).await?;
    Ok((StatusCode::CREATED, Json(render(&path, &origin, &record))).into_response())
}

/// `GET .../{kind}/{name}/{id}`: 200 with the record.
pub(super) async fn get_one<A: Activity>(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let thing = path.thing(&state, &caller).await?;
    let record = A::one(&state.platform, caller.tenant(), &thing.uid, path.name(), path.id()).await?;
    Ok(Json(render(&path, &origin, &record)))
}

/// `DELETE .../{kind}/{name}/{id}`: 204.
pub(super) async fn delete<A: Activity>(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
) -> Result<StatusCode, ApiError> {
    caller.require(WRITE)?;
    let thing = path.thing(&state, &caller).await?;
    A::delete(&state.platform, caller.tenant(), &thing.uid, path.name(), path.id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `list`, `create`, `get_one` and `delete` handlers of a route
/// module, for records `$record` (an [`Activity`]): the route table names
/// a handler per module, which a generic function cannot be given.
macro_rules! activity_handlers {
    ($record:ty) => {
        /// `GET .../{kind}[/{name}]`: 200 list, newest first (`limit`,
        /// `next_cursor`, `previous_cursor`).
        pub async fn list(
            state: axum::extract::State<$crate::app::AppState>,
            caller: super::SpaceCaller,
            path: axum::extract::Path<ActivityPath>,
            origin: super::things::Origin,
            query: super::query::QueryPairs,
        ) -> Result<axum::Json<serde_json::Value>, $crate::http::error::ApiError> {
            super::activity::list::<$record>(state, caller, path, origin, query).await
        }

        /// `POST .../{kind}/{name}`: 201 with the record.
        pub async fn create(
            state: axum::extract::State<$crate::app::AppState>,
            caller: super::SpaceCaller,
            path: axum::extract::Path<ActivityPath>,
            origin: super::things::Origin,
            body: super::json::JsonBody,
        ) -> Result<axum::response::Response, $crate::http::error::ApiError> {
            super::activity::create::<$record>(state, caller, path, origin, body).await
        }

        /// `GET .../{kind}/{name}/{id}`: 200 with the record.
        pub async fn get_one(
            state: axum::extract::State<$crate::app::AppState>,
            caller: super::SpaceCaller,
            path: axum::extract::Path<ActivityPath>,
            origin: super::things::Origin,
        ) -> Result<axum::Json<serde_json::Value>, $crate::http::error::ApiError> {
            super::activity::get_one::<$record>(state, caller, path, origin).await
        }

        /// `DELETE .../{kind}/{name}/{id}`: 204.
        pub async fn delete(
            state: axum::extract::State<$crate::app::AppState>,
            caller: super::SpaceCaller,
            path: axum::extract::Path<ActivityPath>,
        ) -> Result<axum::http::StatusCode, $crate::http::error::ApiError> {
            super::activity::delete::<$record>(state, caller, path).await
        }
    };
}
pub(super) use activity_handlers;
