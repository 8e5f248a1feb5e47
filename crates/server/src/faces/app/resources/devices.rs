//! `/api/devices`: the registry's devices. Creating one makes the registry
//! device (secret and devicekey, shown in the answer once) and its document in
//! one transaction; deleting one deletes both; a device may save its own.

use axum::Router;
use thingstead_core::documents::Collection;

use super::documents::collection;
use crate::app::AppState;

pub(super) fn routes() -> Router<AppState> {
    collection("/devices", Collection::Devices)
}
