//! Events: `.../things/{t}/events[/{e}[/{id}]]`.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::activity::EventResponse;
use super::client::{Body, Request, ThingsApi, segment};
use super::error::Result;
use super::paging::Pages;
use super::query::Query;
use super::response::Response;

/// Every event occurrence of a thing.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let all = api.space("acme").thing("boiler-3").events().list().collect_all(1000).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Events {
    api: ThingsApi,
    path: String,
}

impl Events {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// Every occurrence of every event, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").thing("boiler-3").events().list().first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> Pages<EventResponse> {
        self.list_with(Query::new())
    }

    /// As [`list`](Events::list), with a page size or cursor.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").thing("boiler-3").events().list_with(thingstead::things::Query::new().limit(10)).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_with(&self, query: Query) -> Pages<EventResponse> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }

    /// Event `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let overheat = api.space("acme").thing("boiler-3").events().event("overheat");
    /// # }
    /// ```
    pub fn event(&self, name: &str) -> EventRef {
        EventRef {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(name)),
            name: name.to_owned(),
        }
    }
}

/// One event of a thing: record an occurrence, list them.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let overheat = api.space("acme").thing("boiler-3").event("overheat");
/// let e = overheat.create(serde_json::json!({"temperature": 97})).await?.into_inner();
/// println!("{} at {:?}", e.id, e.timestamp);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EventRef {
    api: ThingsApi,
    path: String,
    name: String,
}

impl EventRef {
    /// Records an occurrence with `data` (`None` for none) (201).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").event("overheat").create(None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, data: impl Into<Option<Value>>) -> Result<Response<EventResponse>> {
        let mut body = Map::new();
        if let Some(data) = data.into() {
            body.insert("data".into(), data);
        }
        let body = json!({ self.name.as_str(): body });
        let request = Request::new(Method::POST, &self.path).body(Body::json(&body)?);
        self.api.call(&request).await
    }

    /// The occurrences of this event, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let all = api.space("acme").thing("boiler-3").event("overheat").list().collect_all(100).await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> Pages<EventResponse> {
        self.list_with(Query::new())
    }

    /// As [`list`](EventRef::list), with a page size or cursor.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let page = api.space("acme").thing("boiler-3").event("overheat").list_with(thingstead::things::Query::new().limit(5)).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_with(&self, query: Query) -> Pages<EventResponse> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }

    /// Occurrence `id` of this event.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let one = api.space("acme").thing("boiler-3").event("overheat").instance("7");
    /// # }
    /// ```
    pub fn instance(&self, id: &str) -> EventInstance {
        EventInstance {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(id)),
        }
    }
}

/// One occurrence of an event.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let one = api.space("acme").thing("boiler-3").event_instance("overheat", "7");
/// println!("{:?}", one.get().await?.value.data);
/// one.delete().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EventInstance {
    api: ThingsApi,
    path: String,
}

impl EventInstance {
    /// The occurrence.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let e = api.space("acme").thing("boiler-3").event_instance("overheat", "7").get().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<EventResponse>> {
        self.api.call(&Request::new(Method::GET, &self.path)).await
    }

    /// Deletes the occurrence (204).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").event_instance("overheat", "7").delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<Response<()>> {
        self.api.call_empty(&Request::new(Method::DELETE, &self.path)).await
    }
}
