//! What actions and events share: `.../things/{t}/{actions|events}[/{name}[/{id}]]`,
//! one set of handles generic over the [`ActivityKind`] ([`ActionKind`],
//! [`EventKind`]). [`Actions`](super::Actions), [`ActionRef`](super::ActionRef),
//! [`Events`](super::Events), ... are these handles for one kind.

use std::marker::PhantomData;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::activity::{ActionResponse, EventResponse};
use super::client::{Body, Request, ThingsApi, segment};
use super::error::Result;
use super::paging::Pages;
use super::query::Query;
use super::response::Response;

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ActionKind {}
    impl Sealed for super::EventKind {}
}

/// Actions or events: what their records look like and what a new one carries.
///
/// ```
/// use thingstead::things::{ActionKind, ActivityKind, EventKind};
/// assert_eq!((ActionKind::PAYLOAD, EventKind::PAYLOAD), ("input", "data"));
/// ```
pub trait ActivityKind: sealed::Sealed + std::fmt::Debug + Clone + Send + Sync + 'static {
    /// A record as the server returns it.
    type Response: DeserializeOwned + serde::Serialize + Send + 'static;
    /// The member of a new record's body holding its value (`input`, `data`).
    const PAYLOAD: &'static str;
}

/// Action requests ([`ActionResponse`]); a new one carries `input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionKind;

impl ActivityKind for ActionKind {
    type Response = ActionResponse;
    const PAYLOAD: &'static str = "input";
}

/// Event occurrences ([`EventResponse`]); a new one carries `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind;

impl ActivityKind for EventKind {
    type Response = EventResponse;
    const PAYLOAD: &'static str = "data";
}

/// A GET of `path` with `query`, as pages.
fn pages<T: DeserializeOwned>(api: &ThingsApi, path: &str, query: Query) -> Pages<T> {
    Pages::new(api.clone(), Request::new(Method::GET, path).query(query.to_params()))
}

/// Every record of one kind of a thing (all names).
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let all = api.space("acme").thing("boiler-3").actions().list().collect_all(1000).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Activities<K> {
    api: ThingsApi,
    path: String,
    kind: PhantomData<K>,
}

impl<K: ActivityKind> Activities<K> {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self {
            api,
            path,
            kind: PhantomData,
        }
    }

    /// Every record of every name, page by page, newest first.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").thing("boiler-3").events().list().first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> Pages<K::Response> {
        self.list_with(Query::new())
    }

    /// As [`list`](Activities::list), with a page size or cursor.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").thing("boiler-3").actions().list_with(thingstead::things::Query::new().limit(10)).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_with(&self, query: Query) -> Pages<K::Response> {
        pages(&self.api, &self.path, query)
    }

    /// The records of name `name` (an action or event of the thing's TD).
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let overheat = api.space("acme").thing("boiler-3").events().named("overheat");
    /// # }
    /// ```
    pub fn named(&self, name: &str) -> ActivityRef<K> {
        ActivityRef {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(name)),
            name: name.to_owned(),
            kind: PhantomData,
        }
    }
}

/// One action or event of a thing: create a record, list them.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let reboot = api.space("acme").thing("boiler-3").action("reboot");
/// let request = reboot.create(serde_json::json!({"delay": 5})).await?.into_inner();
/// assert_eq!(request.status, "pending");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ActivityRef<K> {
    api: ThingsApi,
    path: String,
    name: String,
    kind: PhantomData<K>,
}

impl<K: ActivityKind> ActivityRef<K> {
    /// Creates a record (201): requests the action with `input`, or
    /// records an occurrence of the event with `data` (`None` for none);
    /// an action starts `pending`.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let r = api.space("acme").thing("boiler-3").action("reboot").create(None).await?;
    /// println!("request {}", r.value.id);
    /// api.space("acme").thing("boiler-3").event("overheat").create(serde_json::json!(97)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, value: impl Into<Option<Value>>) -> Result<Response<K::Response>> {
        let mut body = Map::new();
        if let Some(value) = value.into() {
            body.insert(K::PAYLOAD.into(), value);
        }
        self.send(Method::POST, body).await
    }

    /// `{"<name>": body}` sent to this handle's path.
    async fn send(&self, method: Method, body: Map<String, Value>) -> Result<Response<K::Response>> {
        let body = json!({ self.name.as_str(): body });
        let request = Request::new(method, &self.path).body(Body::json(&body)?);
        self.api.call(&request).await
    }

    /// The records of this name, page by page, newest first.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let all = api.space("acme").thing("boiler-3").action("reboot").list().collect_all(100).await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> Pages<K::Response> {
        self.list_with(Query::new())
    }

    /// As [`list`](ActivityRef::list), with a page size or cursor.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let page = api.space("acme").thing("boiler-3").event("overheat").list_with(thingstead::things::Query::new().limit(5)).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_with(&self, query: Query) -> Pages<K::Response> {
        pages(&self.api, &self.path, query)
    }

    /// Record `id` of this name.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let one = api.space("acme").thing("boiler-3").action("reboot").instance("42");
    /// # }
    /// ```
    pub fn instance(&self, id: &str) -> ActivityInstance<K> {
        ActivityInstance {
            inner: ActivityRef {
                api: self.api.clone(),
                path: format!("{}/{}", self.path, segment(id)),
                name: self.name.clone(),
                kind: PhantomData,
            },
        }
    }
}

/// One record: an action request or an event occurrence.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let one = api.space("acme").thing("boiler-3").event_instance("overheat", "7");
/// println!("{:?}", one.get().await?.value.data);
/// one.delete().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ActivityInstance<K> {
    // The record's path and its name (for bodies).
    inner: ActivityRef<K>,
}

impl<K: ActivityKind> ActivityInstance<K> {
    /// The record.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let r = api.space("acme").thing("boiler-3").action_instance("reboot", "42").get().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<K::Response>> {
        let r = &self.inner;
        r.api.call(&Request::new(Method::GET, &r.path)).await
    }

    /// Deletes the record (204).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").event_instance("overheat", "7").delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<Response<()>> {
        let r = &self.inner;
        r.api.call_empty(&Request::new(Method::DELETE, &r.path)).await
    }
}

impl ActivityInstance<ActionKind> {
    /// Sets the request's status and output (`None` for none).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let one = api.space("acme").thing("boiler-3").action_instance("reboot", "42");
    /// one.update("completed", serde_json::json!({"ok": true})).await?;
    /// assert_eq!(one.get().await?.value.status, "completed");
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, status: &str, output: impl Into<Option<Value>>) -> Result<Response<ActionResponse>> {
        let mut body = Map::new();
        body.insert("status".into(), Value::String(status.to_owned()));
        if let Some(output) = output.into() {
            body.insert("output".into(), output);
        }
        self.inner.send(Method::PUT, body).await
    }
}
