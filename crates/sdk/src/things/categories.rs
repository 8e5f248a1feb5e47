//! Categories: `/spaces/{s}/categories[/{c}]` and the things of a
//! category.

use reqwest::Method;

use super::client::{Body, Request, ThingsApi};
use super::error::Result;
use super::models::{Category, NewCategory};
use super::paging::Pages;
use super::query::Query;
use super::response::Response;
use super::things::{ThingRef, Things};

/// The categories of a space.
///
/// ```no_run
/// use thingstead::things::{NewCategory, Query};
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let categories = api.space("acme").categories();
/// categories.create(&NewCategory { name: "Sensors".into(), ..Default::default() }).await?;
/// let all = categories.list(Query::new().limit(100)).collect_all(1000).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Categories {
    api: ThingsApi,
    path: String,
}

impl Categories {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// Creates a category (201).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let c = api.space("acme").categories().create(&thingstead::things::NewCategory { name: "Sensors".into(), ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, category: &NewCategory) -> Result<Response<Category>> {
        let request = Request::new(Method::POST, &self.path).body(Body::json(category)?);
        self.api.call(&request).await
    }

    /// The categories, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").categories().list(Default::default()).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self, query: Query) -> Pages<Category> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }
}

/// One category.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let sensors = api.space("acme").category("Sensors");
/// println!("{:?}", sensors.get().await?.value.description);
/// let one = sensors.thing("boiler-3").get().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CategoryRef {
    api: ThingsApi,
    path: String,
}

impl CategoryRef {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// The category.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let c = api.space("acme").category("Sensors").get().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<Category>> {
        self.api.call(&Request::new(Method::GET, &self.path)).await
    }

    /// Replaces the category (a new `name` renames it).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let c = api.space("acme").category("Sensors")
    ///     .update(&thingstead::things::NewCategory { name: "Sensors".into(), description: Some("all".into()), model: None }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, category: &NewCategory) -> Result<Response<Category>> {
        let request = Request::new(Method::PUT, &self.path).body(Body::json(category)?);
        self.api.call(&request).await
    }

    /// Deletes the category (204).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").category("Sensors").delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<Response<()>> {
        self.api.call_empty(&Request::new(Method::DELETE, &self.path)).await
    }

    /// The things of this category (every thing call, restricted to it).
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let things = api.space("acme").category("Sensors").things();
    /// # }
    /// ```
    pub fn things(&self) -> Things {
        Things::new(self.api.clone(), format!("{}/things", self.path))
    }

    /// Thing `uid` of this category.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let t = api.space("acme").category("Sensors").thing("boiler-3");
    /// # }
    /// ```
    pub fn thing(&self, uid: &str) -> ThingRef {
        self.things().thing(uid)
    }
}
