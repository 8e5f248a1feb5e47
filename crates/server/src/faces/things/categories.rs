//! `/spaces/{s}/categories[/{c}]` (WIRE.md A.3): create (201), list
//! (200, paged by name), read (200), replace (200; a new name renames the
//! category and its things follow) and delete (204; its things stay,
//! outside it). Reads need scope `category.read` or `category`, writes
//! `category`. 400 for a category that is not valid, 404 for an unknown
//! one, 409 for a name that is taken.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use thingstead_core::scopes::{Need, Resource};

use super::SpaceCaller;
use super::json::JsonBody;
use super::query::QueryPairs;
use crate::app::AppState;
use crate::http::error::ApiError;

const READ: Need = Need::read(Resource::Categories);
const WRITE: Need = Need::write(Resource::Categories);

/// The list envelope `{"data": [...], "paging": {...}}` (WIRE.md A.4).
pub fn list_body(data: Vec<Value>, next_cursor: Option<String>) -> Value {
    json!({ "data": data, "paging": { "next_cursor": next_cursor, "previous_cursor": null } })
}

/// `POST /spaces/{s}/categories`: 201 with the category.
pub async fn create(
    State(state): State<AppState>,
    caller: SpaceCaller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let category = state.platform.create_category(caller.tenant(), &body).await?;
    Ok((StatusCode::CREATED, Json(category.to_json())).into_response())
}

/// `GET /spaces/{s}/categories` (`limit`, `next_cursor`, `previous_cursor`): 200 CategoryList.
pub async fn list(
    State(state): State<AppState>,
    caller: SpaceCaller,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    let page = state.platform.list_categories(caller.tenant(), &pairs).await?;
    Ok(Json(super::actions::page_body(&page, |c| c.to_json())))
}

/// `GET /spaces/{s}/categories/{c}`: 200 Category.
pub async fn get_one(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    caller.require(READ)?;
    Ok(Json(state.platform.category(caller.tenant(), &name).await?.to_json()))
}

/// `PUT /spaces/{s}/categories/{c}`: 200 with the category as replaced.
pub async fn replace(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path((_, name)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    caller.require(WRITE)?;
    let category = state.platform.update_category(caller.tenant(), &name, &body).await?;
    Ok(Json(category.to_json()))
}

/// `DELETE /spaces/{s}/categories/{c}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path((_, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(WRITE)?;
    state.platform.delete_category(caller.tenant(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
