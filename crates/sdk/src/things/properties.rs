//! Property values: `.../things/{t}/properties[/{p}]`.

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::{Body, Request, ThingsApi, segment};
use super::error::{Result, ThingsError};
use super::models::{PropertyValues, UpdateHistory};
use super::response::Response;

fn history_param(history: UpdateHistory) -> Vec<(String, String)> {
    match history {
        UpdateHistory::Yes => Vec::new(),
        UpdateHistory::No => vec![("update_history".into(), "false".into())],
    }
}

/// The property values of a thing.
///
/// ```no_run
/// use thingstead::things::UpdateHistory;
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let props = api.space("acme").thing("boiler-3").properties();
/// let mut values = serde_json::Map::new();
/// values.insert("temperature".into(), 21.5.into());
/// props.update(values, UpdateHistory::No).await?;
/// println!("{:?}", props.get().await?.value);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Properties {
    api: ThingsApi,
    path: String,
}

impl Properties {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// Every current value.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let values = api.space("acme").thing("boiler-3").properties().get().await?.into_inner();
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<PropertyValues>> {
        self.api.call(&Request::new(Method::GET, &self.path)).await
    }

    /// Writes several values at once (each checked against its property's
    /// schema), recorded in the history unless `history` is
    /// [`UpdateHistory::No`]. Returns the values written.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let mut values = serde_json::Map::new();
    /// values.insert("label".into(), "hall".into());
    /// api.space("acme").thing("boiler-3").properties().update(values, Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, values: Map<String, Value>, history: UpdateHistory) -> Result<Response<PropertyValues>> {
        let request = Request::new(Method::PUT, &self.path)
            .query(history_param(history))
            .body(Body::json(&values)?);
        self.api.call(&request).await
    }

    /// Property `name`.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let t = api.space("acme").thing("boiler-3").properties().property("temperature");
    /// # }
    /// ```
    pub fn property(&self, name: &str) -> PropertyRef {
        PropertyRef {
            api: self.api.clone(),
            path: format!("{}/{}", self.path, segment(name)),
            name: name.to_owned(),
        }
    }
}

/// One property's value.
///
/// ```no_run
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let t = api.space("acme").thing("boiler-3").property("temperature");
/// t.update(17.3).await?;
/// assert_eq!(t.get().await?.value, 17.3);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PropertyRef {
    api: ThingsApi,
    path: String,
    name: String,
}

impl PropertyRef {
    /// The current value (`Null` when it has none).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let v = api.space("acme").thing("boiler-3").property("temperature").get().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<Response<Value>> {
        let r = self
            .api
            .call::<PropertyValues>(&Request::new(Method::GET, &self.path))
            .await?;
        self.unwrap(r)
    }

    /// Writes the value, recorded in the history. Returns the value written.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").property("temperature").update(17.3).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, value: impl Into<Value>) -> Result<Response<Value>> {
        self.update_with(value, UpdateHistory::Yes).await
    }

    /// Writes the value; `history` says whether it is recorded.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").thing("boiler-3").property("label").update_with("hall", thingstead::things::UpdateHistory::No).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_with(&self, value: impl Into<Value>, history: UpdateHistory) -> Result<Response<Value>> {
        let mut body = Map::new();
        body.insert(self.name.clone(), value.into());
        let request = Request::new(Method::PUT, &self.path)
            .query(history_param(history))
            .body(Body::json(&body)?);
        let r = self.api.call::<PropertyValues>(&request).await?;
        self.unwrap(r)
    }

    /// The value of `{name: value}`.
    fn unwrap(&self, r: Response<PropertyValues>) -> Result<Response<Value>> {
        let (mut values, raw) = r.into_parts();
        match values.remove(&self.name) {
            Some(v) => Ok(Response::new(v, raw)),
            None => Err(ThingsError::decode(
                format!("the body has no member {:?}", self.name),
                raw,
            )),
        }
    }
}
