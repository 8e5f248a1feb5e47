//! Data items `/api/data/{group}/{key}`: JSON objects addressed by group
//! and key.

use reqwest::Method;
use serde_json::Value;

use super::channel::Channel;
use super::context::{Ctx, owned};
use super::error::{Error, Result};
use super::find::FindResult;

/// One data item.
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// let mut item = app.data().create("settings", "lobby", serde_json::json!({"volume": 3})).await?;
/// item.value["volume"] = 4.into();
/// item.save().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Data {
    /// The group.
    pub group: String,
    /// The key within the group.
    pub key: String,
    /// The value (a JSON object).
    pub value: Value,
    ctx: Ctx,
}

fn path(group: &str, key: &str) -> String {
    format!("/api/data/{group}/{key}")
}

impl Data {
    fn from_answer(ctx: &Ctx, answer: Option<Value>) -> Result<Self> {
        let answer = answer.ok_or_else(|| Error::Unexpected("a data item is not JSON".into()))?;
        let s = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(group), Some(key)) = (s("group"), s("key")) else {
            return Err(Error::Unexpected(format!(
                "a data item without group and key: {answer}"
            )));
        };
        Ok(Self {
            group,
            key,
            value: answer.get("value").cloned().unwrap_or(Value::Null),
            ctx: ctx.clone(),
        })
    }

    /// Writes the value (`PUT`) and keeps the server's copy.
    ///
    /// ```no_run
    /// # async fn demo(mut d: thingstead::app::Data) -> thingstead::app::Result<()> {
    /// d.save().await?;
    /// # Ok(()) }
    /// ```
    pub async fn save(&mut self) -> Result<()> {
        let answer = self
            .ctx
            .session
            .call(Method::PUT, &path(&self.group, &self.key), Some(&self.value), &[], None)
            .await?;
        *self = Self::from_answer(&self.ctx, answer)?;
        Ok(())
    }

    /// Reads the value again.
    ///
    /// ```no_run
    /// # async fn demo(mut d: thingstead::app::Data) -> thingstead::app::Result<()> {
    /// d.refresh().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh(&mut self) -> Result<()> {
        let answer = self
            .ctx
            .session
            .call(Method::GET, &path(&self.group, &self.key), None, &[], None)
            .await?;
        *self = Self::from_answer(&self.ctx, answer)?;
        Ok(())
    }

    /// Deletes the item.
    ///
    /// ```no_run
    /// # async fn demo(d: thingstead::app::Data) -> thingstead::app::Result<()> {
    /// d.delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<()> {
        self.ctx
            .session
            .call(Method::DELETE, &path(&self.group, &self.key), None, &[], None)
            .await?;
        Ok(())
    }

    /// The item's channel, `data:{group}:{key}`.
    ///
    /// ```no_run
    /// # fn demo(d: thingstead::app::Data) -> thingstead::app::Result<()> {
    /// let updates = d.get_channel(false, true)?;
    /// # Ok(()) }
    /// ```
    pub fn get_channel(&self, consumer: bool, system: bool) -> Result<Channel> {
        self.ctx
            .channel(&format!("data:{}:{}", self.group, self.key), consumer, system)
    }
}

/// The data items of the organization ([`App::data`](super::App::data)).
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// let settings = app.data().find(&[("group", "settings")]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DataCollection {
    ctx: Ctx,
}

impl DataCollection {
    pub(crate) fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }

    /// The item, or `None` when the server answers 404.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let item = app.data().get("settings", "lobby").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, group: &str, key: &str) -> Result<Option<Data>> {
        match self.ctx.session.get_or_none(&path(group, key)).await? {
            Some(v) => Ok(Some(Data::from_answer(&self.ctx, Some(v))?)),
            None => Ok(None),
        }
    }

    /// Finds items (e.g. `group`).
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// let all = app.data().find(&[]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn find(&self, params: &[(&str, &str)]) -> Result<FindResult<Data>> {
        let answer = self
            .ctx
            .session
            .call(Method::GET, "/api/data", None, &owned(params), None)
            .await?;
        FindResult::parse(answer, |v| Data::from_answer(&self.ctx, Some(v)))
    }

    /// Creates or overwrites an item; `value` must be a JSON object.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// app.data().create("settings", "lobby", serde_json::json!({"volume": 3})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, group: &str, key: &str, value: Value) -> Result<Data> {
        let answer = self
            .ctx
            .session
            .call(Method::PUT, &path(group, key), Some(&value), &[], None)
            .await?;
        Data::from_answer(&self.ctx, answer)
    }

    /// Deletes an item.
    ///
    /// ```no_run
    /// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
    /// app.data().delete("settings", "lobby").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, group: &str, key: &str) -> Result<()> {
        self.ctx
            .session
            .call(Method::DELETE, &path(group, key), None, &[], None)
            .await?;
        Ok(())
    }
}
