//! `/api/experiences`: names are unique per organization (409 otherwise).

use axum::Router;
use thingstead_core::documents::Collection;

use super::documents::collection;
use crate::app::AppState;

pub(super) fn routes() -> Router<AppState> {
    collection("/experiences", Collection::Experiences)
}
