//! Relations between resources (WIRE.md B.3): device → location, zones,
//! experience; experience → devices; location → devices, things, zones,
//! layout URL; feed → data. Content relations are in [`super::content`].

use reqwest::Method;
use serde_json::Value;

use super::context::{Ctx, owned};
use super::document::Document;
use super::error::{Error, Result};
use super::find::FindResult;
use super::kind::{Device, Experience, Feed, Kind, Location, Thing};
use super::zone::Zone;

/// `GET K::BASE?params` as a find.
pub(crate) async fn find<K: Kind>(ctx: &Ctx, params: &[(&str, &str)]) -> Result<FindResult<Document<K>>> {
    let answer = ctx
        .session
        .call(Method::GET, K::BASE, None, &owned(params), None)
        .await?;
    FindResult::parse(answer, |doc| Document::new(ctx.clone(), doc))
}

/// `GET K::BASE/uuid`, `None` on 404.
async fn get<K: Kind>(ctx: &Ctx, uuid: Option<&str>) -> Result<Option<Document<K>>> {
    let Some(uuid) = uuid else { return Ok(None) };
    match ctx.session.get_or_none(&format!("{}/{uuid}", K::BASE)).await? {
        Some(doc) => Ok(Some(Document::new(ctx.clone(), doc)?)),
        None => Ok(None),
    }
}

/// The zones of `location` whose keys `located` lists in `location.zones`.
async fn zones_of<K: Kind>(located: &Document<K>) -> Result<Vec<Zone>> {
    let keys: Vec<&str> = located
        .document()
        .get("location")
        .and_then(|l| l.get("zones"))
        .and_then(Value::as_array)
        .map(|zs| zs.iter().filter_map(|z| z.get("key").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let Some(location) = get::<Location>(&located.ctx, located.nested_str("location", "uuid")).await? else {
        return Ok(Vec::new());
    };
    Ok(location
        .get_zones()
        .into_iter()
        .filter(|z| keys.contains(&z.key()))
        .collect())
}

impl Document<Device> {
    /// The device's location (`location.uuid`), `None` when it has none.
    ///
    /// ```no_run
    /// # async fn demo(d: thingstead::app::Document<thingstead::app::Device>) -> thingstead::app::Result<()> {
    /// if let Some(location) = d.get_location().await? { println!("{:?}", location.name()); }
    /// # Ok(()) }
    /// ```
    pub async fn get_location(&self) -> Result<Option<Document<Location>>> {
        get(&self.ctx, self.nested_str("location", "uuid")).await
    }

    /// The zones of its location listed in `location.zones`.
    ///
    /// ```no_run
    /// # async fn demo(d: thingstead::app::Document<thingstead::app::Device>) -> thingstead::app::Result<()> {
    /// let zones = d.get_zones().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_zones(&self) -> Result<Vec<Zone>> {
        zones_of(self).await
    }

    /// The device's experience (`experience.uuid`).
    ///
    /// ```no_run
    /// # async fn demo(d: thingstead::app::Document<thingstead::app::Device>) -> thingstead::app::Result<()> {
    /// let experience = d.get_experience().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_experience(&self) -> Result<Option<Document<Experience>>> {
        get(&self.ctx, self.nested_str("experience", "uuid")).await
    }
}

impl Document<Thing> {
    /// The thing's location.
    ///
    /// ```no_run
    /// # async fn demo(t: thingstead::app::Document<thingstead::app::Thing>) -> thingstead::app::Result<()> {
    /// let location = t.get_location().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_location(&self) -> Result<Option<Document<Location>>> {
        get(&self.ctx, self.nested_str("location", "uuid")).await
    }

    /// The zones of its location listed in `location.zones`.
    ///
    /// ```no_run
    /// # async fn demo(t: thingstead::app::Document<thingstead::app::Thing>) -> thingstead::app::Result<()> {
    /// let zones = t.get_zones().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_zones(&self) -> Result<Vec<Zone>> {
        zones_of(self).await
    }
}

impl Document<Experience> {
    /// Devices whose `experience.uuid` is this experience.
    ///
    /// ```no_run
    /// # async fn demo(e: thingstead::app::Document<thingstead::app::Experience>) -> thingstead::app::Result<()> {
    /// let devices = e.get_devices().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_devices(&self) -> Result<FindResult<Document<Device>>> {
        find(&self.ctx, &[("experience.uuid", self.uuid())]).await
    }
}

impl Document<Location> {
    /// Devices whose `location.uuid` is this location.
    ///
    /// ```no_run
    /// # async fn demo(l: thingstead::app::Document<thingstead::app::Location>) -> thingstead::app::Result<()> {
    /// let devices = l.get_devices().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_devices(&self) -> Result<FindResult<Document<Device>>> {
        find(&self.ctx, &[("location.uuid", self.uuid())]).await
    }

    /// Things whose `location.uuid` is this location.
    ///
    /// ```no_run
    /// # async fn demo(l: thingstead::app::Document<thingstead::app::Location>) -> thingstead::app::Result<()> {
    /// let things = l.get_things().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_things(&self) -> Result<FindResult<Document<Thing>>> {
        find(&self.ctx, &[("location.uuid", self.uuid())]).await
    }

    /// The location's zones (its `zones` array).
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::Document<thingstead::app::Location>) {
    /// for z in l.get_zones() { println!("{}", z.key()); }
    /// # }
    /// ```
    pub fn get_zones(&self) -> Vec<Zone> {
        self.document()
            .get("zones")
            .and_then(Value::as_array)
            .map(|zs| zs.iter().map(|z| Zone::new(self.clone(), z.clone())).collect())
            .unwrap_or_default()
    }

    /// The absolute URL of the layout image, with the restricted token:
    /// `{host}/api/locations/{uuid}/layout?_rt=...`.
    ///
    /// ```no_run
    /// # fn demo(l: thingstead::app::Document<thingstead::app::Location>) -> thingstead::app::Result<()> {
    /// println!("{}", l.get_layout_url()?);
    /// # Ok(()) }
    /// ```
    pub fn get_layout_url(&self) -> Result<String> {
        let auth = self.ctx.session.auth_now()?;
        let rt = auth.restricted_token.as_deref().unwrap_or_default();
        let path = format!("/api/locations/{}/layout", self.uuid());
        Ok(format!("{}?_rt={rt}", self.ctx.session.http.url(&path)))
    }
}

impl Document<Feed> {
    /// The feed's data (`GET .../feeds/{uuid}/data?params`).
    ///
    /// ```no_run
    /// # async fn demo(f: thingstead::app::Document<thingstead::app::Feed>) -> thingstead::app::Result<()> {
    /// let data = f.get_data(&[("searchValue", "rain")]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_data(&self, params: &[(&str, &str)]) -> Result<Value> {
        let path = format!("{}/{}/data", Feed::BASE, self.uuid());
        let answer = self
            .ctx
            .session
            .call(Method::GET, &path, None, &owned(params), None)
            .await?;
        answer.ok_or_else(|| Error::Unexpected("feed data is not JSON".into()))
    }
}
