//! Things: `/spaces/{s}/things[/{t}]` (also under a category).

use reqwest::Method;
use serde::Serialize;

use super::actions::{ActionInstance, ActionRef, Actions};
use super::client::{Body, Request, ThingsApi, segment};
use super::error::{Result, ThingsError};
use super::events::{EventInstance, EventRef, Events};
use super::history::History;
use super::models::{PatchMultiStatus, Thing, ThingPatch};
use super::paging::Pages;
use super::properties::{Properties, PropertyRef};
use super::query::ThingQuery;
use super::response::Response;

/// The things of a space (or of a category).
///
/// ```no_run
/// use thingstead::things::{Op, ThingQuery};
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let things = api.space("acme").things();
/// let created = things.create(&serde_json::json!({"title": "Boiler", "properties": {"temperature": {"type": "number"}}})).await?;
/// let hot = things.list(ThingQuery::new().property("temperature", Op::Gt, 20).sort("-status.temperature")).collect_all(100).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Things {
    api: ThingsApi,
    path: String,
}

impl Things {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// Creates a thing from a Thing Description ([`NewThing`](super::NewThing),
    /// a `serde_json::Value`, or any serializable value) (201).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let t = api.space("acme").things().create(&thingstead::things::NewThing { title: Some("Boiler".into()), ..Default::default() }).await?;
    /// println!("{}", t.value.uid);
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, thing: &impl Serialize) -> Result<Response<Thing>> {
        let request = Request::new(Method::POST, &self.path).body(Body::json(thing)?);
        self.api.call(&request).await
    }

    /// The things matching `query`, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let page = api.space("acme").things().list(thingstead::things::ThingQuery::new().title("Boiler")).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self, query: ThingQuery) -> Pages<Thing> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }

    /// Applies a JSON Patch to each of several things (207: which failed).
    ///
    /// ```no_run
    /// use thingstead::things::ThingPatch;
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let ops = serde_json::json!([{"op": "replace", "path": "/description", "value": "hall"}]);
    /// let r = api.space("acme").things().patch_many(&[ThingPatch::new("a", ops.clone()), ThingPatch::new("b", ops)]).await?;
    /// assert!(r.value.has_errors.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn patch_many(&self, patches: &[ThingPatch]) -> Result<Response<PatchMultiStatus>> {
        let request = Request::new(Method::PATCH, &self.path).body(Body::json_patch(&patches)?);
        self.api.call(&request).await
    }

    /// Deletes the things matching `filter` and returns their uids. A
    /// filter is required ([`ThingsError::Config`] without one, as the
    /// server refuses to delete every thing).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let gone = api.space("acme").things().delete_matching(thingstead::things::ThingQuery::new().title("old")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_matching(&self, filter: ThingQuery) -> Result<Response<Vec<String>>> {
        if filter.is_unfiltered() {
            return Err(ThingsError::Config("deleting things needs a filter".into()));
        }
        let request = Request::new(Method::DELETE, &self.path).query(filter.to_params());
        self.api.call(&request).await
    }

    /// Thing `uid`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let t = api.space("acme").things().thing("boiler-3");
    /// # }
    /// ```
    pub fn thing(&self, uid: &str) -> ThingRef {
        ThingRef {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(uid)),
        }
    }
}

/// One thing and its properties, history, actions and events.
///
/// ```no_run
/// use thingstead::things::UpdateHistory;
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let boiler = api.space("acme").thing("boiler-3");
/// boiler.property("temperature").update(17.3).await?;
/// let values = boiler.properties().get().await?;
/// boiler.patch(&serde_json::json!([{"op": "replace", "path": "/title", "value": "Boiler 3"}])).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ThingRef {
    api: ThingsApi,
    path: String,
}

impl ThingRef {
    /// The thing.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let t = api.space("acme").thing("boiler-3").get().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<Thing>> {
        self.api.call(&Request::new(Method::GET, &self.path)).await
    }

    /// Replaces the thing's description as a whole.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let t = api.space("acme").thing("boiler-3").update(&serde_json::json!({"title": "Boiler"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, thing: &impl Serialize) -> Result<Response<Thing>> {
        let request = Request::new(Method::PUT, &self.path).body(Body::json(thing)?);
        self.api.call(&request).await
    }

    /// Applies an RFC 6902 JSON Patch (a list of operations; a
    /// `serde_json::Value` array or any serializable list).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let ops = serde_json::json!([{"op": "add", "path": "/description", "value": "in the hall"}]);
    /// let t = api.space("acme").thing("boiler-3").patch(&ops).await?;
    /// # Ok(()) }
    /// ```
    pub async fn patch(&self, ops: &impl Serialize) -> Result<Response<Thing>> {
        let request = Request::new(Method::PATCH, &self.path).body(Body::json_patch(ops)?);
        self.api.call(&request).await
    }

    /// Deletes the thing (204).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<Response<()>> {
        self.api.call_empty(&Request::new(Method::DELETE, &self.path)).await
    }

    /// The thing's property values.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let props = api.space("acme").thing("boiler-3").properties();
    /// # }
    /// ```
    pub fn properties(&self) -> Properties {
        Properties::new(self.api.clone(), format!("{}/properties", self.path))
    }

    /// Property `name`'s value.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let t = api.space("acme").thing("boiler-3").property("temperature");
    /// # }
    /// ```
    pub fn property(&self, name: &str) -> PropertyRef {
        self.properties().property(name)
    }

    /// The history of every property.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let h = api.space("acme").thing("boiler-3").history();
    /// # }
    /// ```
    pub fn history(&self) -> History {
        History::new(self.api.clone(), format!("{}/properties-history", self.path))
    }

    /// The history of property `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let h = api.space("acme").thing("boiler-3").history_of("temperature");
    /// # }
    /// ```
    pub fn history_of(&self, name: &str) -> History {
        History::new(
            self.api.clone(),
            format!("{}/properties-history/{}", self.path, segment(name)),
        )
    }

    /// Every action request of the thing.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let a = api.space("acme").thing("boiler-3").actions();
    /// # }
    /// ```
    pub fn actions(&self) -> Actions {
        Actions::new(self.api.clone(), format!("{}/actions", self.path))
    }

    /// Action `name`: request it, list its requests.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let reboot = api.space("acme").thing("boiler-3").action("reboot");
    /// # }
    /// ```
    pub fn action(&self, name: &str) -> ActionRef {
        self.actions().action(name)
    }

    /// Request `id` of action `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let one = api.space("acme").thing("boiler-3").action_instance("reboot", "42");
    /// # }
    /// ```
    pub fn action_instance(&self, name: &str, id: &str) -> ActionInstance {
        self.action(name).instance(id)
    }

    /// Every event occurrence of the thing.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let e = api.space("acme").thing("boiler-3").events();
    /// # }
    /// ```
    pub fn events(&self) -> Events {
        Events::new(self.api.clone(), format!("{}/events", self.path))
    }

    /// Event `name`: record one, list them.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let overheat = api.space("acme").thing("boiler-3").event("overheat");
    /// # }
    /// ```
    pub fn event(&self, name: &str) -> EventRef {
        self.events().event(name)
    }

    /// Occurrence `id` of event `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let one = api.space("acme").thing("boiler-3").event_instance("overheat", "7");
    /// # }
    /// ```
    pub fn event_instance(&self, name: &str, id: &str) -> EventInstance {
        self.event(name).instance(id)
    }
}
