//! Actions: `.../things/{t}/actions[/{a}[/{id}]]`.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::activity::ActionResponse;
use super::client::{Body, Request, ThingsApi, segment};
use super::error::Result;
use super::paging::Pages;
use super::query::Query;
use super::response::Response;

/// Every action request of a thing.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let all = api.space("acme").thing("boiler-3").actions().list().collect_all(1000).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Actions {
    api: ThingsApi,
    path: String,
}

impl Actions {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// Every request of every action, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").thing("boiler-3").actions().list().first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> Pages<ActionResponse> {
        self.list_with(Query::new())
    }

    /// As [`list`](Actions::list), with a page size or cursor.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let first = api.space("acme").thing("boiler-3").actions().list_with(thingstead::things::Query::new().limit(10)).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_with(&self, query: Query) -> Pages<ActionResponse> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }

    /// Action `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let reboot = api.space("acme").thing("boiler-3").actions().action("reboot");
    /// # }
    /// ```
    pub fn action(&self, name: &str) -> ActionRef {
        ActionRef {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(name)),
            name: name.to_owned(),
        }
    }
}

/// One action of a thing: request it, list its requests.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let reboot = api.space("acme").thing("boiler-3").action("reboot");
/// let request = reboot.create(serde_json::json!({"delay": 5})).await?.into_inner();
/// assert_eq!(request.status, "pending");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ActionRef {
    api: ThingsApi,
    path: String,
    name: String,
}

impl ActionRef {
    /// Requests the action with `input` (`None` for none) (201, status
    /// `pending`).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let r = api.space("acme").thing("boiler-3").action("reboot").create(None).await?;
    /// println!("request {}", r.value.id);
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, input: impl Into<Option<Value>>) -> Result<Response<ActionResponse>> {
        let mut body = Map::new();
        if let Some(input) = input.into() {
            body.insert("input".into(), input);
        }
        let body = json!({ self.name.as_str(): body });
        let request = Request::new(Method::POST, &self.path).body(Body::json(&body)?);
        self.api.call(&request).await
    }

    /// The requests of this action, page by page.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let all = api.space("acme").thing("boiler-3").action("reboot").list().collect_all(100).await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> Pages<ActionResponse> {
        self.list_with(Query::new())
    }

    /// As [`list`](ActionRef::list), with a page size or cursor.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let page = api.space("acme").thing("boiler-3").action("reboot").list_with(thingstead::things::Query::new().limit(5)).first().await?;
    /// # Ok(()) }
    /// ```
    pub fn list_with(&self, query: Query) -> Pages<ActionResponse> {
        Pages::new(
            self.api.clone(),
            Request::new(Method::GET, &self.path).query(query.to_params()),
        )
    }

    /// Request `id` of this action.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let one = api.space("acme").thing("boiler-3").action("reboot").instance("42");
    /// # }
    /// ```
    pub fn instance(&self, id: &str) -> ActionInstance {
        ActionInstance {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(id)),
            name: self.name.clone(),
        }
    }
}

/// One request of an action.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let one = api.space("acme").thing("boiler-3").action_instance("reboot", "42");
/// one.update("completed", serde_json::json!({"ok": true})).await?;
/// assert_eq!(one.get().await?.value.status, "completed");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ActionInstance {
    api: ThingsApi,
    path: String,
    name: String,
}

impl ActionInstance {
    /// The request.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let r = api.space("acme").thing("boiler-3").action_instance("reboot", "42").get().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<ActionResponse>> {
        self.api.call(&Request::new(Method::GET, &self.path)).await
    }

    /// Sets its status and output (`None` for none).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").action_instance("reboot", "42").update("running", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, status: &str, output: impl Into<Option<Value>>) -> Result<Response<ActionResponse>> {
        let mut body = Map::new();
        body.insert("status".into(), Value::String(status.to_owned()));
        if let Some(output) = output.into() {
            body.insert("output".into(), output);
        }
        let body = json!({ self.name.as_str(): body });
        let request = Request::new(Method::PUT, &self.path).body(Body::json(&body)?);
        self.api.call(&request).await
    }

    /// Deletes the request (204).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").action_instance("reboot", "42").delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<Response<()>> {
        self.api.call_empty(&Request::new(Method::DELETE, &self.path)).await
    }
}
