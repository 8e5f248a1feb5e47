//! Typed serde models of the bodies (WIRE.md A.4). Unknown keys are kept in
//! `extra` where a model has one, so nothing the server sends is lost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A map of WoT affordances (`properties`, `actions`, `events` of a
/// thing): name → the affordance as JSON (`{"type": "number", ...}`).
pub type Affordances = Map<String, Value>;

/// `{name, version}` of a thing's or category's model.
///
/// ```
/// let m: thingstead::things::ModelRef = serde_json::from_str(r#"{"name":"tm","version":"1"}"#).unwrap();
/// assert_eq!(m.version.as_deref(), Some("1"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelRef {
    /// The model's name.
    pub name: String,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A link of a thing: `{href, rel}`.
///
/// ```
/// let l: thingstead::things::Link = serde_json::from_str(r#"{"href":"https://x","rel":"manual"}"#).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Link {
    /// Where it points.
    #[serde(default)]
    pub href: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rel: Option<String>,
    /// Other members (`type`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `@type`: one string or a list of strings.
///
/// ```
/// use thingstead::things::ThingType;
/// let t: ThingType = serde_json::from_str(r#"["Sensor","Device"]"#).unwrap();
/// assert_eq!(t.to_vec(), vec!["Sensor".to_string(), "Device".to_string()]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ThingType {
    /// `"Sensor"`.
    One(String),
    /// `["Sensor", "Device"]`.
    Many(Vec<String>),
}

impl ThingType {
    /// The types as a list.
    ///
    /// ```
    /// assert_eq!(thingstead::things::ThingType::One("S".into()).to_vec(), vec!["S".to_string()]);
    /// ```
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Self::One(t) => vec![t.clone()],
            Self::Many(ts) => ts.clone(),
        }
    }
}

/// A thing as the server returns it: a W3C WoT Thing Description plus the
/// platform's fields.
///
/// ```
/// let t: thingstead::things::Thing = serde_json::from_str(
///     r#"{"uid":"u1","id":"http://h/spaces/s/things/u1","created":"2026-01-01T00:00:00Z","title":"T","status":{"temperature":20}}"#,
/// ).unwrap();
/// assert_eq!(t.status["temperature"], 20);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Thing {
    /// The thing's id in its space (the path segment).
    pub uid: String,
    /// The thing's URL.
    pub id: String,
    /// A name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON-LD `@context`.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// The semantic `@type`.
    #[serde(rename = "@type", default, skip_serializing_if = "Option::is_none")]
    pub types: Option<ThingType>,
    /// Property affordances.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Affordances,
    /// Action affordances.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub actions: Affordances,
    /// Event affordances.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub events: Affordances,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// Current property values.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub status: Map<String, Value>,
    /// Names of the categories it belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When it was last modified (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Every other member (`client_id`, `forms`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of a thing to create or replace (a Thing Description without
/// the server's fields). A `serde_json::Value` works as well.
///
/// ```
/// use thingstead::things::NewThing;
/// let t = NewThing { title: Some("Boiler".into()), ..Default::default() };
/// assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::json!({"title": "Boiler"}));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NewThing {
    /// A uid to use instead of a generated one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// A name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON-LD `@context`.
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    /// The semantic `@type`.
    #[serde(rename = "@type", default, skip_serializing_if = "Option::is_none")]
    pub types: Option<ThingType>,
    /// Property affordances.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Affordances,
    /// Action affordances.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub actions: Affordances,
    /// Event affordances.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub events: Affordances,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// Category names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A category as the server returns it.
///
/// ```
/// let c: thingstead::things::Category = serde_json::from_str(r#"{"name":"Sensors","description":"d"}"#).unwrap();
/// assert_eq!(c.name, "Sensors");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Category {
    /// The name (1–26 characters of `[a-zA-Z0-9_:-]`), its id.
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When it was last modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of a category to create or replace.
///
/// ```
/// use thingstead::things::NewCategory;
/// let c = NewCategory { name: "Sensors".into(), description: Some("all sensors".into()), model: None };
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NewCategory {
    /// The name.
    pub name: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
}

/// The current values of some properties: name → value.
pub type PropertyValues = Map<String, Value>;

