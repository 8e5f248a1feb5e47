//! A resource document held locally: read and edit its JSON, then
//! `save` (PATCH the whole document), `refresh`, `delete`.

use std::marker::PhantomData;

use reqwest::Method;
use serde_json::Value;

use super::channel::Channel;
use super::context::Ctx;
use super::error::{Error, Result};
use super::kind::Kind;

/// One resource of kind `K` ([`Device`](super::Device),
/// [`Location`](super::Location)...), as a JSON document.
///
/// ```no_run
/// # async fn demo(app: thingstead::app::App) -> thingstead::app::Result<()> {
/// let mut device = app.devices().create(Some(serde_json::json!({"name": "pump"}))).await?;
/// device.document_mut()["name"] = "pump 2".into();
/// device.save().await?;
/// assert_eq!(device.name(), Some("pump 2"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Document<K> {
    doc: Value,
    pub(crate) ctx: Ctx,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kind> Document<K> {
    pub(crate) fn new(ctx: Ctx, doc: Value) -> Result<Self> {
        if !doc.is_object() {
            return Err(Error::Unexpected(format!(
                "a {} document is not a JSON object",
                K::LABEL
            )));
        }
        Ok(Self {
            doc,
            ctx,
            kind: PhantomData,
        })
    }

    /// The document's `uuid` (empty when it has none).
    ///
    /// ```no_run
    /// # fn demo(d: thingstead::app::Document<thingstead::app::Device>) { println!("{}", d.uuid()); }
    /// ```
    pub fn uuid(&self) -> &str {
        self.doc.get("uuid").and_then(Value::as_str).unwrap_or_default()
    }

    /// The document's `name`.
    ///
    /// ```no_run
    /// # fn demo(d: thingstead::app::Document<thingstead::app::Device>) { println!("{:?}", d.name()); }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.doc.get("name").and_then(Value::as_str)
    }

    /// The whole document.
    ///
    /// ```no_run
    /// # fn demo(d: thingstead::app::Document<thingstead::app::Device>) { println!("{}", d.document()); }
    /// ```
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The document, to edit before [`Document::save`].
    ///
    /// ```no_run
    /// # fn demo(mut d: thingstead::app::Document<thingstead::app::Device>) { d.document_mut()["color"] = "red".into(); }
    /// ```
    pub fn document_mut(&mut self) -> &mut Value {
        &mut self.doc
    }

    /// The document, consumed.
    ///
    /// ```no_run
    /// # fn demo(d: thingstead::app::Document<thingstead::app::Device>) { let v: serde_json::Value = d.into_document(); }
    /// ```
    pub fn into_document(self) -> Value {
        self.doc
    }

    fn path(&self) -> Result<String> {
        match self.uuid() {
            "" => Err(Error::Runtime(format!("this {} has no uuid", K::LABEL))),
            uuid => Ok(format!("{}/{uuid}", K::BASE)),
        }
    }

    /// PATCHes the whole local document and replaces it with the server's.
    ///
    /// ```no_run
    /// # async fn demo(mut d: thingstead::app::Document<thingstead::app::Thing>) -> thingstead::app::Result<()> {
    /// d.save().await?;
    /// # Ok(()) }
    /// ```
    pub async fn save(&mut self) -> Result<()> {
        let path = self.path()?;
        let answer = self
            .ctx
            .session
            .call(Method::PATCH, &path, Some(&self.doc), &[], None)
            .await?;
        self.replace(answer, "PATCH")
    }

    /// Reads the document again from the server.
    ///
    /// ```no_run
    /// # async fn demo(mut d: thingstead::app::Document<thingstead::app::Thing>) -> thingstead::app::Result<()> {
    /// d.refresh().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh(&mut self) -> Result<()> {
        let path = self.path()?;
        let answer = self.ctx.session.call(Method::GET, &path, None, &[], None).await?;
        self.replace(answer, "GET")
    }

    fn replace(&mut self, answer: Option<Value>, method: &str) -> Result<()> {
        match answer {
            Some(doc @ Value::Object(_)) => {
                self.doc = doc;
                Ok(())
            }
            _ => Err(Error::Unexpected(format!(
                "{method} of a {} did not answer a document",
                K::LABEL
            ))),
        }
    }

    /// Deletes the resource on the server.
    ///
    /// ```no_run
    /// # async fn demo(d: thingstead::app::Document<thingstead::app::Thing>) -> thingstead::app::Result<()> {
    /// d.delete().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self) -> Result<()> {
        let path = self.path()?;
        self.ctx.session.call(Method::DELETE, &path, None, &[], None).await?;
        Ok(())
    }

    /// The resource's channel (named by its uuid); `system` is where the
    /// server announces `update`s.
    ///
    /// ```no_run
    /// # async fn demo(d: thingstead::app::Document<thingstead::app::Device>) -> thingstead::app::Result<()> {
    /// let updates = d.get_channel(false, true)?;
    /// # Ok(()) }
    /// ```
    pub fn get_channel(&self, consumer: bool, system: bool) -> Result<Channel> {
        self.ctx.channel(self.uuid(), consumer, system)
    }

    /// A string field of a nested object, e.g. `("location", "uuid")`.
    pub(crate) fn nested_str(&self, object: &str, field: &str) -> Option<&str> {
        self.doc
            .get(object)
            .and_then(|o| o.get(field))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}
