//! Zones: entries of a location's `zones` array, edited through their
//! location.

use serde_json::Value;

use super::channel::Channel;
use super::document::Document;
use super::error::{Error, Result};
use super::find::FindResult;
use super::kind::{Device, Location, Thing};

/// A zone of a location: `{key, name, ...}`.
///
/// ```no_run
/// # async fn demo(location: thingstead::app::Document<thingstead::app::Location>) -> thingstead::app::Result<()> {
/// for zone in location.get_zones() {
///     println!("{} has {} devices", zone.key(), zone.get_devices().await?.total);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Zone {
    location: Document<Location>,
    doc: Value,
}

impl Zone {
    pub(crate) fn new(location: Document<Location>, doc: Value) -> Self {
        Self { location, doc }
    }

    /// The zone's key.
    ///
    /// ```no_run
    /// # fn demo(z: thingstead::app::Zone) { println!("{}", z.key()); }
    /// ```
    pub fn key(&self) -> &str {
        self.doc.get("key").and_then(Value::as_str).unwrap_or_default()
    }

    /// The zone's name.
    ///
    /// ```no_run
    /// # fn demo(z: thingstead::app::Zone) { println!("{:?}", z.name()); }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.doc.get("name").and_then(Value::as_str)
    }

    /// The zone's JSON.
    ///
    /// ```no_run
    /// # fn demo(z: thingstead::app::Zone) { println!("{}", z.document()); }
    /// ```
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The zone's JSON, to edit before [`Zone::save`].
    ///
    /// ```no_run
    /// # fn demo(mut z: thingstead::app::Zone) { z.document_mut()["name"] = "Hall".into(); }
    /// ```
    pub fn document_mut(&mut self) -> &mut Value {
        &mut self.doc
    }

    /// The location the zone belongs to (as it was read).
    ///
    /// ```no_run
    /// # fn demo(z: thingstead::app::Zone) { println!("{}", z.get_location().uuid()); }
    /// ```
    pub fn get_location(&self) -> &Document<Location> {
        &self.location
    }

    /// Devices in this zone (`location.uuid` and `location.zones.key`).
    ///
    /// ```no_run
    /// # async fn demo(z: thingstead::app::Zone) -> thingstead::app::Result<()> {
    /// let devices = z.get_devices().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_devices(&self) -> Result<FindResult<Document<Device>>> {
        let params = [
            ("location.uuid", self.location.uuid()),
            ("location.zones.key", self.key()),
        ];
        super::relations::find::<Device>(&self.location.ctx, &params).await
    }

    /// Things in this zone.
    ///
    /// ```no_run
    /// # async fn demo(z: thingstead::app::Zone) -> thingstead::app::Result<()> {
    /// let things = z.get_things().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_things(&self) -> Result<FindResult<Document<Thing>>> {
        let params = [
            ("location.uuid", self.location.uuid()),
            ("location.zones.key", self.key()),
        ];
        super::relations::find::<Thing>(&self.location.ctx, &params).await
    }

    /// Saves the zone by PATCHing its location with the edited `zones`
    /// array (a zone with a new key is appended).
    ///
    /// ```no_run
    /// # async fn demo(mut z: thingstead::app::Zone) -> thingstead::app::Result<()> {
    /// z.document_mut()["name"] = "Hall".into();
    /// z.save().await?;
    /// # Ok(()) }
    /// ```
    pub async fn save(&mut self) -> Result<()> {
        let key = self.key().to_owned();
        let doc = self.location.document_mut();
        if !doc.get("zones").is_some_and(Value::is_array) {
            doc["zones"] = Value::Array(Vec::new());
        }
        let Some(zones) = doc.get_mut("zones").and_then(Value::as_array_mut) else {
            return Err(Error::Runtime("the location's zones are not an array".into()));
        };
        match zones
            .iter_mut()
            .find(|z| z.get("key").and_then(Value::as_str) == Some(key.as_str()))
        {
            Some(slot) => *slot = self.doc.clone(),
            None => zones.push(self.doc.clone()),
        }
        self.location.save().await
    }

    /// The zone's channel, `{location uuid}:zone:{key}`.
    ///
    /// ```no_run
    /// # fn demo(z: thingstead::app::Zone) -> thingstead::app::Result<()> {
    /// let channel = z.get_channel(false, false)?;
    /// # Ok(()) }
    /// ```
    pub fn get_channel(&self, consumer: bool, system: bool) -> Result<Channel> {
        let name = format!("{}:zone:{}", self.location.uuid(), self.key());
        self.location.ctx.channel(&name, consumer, system)
    }
}
