//! Property history: `.../things/{t}/properties-history[/{p}]`.

use reqwest::Method;

use super::client::{Body, Request, ThingsApi};
use super::error::Result;
use super::models::HistoryItem;
use super::paging::Pages;
use super::query::HistoryQuery;
use super::response::Response;

/// The recorded values of a thing's properties (all of them, or of one
/// with [`ThingRef::history_of`](super::ThingRef::history_of)).
///
/// ```no_run
/// use thingstead::things::{HistoryItem, HistoryQuery};
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let history = api.space("acme").thing("boiler-3").history();
/// history.create(&[HistoryItem::new("2026-11-28T10:00:00Z", serde_json::json!({"temperature": 20.5}))]).await?;
/// let day = history
///     .list(HistoryQuery::at_range("2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z").group(true))
///     .collect_all(100_000)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct History {
    api: ThingsApi,
    path: String,
}

impl History {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// Records past values (201: the items stored).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let item = thingstead::things::HistoryItem::new("2026-11-28T10:00:00Z", serde_json::json!({"temperature": 20.5}));
    /// api.space("acme").thing("boiler-3").history().create(&[item]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, items: &[HistoryItem]) -> Result<Response<Vec<HistoryItem>>> {
        let request = Request::new(Method::POST, &self.path).body(Body::json(&items)?);
        self.api.call(&request).await
    }

    /// The points matching `query`, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let page = api.space("acme").thing("boiler-3").history_of("temperature")
    ///     .list(thingstead::things::HistoryQuery::at("2026-11")).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self, query: HistoryQuery) -> Pages<HistoryItem> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }

    /// Deletes the points matching `query` (`at`, `property_name[]`) (204).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").history().delete(thingstead::things::HistoryQuery::at("2025")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, query: HistoryQuery) -> Result<Response<()>> {
        let request = Request::new(Method::DELETE, &self.path).query(query.to_params());
        self.api.call_empty(&request).await
    }
}