/// Whether a property write is appended to the property history.
///
/// ```
/// assert_eq!(thingstead::things::UpdateHistory::default(), thingstead::things::UpdateHistory::Yes);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateHistory {
    /// Record it (the server's default).
    #[default]
    Yes,
    /// Only change the current value (`update_history=false`).
    No,
}

/// One point of property history: `{at, properties}`.
///
/// ```
/// use thingstead::things::HistoryItem;
/// let item = HistoryItem::new("2026-11-28T10:00:00Z", serde_json::json!({"temperature": 21.5}));
/// assert_eq!(item.properties["temperature"], 21.5);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HistoryItem {
    /// When (RFC 3339).
    pub at: String,
    /// The values at that time.
    pub properties: Map<String, Value>,
}

impl HistoryItem {
    /// A point at `at` with `properties` (a JSON object; anything else
    /// gives no properties).
    ///
    /// ```
    /// let item = thingstead::things::HistoryItem::new("2026-01-01T00:00:00Z", serde_json::json!({"a": 1}));
    /// ```
    pub fn new(at: impl Into<String>, properties: Value) -> Self {
        Self {
            at: at.into(),
            properties: match properties {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        }
    }
}

/// One element of a multi-thing JSON Patch: the thing's uid and its RFC
/// 6902 operations.
///
/// ```
/// use thingstead::things::ThingPatch;
/// let p = ThingPatch::new("t-1", serde_json::json!([{"op": "replace", "path": "/description", "value": "x"}]));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThingPatch {
    /// The thing's uid.
    pub id: String,
    /// The RFC 6902 operations (a JSON array).
    pub patch: Value,
}

impl ThingPatch {
    /// A patch of thing `id`.
    ///
    /// ```
    /// let p = thingstead::things::ThingPatch::new("t-1", serde_json::json!([]));
    /// assert_eq!(p.id, "t-1");
    /// ```
    pub fn new(id: impl Into<String>, patch: Value) -> Self {
        Self { id: id.into(), patch }
    }
}

/// The 207 answer of a multi-thing patch: the indexes of the patches that
/// failed.
///
/// ```
/// let m: thingstead::things::PatchMultiStatus = serde_json::from_str(r#"{"has_errors":[1]}"#).unwrap();
/// assert_eq!(m.has_errors, vec![1]);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PatchMultiStatus {
    /// Indexes (in the request) of the failed patches.
    #[serde(default)]
    pub has_errors: Vec<usize>,
    /// Further results, when the server sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Value>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An e-mail sent through the space's SMTP relay.
///
/// ```
/// use thingstead::things::Email;
/// let mail = Email::to(["ops@example.com"]).subject("Overheat").text("Boiler 3 is at 97 °C");
/// assert_eq!(serde_json::to_value(&mail).unwrap()["body"]["text"], "Boiler 3 is at 97 °C");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Email {
    /// Recipients.
    pub to: Vec<String>,
    /// Copy recipients.
    pub cc: Vec<String>,
    /// Blind copy recipients.
    pub bcc: Vec<String>,
    /// The subject.
    pub subject: Option<String>,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
}

impl Email {
    /// An e-mail to `to`.
    ///
    /// ```
    /// let mail = thingstead::things::Email::to(["a@example.com"]);
    /// ```
    pub fn to<I: IntoIterator<Item = S>, S: Into<String>>(to: I) -> Self {
        Self {
            to: to.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// With a subject.
    ///
    /// ```
    /// let mail = thingstead::things::Email::to(["a@example.com"]).subject("hi");
    /// ```
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// With a plain-text body.
    ///
    /// ```
    /// let mail = thingstead::things::Email::to(["a@example.com"]).text("hello");
    /// ```
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// With an HTML body.
    ///
    /// ```
    /// let mail = thingstead::things::Email::to(["a@example.com"]).html("<b>hello</b>");
    /// ```
    #[must_use]
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }
}

impl Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            text: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            html: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Wire<'a> {
            to: &'a [String],
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            cc: &'a [String],
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            bcc: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            subject: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            body: Option<Body<'a>>,
        }
        let body = (self.text.is_some() || self.html.is_some()).then_some(Body {
            text: self.text.as_deref(),
            html: self.html.as_deref(),
        });
        Wire {
            to: &self.to,
            cc: &self.cc,
            bcc: &self.bcc,
            subject: self.subject.as_deref(),
            body,
        }
        .serialize(serializer)
    }
}
