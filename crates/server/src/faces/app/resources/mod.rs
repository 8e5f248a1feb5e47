//! The application platform's resources (WIRE.md B.3), one module per
//! resource; [`documents`] holds the handlers every collection shares.

mod data;
mod devices;
mod documents;
mod experiences;
mod feed_fetch;
mod feeds;
mod locations;
mod things;

use axum::Router;

use crate::app::AppState;

pub use data::DATA_BODY;
pub use feed_fetch::FeedFetcher;

/// Every resource route but data items (their bodies are larger: [`data_routes`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(devices::routes())
        .merge(things::routes())
        .merge(experiences::routes())
        .merge(locations::routes())
        .merge(feeds::routes())
}

/// `/data` routes, whose `PUT` takes up to [`DATA_BODY`] bytes.
pub(crate) fn data_routes() -> Router<AppState> {
    data::routes()
}
