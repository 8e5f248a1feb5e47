//! `/api/locations`, with their zones embedded as `zones: [{key, name, ...}]`
//! (a zone is edited by saving its location).

use axum::Router;
use thingstead_core::documents::Collection;

use super::documents::collection;
use crate::app::AppState;

pub(super) fn routes() -> Router<AppState> {
    collection("/locations", Collection::Locations)
}
