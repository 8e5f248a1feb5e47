//! Action and event records (WIRE.md A.4): on the wire each is an object
//! with one key, the affordance's name; here a flat struct with the name
//! and the id (the last segment of `href`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One action request of a thing (`{"<name>": {href, input, status, ...}}`).
///
/// ```
/// let a: thingstead::things::ActionResponse = serde_json::from_str(
///     r#"{"reboot":{"href":"/spaces/s/things/t/actions/reboot/42","status":"pending","timeRequested":"2026-01-01T00:00:00Z"}}"#,
/// ).unwrap();
/// assert_eq!((a.name.as_str(), a.id.as_str(), a.status.as_str()), ("reboot", "42", "pending"));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActionResponse {
    /// The action's name.
    pub name: String,
    /// The request's URL (path).
    pub href: String,
    /// The request's id (the last segment of `href`).
    pub id: String,
    /// The input, if any.
    pub input: Option<Value>,
    /// The status (`pending`, `running`, `completed`, ...).
    pub status: String,
    /// When it was requested.
    pub time_requested: Option<String>,
    /// When it completed.
    pub time_completed: Option<String>,
    /// The output, if any.
    pub output: Option<Value>,
    /// Other members.
    pub extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
struct ActionWire {
    #[serde(default)]
    href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<Value>,
    #[serde(default)]
    status: String,
    #[serde(rename = "timeRequested", default, skip_serializing_if = "Option::is_none")]
    time_requested: Option<String>,
    #[serde(rename = "timeCompleted", default, skip_serializing_if = "Option::is_none")]
    time_completed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output: Option<Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// One event occurrence of a thing (`{"<name>": {href, data, timestamp}}`).
///
/// ```
/// let e: thingstead::things::EventResponse = serde_json::from_str(
///     r#"{"overheat":{"href":"/spaces/s/things/t/events/overheat/7","data":{"t":97},"timestamp":"2026-01-01T00:00:00Z"}}"#,
/// ).unwrap();
/// assert_eq!(e.id, "7");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventResponse {
    /// The event's name.
    pub name: String,
    /// The occurrence's URL (path).
    pub href: String,
    /// The occurrence's id (the last segment of `href`).
    pub id: String,
    /// The event's data, if any.
    pub data: Option<Value>,
    /// When it happened.
    pub timestamp: Option<String>,
    /// Other members.
    pub extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
struct EventWire {
    #[serde(default)]
    href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// The last path segment of `href` (query and fragment ignored).
fn id_of(href: &str) -> String {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The one `(name, body)` of a one-key object.
fn single<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<(String, T), D::Error> {
    let map = Map::<String, Value>::deserialize(deserializer)?;
    if map.len() != 1 {
        return Err(D::Error::custom(format!(
            "expected an object with one key (the name), found {} keys",
            map.len()
        )));
    }
    let Some((name, body)) = map.into_iter().next() else {
        return Err(D::Error::custom("empty object"));
    };
    let body = T::deserialize(body).map_err(D::Error::custom)?;
    Ok((name, body))
}

fn one_key<S: Serializer, T: Serialize>(serializer: S, name: &str, body: &T) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(name, body)?;
    map.end()
}

impl<'de> Deserialize<'de> for ActionResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (name, w) = single::<D, ActionWire>(deserializer)?;
        Ok(Self {
            name,
            id: id_of(&w.href),
            href: w.href,
            input: w.input,
            status: w.status,
            time_requested: w.time_requested,
            time_completed: w.time_completed,
            output: w.output,
            extra: w.extra,
        })
    }
}

impl Serialize for ActionResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let w = ActionWire {
            href: self.href.clone(),
            input: self.input.clone(),
            status: self.status.clone(),
            time_requested: self.time_requested.clone(),
            time_completed: self.time_completed.clone(),
            output: self.output.clone(),
            extra: self.extra.clone(),
        };
        one_key(serializer, &self.name, &w)
    }
}

impl<'de> Deserialize<'de> for EventResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (name, w) = single::<D, EventWire>(deserializer)?;
        Ok(Self {
            name,
            id: id_of(&w.href),
            href: w.href,
            data: w.data,
            timestamp: w.timestamp,
            extra: w.extra,
        })
    }
}

impl Serialize for EventResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let w = EventWire {
            href: self.href.clone(),
            data: self.data.clone(),
            timestamp: self.timestamp.clone(),
            extra: self.extra.clone(),
        };
        one_key(serializer, &self.name, &w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_last_segment_of_href_and_the_shape_round_trips() {
        let wire = serde_json::json!({"reboot": {"href": "http://h/spaces/s/things/t/actions/reboot/ab-12?x=1", "input": {"delay": 5}, "status": "completed", "timeRequested": "2026-01-01T00:00:00Z", "timeCompleted": "2026-01-01T00:00:01Z", "output": true}});
        let a: ActionResponse = serde_json::from_value(wire).expect("action");
        assert_eq!(a.id, "ab-12");
        assert_eq!(a.output, Some(Value::Bool(true)));
        let back = serde_json::to_value(&a).expect("serialize");
        assert_eq!(back["reboot"]["timeCompleted"], "2026-01-01T00:00:01Z");
        assert!(serde_json::from_str::<ActionResponse>(r#"{"a":{},"b":{}}"#).is_err());
        let e: EventResponse = serde_json::from_str(r#"{"overheat":{"href":"/e/9/","timestamp":"t"}}"#).expect("event");
        assert_eq!((e.name.as_str(), e.id.as_str()), ("overheat", "9"));
    }
}
