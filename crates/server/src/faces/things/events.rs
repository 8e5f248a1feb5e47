//! `.../things/{t}/events[/{e}[/{id}]]` (WIRE.md A.3, A.4), also under
//! `/categories/{c}/things/{t}`: the events a thing emitted.
//!
//! * `GET .../events` and `GET .../events/{e}` (`limit`, `next_cursor`,
//!   `previous_cursor`): 200 EventList, newest first;
//! * `POST .../events/{e}` with `{"e": {"data": any}}` (`data` optional):
//!   201 EventResponse, happening now;
//! * `GET .../events/{e}/{id}`: 200 EventResponse;
//! * `DELETE .../events/{e}/{id}`: 204.
//!
//! An EventResponse is `{"<e>": {"href", "data", "timestamp"}}`; `href`
//! is the URL of the event (the thing's `id`, then `/events/{e}/{id}`).
//!
//! Reads need scope `thing.read` or `thing`, writes `thing`. 404 for an
//! unknown thing (or one outside the path's category) and an unknown
//! event id; 400 for a body that is not `{"<e>": {...}}` with the name of
//! the path, for an event the thing's TD does not declare (on `POST`), and
//! for `data` outside the event's `data` schema.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use thingstead_core::paging::PageRequest;
use thingstead_core::records::rfc3339;
use thingstead_core::things_activity::ThingEvent;

use super::SpaceCaller;
use super::actions::{ActivityPath, affordance, check_against, named_body, page_body};
use super::json::JsonBody;
use super::query::QueryPairs;
use super::things::{Origin, READ, WRITE};
use crate::app::AppState;
use crate::http::error::ApiError;

/// An event as the face shows it: EventResponse.
fn render(path: &ActivityPath, origin: &Origin, e: &ThingEvent) -> Value {
    let mut inner = Map::new();
    inner.insert(
        "href".into(),
        Value::String(path.href(origin, "events", &e.name, &e.id)),
    );
    inner.insert("data".into(), e.data.clone());
    inner.insert("timestamp".into(), Value::String(rfc3339::format(e.timestamp)));
    let mut out = Map::new();
    out.insert(e.name.clone(), Value::Object(inner));
    Value::Object(out)
}

/// `GET .../events[/{e}]`: 200 EventList.
pub async fn list(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let page = PageRequest::from_pairs(&pairs)?;
    let thing = path.thing(&state, &caller).await?;
    let page = state
        .platform
        .list_thing_events(caller.tenant(), &thing.uid, path.name.as_deref(), &page)
        .await?;
    Ok(Json(page_body(&page, |e| render(&path, &origin, e))))
}

/// `POST .../events/{e}`: 201 EventResponse.
pub async fn create(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let name = path.name();
    let data = named_body(&body, "event", name)?.and_then(|b| b.get("data")).cloned();
    let thing = path.thing(&state, &caller).await?;
    let declared = affordance(&thing, "events", name)?;
    check_against(declared, "data", data.as_ref(), &format!("data of event {name}"))?;
    let event = state
        .platform
        .create_thing_event(caller.tenant(), &thing.uid, name, data)
        .await?;
    Ok((StatusCode::CREATED, Json(render(&path, &origin, &event))).into_response())
}

/// `GET .../events/{e}/{id}`: 200 EventResponse.
pub async fn get_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let thing = path.thing(&state, &caller).await?;
    let event = state
        .platform
        .thing_event(caller.tenant(), &thing.uid, path.name(), path.id())
        .await?;
    Ok(Json(render(&path, &origin, &event)))
}

/// `DELETE .../events/{e}/{id}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
) -> Result<StatusCode, ApiError> {
    caller.require(WRITE)?;
    let thing = path.thing(&state, &caller).await?;
    state
        .platform
        .delete_thing_event(caller.tenant(), &thing.uid, path.name(), path.id())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
