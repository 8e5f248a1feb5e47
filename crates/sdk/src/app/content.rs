//! Content relations: delivery URLs with the restricted token, variants,
//! children.

use serde_json::Value;

use super::document::Document;
use super::error::Result;
use super::find::FindResult;
use super::kind::Content;
use super::relations::find;

impl Document<Content> {
    /// The `subtype`, e.g. `scala:content:file`.
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::Document<thingstead::app::Content>) { println!("{:?}", c.subtype()); }
    /// ```
    pub fn subtype(&self) -> Option<&str> {
        self.document().get("subtype").and_then(Value::as_str)
    }

    /// Where the item is delivered: for files and apps
    /// `{host}/api/delivery/{path}?_rt=...`; for url items their `url`;
    /// `None` for folders.
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::Document<thingstead::app::Content>) -> thingstead::app::Result<()> {
    /// if let Some(url) = c.get_url()? { println!("{url}"); }
    /// # Ok(()) }
    /// ```
    pub fn get_url(&self) -> Result<Option<String>> {
        match self.subtype() {
            Some("scala:content:file" | "scala:content:app") => self.delivery_url().map(Some),
            Some("scala:content:url") => Ok(self.document().get("url").and_then(Value::as_str).map(str::to_owned)),
            _ => Ok(None),
        }
    }

    fn delivery_url(&self) -> Result<String> {
        let auth = self.ctx.session.auth_now()?;
        let item_path = self.document().get("path").and_then(Value::as_str).unwrap_or_default();
        let path = format!("/api/delivery/{}", item_path.trim_start_matches('/'));
        Ok(format!(
            "{}?_rt={}",
            self.ctx.session.http.url(&path),
            auth.restricted_token.as_deref().unwrap_or_default()
        ))
    }

    /// The delivery URL of variant `name` (`...&variant=name`), for files
    /// and apps.
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::Document<thingstead::app::Content>) -> thingstead::app::Result<()> {
    /// let thumb = c.get_variant_url("320x240")?;
    /// # Ok(()) }
    /// ```
    pub fn get_variant_url(&self, name: &str) -> Result<Option<String>> {
        match self.subtype() {
            Some("scala:content:file" | "scala:content:app") => Ok(Some(format!(
                "{}&variant={}",
                self.delivery_url()?,
                super::http::quote_path(name)
            ))),
            _ => Ok(None),
        }
    }

    /// The names of the item's variants.
    ///
    /// ```no_run
    /// # fn demo(c: thingstead::app::Document<thingstead::app::Content>) { println!("{:?}", c.variants()); }
    /// ```
    pub fn variants(&self) -> Vec<String> {
        self.document()
            .get("variants")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The items inside this folder (`GET /api/content?parent={uuid}&params`).
    ///
    /// ```no_run
    /// # async fn demo(c: thingstead::app::Document<thingstead::app::Content>) -> thingstead::app::Result<()> {
    /// let children = c.get_children(&[]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_children(&self, params: &[(&str, &str)]) -> Result<FindResult<Document<Content>>> {
        let mut all = vec![("parent", self.uuid())];
        all.extend_from_slice(params);
        find(&self.ctx, &all).await
    }
}
