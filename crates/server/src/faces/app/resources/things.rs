//! `/api/things`.

use axum::Router;
use thingstead_core::documents::Collection;

use super::documents::collection;
use crate::app::AppState;

pub(super) fn routes() -> Router<AppState> {
    collection("/things", Collection::Things)
}
