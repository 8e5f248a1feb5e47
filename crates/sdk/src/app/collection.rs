//! A collection of document resources: get, find, create, delete.

use std::marker::PhantomData;

use reqwest::Method;
use serde_json::Value;

use super::context::{Ctx, owned};
use super::document::Document;
use super::error::Result;
use super::find::FindResult;
use super::kind::Kind;

/// The resources of kind `K`, e.g. [`App::devices`](super::App::devices).
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// let devices = app.devices();
/// let created = devices.create(Some(serde_json::json!({"name": "pump"}))).await?;
/// assert!(devices.get(created.uuid()).await?.is_some());
/// devices.delete(created.uuid()).await?;
/// assert!(devices.get(created.uuid()).await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Collection<K> {
    ctx: Ctx,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kind> Collection<K> {
    pub(crate) fn new(ctx: Ctx) -> Self {
        Self { ctx, kind: PhantomData }
    }

    /// The resource with this uuid, or `None` when the server answers 404.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let maybe = app.things().get("0f8fad5b-d9cb-469f-a165-70867728950e").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, uuid: &str) -> Result<Option<Document<K>>> {
        match self.ctx.session.get_or_none(&format!("{}/{uuid}", K::BASE)).await? {
            Some(doc) => Ok(Some(Document::new(self.ctx.clone(), doc)?)),
            None => Ok(None),
        }
    }

    /// Finds by equality filters on (dotted) document paths, plus
    /// `limit`, `skip` and `sort`.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let in_zone = app.devices().find(&[("location.uuid", "L1"), ("location.zones.key", "lobby")]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn find(&self, params: &[(&str, &str)]) -> Result<FindResult<Document<K>>> {
        let answer = self
            .ctx
            .session
            .call(Method::GET, K::BASE, None, &owned(params), None)
            .await?;
        FindResult::parse(answer, |doc| Document::new(self.ctx.clone(), doc))
    }

    /// Creates a resource from `document` (no body when `None`) and returns
    /// it as stored, with its server-assigned uuid.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let experience = app.experiences().create(Some(serde_json::json!({"name": "Lobby"}))).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, document: Option<Value>) -> Result<Document<K>> {
        let answer = self
            .ctx
            .session
            .call(Method::POST, K::BASE, document.as_ref(), &[], None)
            .await?;
        Document::new(self.ctx.clone(), answer.unwrap_or(Value::Null))
    }

    /// Deletes the resource with this uuid.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// app.feeds().delete("0f8fad5b-d9cb-469f-a165-70867728950e").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, uuid: &str) -> Result<()> {
        self.ctx
            .session
            .call(Method::DELETE, &format!("{}/{uuid}", K::BASE), None, &[], None)
            .await?;
        Ok(())
    }
}
