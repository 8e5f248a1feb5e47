//! `.../things/{t}/properties-history[/{p}]` (WIRE.md A.3), also under
//! `/categories/{c}/things/{t}`: explicit history points of a thing's
//! properties (of one property with `{p}`).
//!
//! * `POST` one `{at, properties}` or a list: 201 JSON array of the points added;
//! * `GET` (`at` instant or `start|end` range, `group`, `limit`,
//!   `next_cursor` or `previous_cursor`): 200 HistoryList, oldest first;
//! * `DELETE` (`at`, `property_name[]`): 204.
//!
//! Reads need scope `thing.read` or `thing`, writes `thing`. 400 for a
//! point, value, time or cursor that is not valid, 404 for an unknown
//! thing (or one outside the path's category), 409 when a property
//! already has a value at one of the instants (nothing is added then).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use thingstead_core::things::{HistoryDelete, HistoryQuery};

use super::SpaceCaller;
use super::actions::page_body;
use super::json::JsonBody;
use super::query::QueryPairs;
use super::things::{READ, ThingPath, WRITE, thing_of_path};
use crate::app::AppState;
use crate::http::error::ApiError;

/// `POST .../properties-history[/{p}]`: 201 with the points added.
pub async fn create(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    if path.category.is_some() {
        thing_of_path(&state, caller.tenant(), &path).await?;
    }
    let points = state
        .platform
        .add_property_history(caller.tenant(), path.uid(), path.property.as_deref(), &body)
        .await?;
    let body: Vec<Value> = points.iter().map(|p| p.to_json()).collect();
    Ok((StatusCode::CREATED, Json(Value::Array(body))).into_response())
}

/// `GET .../properties-history[/{p}]`: 200 HistoryList.
pub async fn list(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let query = HistoryQuery::from_pairs(&pairs)?;
    if path.category.is_some() {
        thing_of_path(&state, caller.tenant(), &path).await?;
    }
    let page = state
        .platform
        .property_history(caller.tenant(), path.uid(), path.property.as_deref(), &query)
        .await?;
    Ok(Json(page_body(&page, |p| p.to_json())))
}

/// `DELETE .../properties-history[/{p}]`: 204.
pub async fn delete(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ThingPath>,
    QueryPairs(pairs): QueryPairs,
) -> Result<StatusCode, ApiError> {
    caller.require(WRITE)?;
    let what = HistoryDelete::from_pairs(&pairs)?;
    // An unknown thing is 404, not an empty delete.
    thing_of_path(&state, caller.tenant(), &path).await?;
    state
        .platform
        .delete_property_history(caller.tenant(), path.uid(), path.property.as_deref(), &what)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
