//! `/connectors/feeds` (CRUD like every collection) and
//! `GET /connectors/feeds/{uuid}/data?{params}` → a JSON object. The feed
//! types (`subtype`) are described in `thingstead_core::FEED_MESSAGES` and
//! `thingstead_core::FEED_HTTP`; an HTTP feed is fetched by [`FeedFetcher`].

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};
use thingstead_core::FeedSource;
use thingstead_core::documents::Collection;

use super::FeedFetcher;
use super::documents::{Params, collection, params};
use crate::app::AppState;
use crate::faces::app::principal::Authenticated;
use crate::http::error::{ApiError, ErrorCode};

pub(super) fn routes() -> Router<AppState> {
    collection("/connectors/feeds", Collection::Feeds).route("/connectors/feeds/{uuid}/data", get(data))
}

async fn data(
    State(state): State<AppState>,
    Authenticated(p): Authenticated,
    Path(uuid): Path<String>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let params = params(q)?;
    let feed = state.platform.feed(&p, &uuid, &params).await?;
    let data = match &feed.source {
        FeedSource::Messages(v) => v.clone(),
        FeedSource::Http(url) => FeedFetcher::new(&state.settings.feeds).fetch(url, &params).await?,
    };
    let data: Map<String, Value> = match data {
        Value::Object(o) => o,
        _ => {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                format!("feed {uuid}: its source did not answer a JSON object"),
            ));
        }
    };
    Ok(Json(feed.finish(data, &params)))
}
