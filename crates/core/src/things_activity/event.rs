//! Events a thing emitted (WIRE.md A.3: `.../things/{t}/events/{e}/{id}`):
//! a name, any JSON `data` and the time it happened. Events are kept
//! until deleted or until their space's retention removes them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{new_key, value_json};
use crate::CoreError;

/// An event of a thing, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThingEvent {
    /// Its id (a uuid): the last segment of its `href`.
    pub id: String,
    /// Its position in the store's order (lists run newest first, by
    /// descending `seq`); the key of list cursors.
    pub seq: i64,
    /// The uid of the thing.
    pub thing: String,
    /// The event's name (an affordance of the thing's TD).
    pub name: String,
    /// What it carries (any JSON; `null` when nothing).
    pub data: Value,
    /// When it happened (epoch ms): `timestamp`.
    pub timestamp: i64,
}

/// An event about to be stored: checked, with a fresh id.
#[derive(Debug, Clone)]
pub struct NewThingEvent {
    pub(crate) id: String,
    pub(crate) thing: String,
    pub(crate) name: String,
    /// `data` as compact JSON.
    pub(crate) data: String,
    pub(crate) at: i64,
}

impl NewThingEvent {
    /// Event `name` of thing `thing` with `data` (`None`: `null`),
    /// happening now. Checks the bounds of the [module](super).
    pub fn new(thing: &str, name: &str, data: Option<Value>) -> Result<Self, CoreError> {
        let (id, thing, name) = new_key("event", thing, name)?;
        let data = value_json("data", &data.unwrap_or(Value::Null))?;
        Ok(Self {
            id,
            thing,
            name,
            data,
            at: crate::now_ms(),
        })
    }

    /// The same event, having happened at `ms` (epoch milliseconds)
    /// instead of now: an event a device reports late, or an import.
    pub fn at(mut self, ms: i64) -> Self {
        self.at = ms;
        self
    }

    /// The id it will be stored under.
    pub fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_events_are_checked() {
        let e = NewThingEvent::new("t1", "overheated", None).unwrap();
        assert_eq!(e.data, "null");
        assert_eq!(NewThingEvent::new("t1", "x", None).unwrap().at(5).at, 5);
        assert!(NewThingEvent::new("t1", "bad\tname", None).is_err());
        let big = Value::String("x".repeat(super::super::MAX_VALUE_BYTES));
        assert!(NewThingEvent::new("t1", "x", Some(big)).is_err());
    }
}
