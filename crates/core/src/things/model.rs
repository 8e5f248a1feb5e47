//! Things and categories as the core keeps them, and turning what a client
//! sends into them (WIRE.md A.3–A.4).

use serde_json::{Map, Value, json};

use super::schema::check_schema;
use crate::CoreError;
use crate::records::rfc3339;

use super::category::check_category_name;

/// The TD members a thing stores, as the things API names them. `title` is
/// kept as the document's `name`; the others under their own names.
pub const TD_FIELDS: [&str; 10] = [
    "title",
    "description",
    "@context",
    "@type",
    "properties",
    "actions",
    "events",
    "links",
    "model",
    "categories",
];

/// Members of a thing that are the server's: ignored when a client sends them.
pub const READ_ONLY_FIELDS: [&str; 6] = ["uid", "id", "created", "modified", "status", "client_id"];

/// Most property, action or event affordances of one thing (each).
pub const MAX_AFFORDANCES: usize = 1000;
/// Longest property, action or event name, in bytes.
pub const MAX_NAME: usize = 256;
/// Most categories one thing is in.
pub const MAX_THING_CATEGORIES: usize = 64;
/// Longest given thing uid.
pub const MAX_UID: usize = 64;

/// A thing as a store returns it: the `/api/things` document of uuid
/// `uuid` (its JSON text), its times, and its current property values.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredThing {
    /// The uid: the document's uuid.
    pub uuid: String,
    /// The document (JSON text).
    pub body: String,
    /// Created, epoch ms.
    pub created_at: i64,
    /// Last changed, epoch ms (property writes do not change it).
    pub updated_at: i64,
    /// Current values: `(property, JSON text)`, by name.
    pub status: Vec<(String, String)>,
}

/// A thing: a W3C WoT Thing Description with its uid, times, categories
/// and current property values (`status`).
#[derive(Debug, Clone, PartialEq)]
pub struct Thing {
    /// Its uid (the `/api/things` uuid).
    pub uid: String,
    /// Created, epoch ms.
    pub created_ms: i64,
    /// Last changed, epoch ms.
    pub modified_ms: i64,
    /// The stored document (`name` is the title).
    pub body: Map<String, Value>,
    /// Current values of the properties its TD declares.
    pub status: Map<String, Value>,
}

impl Thing {
    /// Parses a stored thing.
    pub fn from_stored(s: StoredThing) -> Result<Self, CoreError> {
        let body = match serde_json::from_str(&s.body) {
            Ok(Value::Object(m)) => m,
            _ => return Err(CoreError::Internal(format!("thing {} does not parse", s.uuid))),
        };
        let declared = body.get("properties").and_then(Value::as_object);
        let mut status = Map::new();
        for (name, text) in s.status {
            if declared.is_some_and(|p| p.contains_key(&name)) {
                let v = serde_json::from_str(&text).map_err(|e| CoreError::Internal(format!("status {name}: {e}")))?;
                status.insert(name, v);
            }
        }
        Ok(Self {
            uid: s.uuid,
            created_ms: s.created_at,
            modified_ms: s.updated_at,
            body,
            status,
        })
    }

    /// Its title (the document's `name`).
    pub fn title(&self) -> Option<&str> {
        self.body.get("name").and_then(Value::as_str)
    }

    /// Its property affordances (empty when none).
    pub fn properties(&self) -> Map<String, Value> {
        self.body
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether it declares property `name`.
    pub fn has_property(&self, name: &str) -> bool {
        self.body
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.contains_key(name))
    }

    /// The categories it is in.
    pub fn categories(&self) -> Vec<String> {
        string_list(self.body.get("categories"))
    }

    /// The thing as the things API shows it (WIRE.md A.4 Thing), with `id`
    /// (the URL of the thing, made by the face): `uid`, `id`, `created`,
    /// `modified`, the TD members it has, `status` and `categories` (always
    /// present), `client_id` when one created it.
    pub fn to_json(&self, id: &str) -> Value {
        let mut out = self.td_view();
        if let Value::Object(o) = &mut out {
            o.insert("id".into(), Value::String(id.to_owned()));
        }
        out
    }

    /// [`Thing::to_json`] without `id`: what a JSON Patch applies to.
    pub fn td_view(&self) -> Value {
        let mut o = Map::new();
        o.insert("uid".into(), Value::String(self.uid.clone()));
        o.insert("created".into(), Value::String(rfc3339::format(self.created_ms)));
        o.insert("modified".into(), Value::String(rfc3339::format(self.modified_ms)));
        for field in TD_FIELDS {
            let key = if field == "title" { "name" } else { field };
            if let Some(v) = self.body.get(key)
                && !v.is_null()
            {
                o.insert(field.into(), v.clone());
            }
        }
        o.insert("categories".into(), json!(self.categories()));
        o.insert("status".into(), Value::Object(self.status.clone()));
        if let Some(c) = self.body.get("client_id").filter(|v| v.is_string()) {
            o.insert("client_id".into(), c.clone());
        }
        Value::Object(o)
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Builds the stored document of a thing from what a client sent (a TD in
/// the things API's names; WIRE.md A.1: `null` members are absent, unknown
/// members are ignored, `field_context`/`field_type` stand for
/// `@context`/`@type`, also inside affordances, data schemas and links,
/// which are stored without their `null` members). `keep` is the document being replaced: its members
/// that are not TD members (fields the `/api/things` face stored, such as
/// `location`, and `client_id`) are kept. Returns the document and its
/// categories.
pub fn thing_document(
    input: &Value,
    keep: Option<&Map<String, Value>>,
) -> Result<(Map<String, Value>, Vec<String>), CoreError> {
    let Value::Object(input) = input else {
        return Err(CoreError::Invalid("a thing is a JSON object".into()));
    };
    let mut doc = Map::new();
    if let Some(old) = keep {
        for (k, v) in old {
            let td = k == "name" || TD_FIELDS.contains(&k.as_str()) || k == "status" || k == "uuid";
            if !td {
                doc.insert(k.clone(), v.clone());
            }
        }
    }
    // Affordances and links as a pydantic model sends them: `null`
    // members and Python field names (`field_type`) inside.
    let mut input = input.clone();
    for k in ["properties", "actions", "events", "links"] {
        if let Some(v) = input.get_mut(k) {
            normalise(v, 0);
        }
    }
    let get = |k: &str| match input.get(k) {
        Some(Value::Null) | None => None,
        Some(v) => Some(v),
    };
    let alias = |k: &str, a: &str| get(k).or_else(|| get(a));
    if let Some(t) = get("title") {
        let Value::String(t) = t else {
            return Err(CoreError::Invalid("title must be a string".into()));
        };
        if t.chars().count() > 256 {
            return Err(CoreError::Invalid("a title is at most 256 characters".into()));
        }
        doc.insert("name".into(), Value::String(t.clone()));
    }
    if let Some(d) = get("description") {
        if !d.is_string() {
            return Err(CoreError::Invalid("description must be a string".into()));
        }
        doc.insert("description".into(), d.clone());
    }
    if let Some(c) = alias("@context", "field_context") {
        if !(c.is_string() || c.is_array() || c.is_object()) {
            return Err(CoreError::Invalid(
                "@context must be a string, an array or an object".into(),
            ));
        }
        doc.insert("@context".into(), c.clone());
    }
    if let Some(t) = alias("@type", "field_type") {
        let ok = t.is_string() || t.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(CoreError::Invalid(
                "@type must be a string or an array of strings".into(),
            ));
        }
        doc.insert("@type".into(), t.clone());
    }
    if let Some(p) = get("properties") {
        let props = affordances(p, "properties")?;
        for (name, schema) in props {
            check_schema(schema, &format!("properties.{name}"), false)?;
        }
        doc.insert("properties".into(), p.clone());
    }
    if let Some(a) = get("actions") {
        for (name, action) in affordances(a, "actions")? {
            for key in ["input", "output"] {
                if let Some(s) = action.get(key).filter(|v| !v.is_null()) {
                    check_schema(s, &format!("actions.{name}.{key}"), true)?;
                }
            }
            for key in ["idempotent", "safe"] {
                if action.get(key).is_some_and(|v| !v.is_null() && !v.is_boolean()) {
                    return Err(CoreError::Invalid(format!("actions.{name}.{key} must be a boolean")));
                }
            }
        }
        doc.insert("actions".into(), a.clone());
    }
    if let Some(e) = get("events") {
        for (name, event) in affordances(e, "events")? {
            for key in ["data", "subscription", "cancellation"] {
                if let Some(s) = event.get(key).filter(|v| !v.is_null()) {
                    check_schema(s, &format!("events.{name}.{key}"), true)?;
                }
            }
        }
        doc.insert("events".into(), e.clone());
    }
    if let Some(l) = get("links") {
        let Value::Array(links) = l else {
            return Err(CoreError::Invalid("links must be an array of {href, rel}".into()));
        };
        for (i, link) in links.iter().enumerate() {
            let ok = link.get("href").is_some_and(Value::is_string)
                && link.get("rel").is_none_or(|r| r.is_string() || r.is_null());
            if !ok {
                return Err(CoreError::Invalid(format!(
                    "links[{i}] must be an object with a string href (and rel)"
                )));
            }
        }
        doc.insert("links".into(), l.clone());
    }
    if let Some(m) = get("model") {
        doc.insert("model".into(), model_json(&ThingModel::from_json(m)?));
    }
    let categories = match get("categories") {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            let mut names = Vec::new();
            for c in a {
                let Value::String(c) = c else {
                    return Err(CoreError::Invalid(
                        "categories must be an array of category names".into(),
                    ));
                };
                check_category_name(c)?;
                if !names.contains(c) {
                    names.push(c.clone());
                }
            }
            if names.len() > MAX_THING_CATEGORIES {
                return Err(CoreError::Invalid(format!(
                    "a thing is in at most {MAX_THING_CATEGORIES} categories"
                )));
            }
            names
        }
        Some(_) => {
            return Err(CoreError::Invalid(
                "categories must be an array of category names".into(),
            ));
        }
    };
    doc.insert("categories".into(), json!(categories));
    Ok((doc, categories))
}

/// Drops `null` object members and renames `field_type`/`field_context`
/// (the Python names of `@type`/`@context`) below `v`.
fn normalise(v: &mut Value, depth: usize) {
    if depth > super::schema::MAX_DEPTH + 4 {
        return;
    }
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            for (py, name) in [("field_type", "@type"), ("field_context", "@context")] {
                if let Some(x) = m.remove(py)
                    && !m.contains_key(name)
                {
                    m.insert(name.into(), x);
                }
            }
            for (k, child) in m.iter_mut() {
                // Values (`const`, `enum`) are data, not schema: left as they are.
                if k != "const" && k != "enum" {
                    normalise(child, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                normalise(item, depth + 1);
            }
        }
        _ => {}
    }
}

/// Document members the thing filters search (`title` is `name`): their
/// search terms come first, so a large TD cannot push them past
/// [`crate::documents::MAX_TERMS`].
const FILTERED: [&str; 7] = ["uuid", "name", "@type", "model", "links", "categories", "client_id"];

/// The stored form of thing document `doc` with uid `uid`: a
/// [`crate::documents::NewDocument`] whose search terms start with those
/// of the members the thing filters use.
pub fn thing_new_document(uid: &str, doc: Map<String, Value>) -> Result<crate::documents::NewDocument, CoreError> {
    use crate::documents::{Collection, MAX_TERMS, NewDocument, terms};
    let mut new = NewDocument::new(Collection::Things, uid, doc)?;
    let Ok(Value::Object(stored)) = serde_json::from_str::<Value>(&new.body) else {
        return Err(CoreError::Internal("a thing document does not parse".into()));
    };
    let (first, rest): (Map<String, Value>, Map<String, Value>) =
        stored.into_iter().partition(|(k, _)| FILTERED.contains(&k.as_str()));
    let mut all = terms(&Value::Object(first));
    for t in terms(&Value::Object(rest)) {
        if all.len() >= MAX_TERMS {
            break;
        }
        all.push(t);
    }
    new.terms = all;
    Ok(new)
}

/// An affordance map (`properties`, `actions`, `events`): names to objects.
fn affordances<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, CoreError> {
    let Value::Object(m) = v else {
        return Err(CoreError::Invalid(format!(
            "{what} must be an object of affordances by name"
        )));
    };
    if m.len() > MAX_AFFORDANCES {
        return Err(CoreError::Invalid(format!("at most {MAX_AFFORDANCES} {what}")));
    }
    for (name, a) in m {
        check_affordance_name(name)?;
        if !a.is_object() {
            return Err(CoreError::Invalid(format!("{what}.{name} must be an object")));
        }
    }
    Ok(m)
}

/// Checks a property, action or event name: 1 to [`MAX_NAME`] bytes, no
/// control characters.
pub fn check_affordance_name(name: &str) -> Result<(), CoreError> {
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(CoreError::Invalid(format!(
            "{name:?} is not a valid name: 1 to {MAX_NAME} bytes without control characters"
        )));
    }
    Ok(())
}

/// Checks a uid given on creation: 1 to [`MAX_UID`] of `[A-Za-z0-9_-]`
/// (it is a path segment of both faces).
pub fn check_uid(uid: &str) -> Result<(), CoreError> {
    let ok = !uid.is_empty()
        && uid.len() <= MAX_UID
        && uid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "uid {uid:?}: use 1 to {MAX_UID} of [A-Za-z0-9_-]"
        )))
    }
}

/// A thing model reference `{name, version}` (of a thing or a category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingModel {
    /// Its name (required).
    pub name: String,
    /// Its version.
    pub version: Option<String>,
}

impl ThingModel {
    /// Parses `{"name": str, "version": str?}`.
    pub fn from_json(v: &Value) -> Result<Self, CoreError> {
        let bad = || CoreError::Invalid("model must be an object {name, version} of strings".into());
        let Value::Object(m) = v else { return Err(bad()) };
        let name = m.get("name").and_then(Value::as_str).ok_or_else(bad)?;
        let version = match m.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad()),
        };
        if name.len() > 256 || version.as_ref().is_some_and(|v| v.len() > 256) {
            return Err(CoreError::Invalid(
                "model name and version are at most 256 bytes".into(),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            version,
        })
    }
}

pub(crate) fn model_json(m: &ThingModel) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), Value::String(m.name.clone()));
    if let Some(v) = &m.version {
        o.insert("version".into(), Value::String(v.clone()));
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_td_becomes_a_document_with_nulls_and_unknown_keys_dropped() {
        let td = json!({
            "title": "Lamp", "description": null, "field_context": "https://www.w3.org/2019/wot/td/v1",
            "field_type": ["Light"], "whatever": 1, "uid": "ignored", "status": {"x": 1},
            "properties": {"on": {"type": "boolean"}},
            "actions": {"toggle": {"input": null, "safe": false}},
            "links": [{"href": "https://x", "rel": "manual"}],
            "model": {"name": "lamp", "version": "1"},
            "categories": ["Lights", "Lights"],
        });
        let (doc, cats) = thing_document(&td, None).unwrap();
        assert_eq!(doc["name"], "Lamp");
        assert_eq!(doc["@context"], "https://www.w3.org/2019/wot/td/v1");
        assert_eq!(doc["@type"], json!(["Light"]));
        assert!(!doc.contains_key("description") && !doc.contains_key("whatever") && !doc.contains_key("uid"));
        assert!(!doc.contains_key("status"));
        assert_eq!(doc["actions"], json!({"toggle": {"safe": false}}));
        assert_eq!(cats, ["Lights"]);
    }

    #[test]
    fn a_pydantic_model_dump_is_normalised() {
        let td = json!({
            "properties": {"t": {"type": "number", "minimum": null, "field_type": "Temp", "title": null}},
            "actions": {"a": {"input": {"type": "object", "properties": {"x": {"type": "string", "unit": null}},
                                        "field_type": null}, "output": null}},
            "links": [{"href": "h", "rel": null}],
        });
        let (doc, _) = thing_document(&td, None).unwrap();
        assert_eq!(doc["properties"], json!({"t": {"type": "number", "@type": "Temp"}}));
        assert_eq!(
            doc["actions"],
            json!({"a": {"input": {"type": "object", "properties": {"x": {"type": "string"}}}}})
        );
        assert_eq!(doc["links"], json!([{"href": "h"}]));
    }

    #[test]
    fn invalid_tds_are_refused_with_a_reason() {
        let cases = [
            (json!([]), "object"),
            (json!({"title": 3}), "title"),
            (json!({"@type": [1]}), "@type"),
            (json!({"properties": {"t": {"type": "float"}}}), "properties.t.type"),
            (
                json!({"actions": {"a": {"input": {"type": "string", "format": "x"}}}}),
                "format",
            ),
            (json!({"events": {"e": {"data": 5}}}), "events.e.data"),
            (json!({"links": [{"rel": "x"}]}), "links[0]"),
            (json!({"model": {"version": "1"}}), "model"),
            (json!({"categories": ["no spaces"]}), "category name"),
        ];
        for (td, needle) in cases {
            let err = thing_document(&td, None).unwrap_err().to_string();
            assert!(err.contains(needle), "{td}: {err}");
        }
    }

    #[test]
    fn replacing_keeps_what_the_application_platform_stored() {
        let old = json!({"uuid": "u", "name": "old", "location": {"uuid": "l"}, "properties": {}});
        let (doc, _) = thing_document(&json!({"title": "new"}), old.as_object()).unwrap();
        assert_eq!(doc["name"], "new");
        assert_eq!(doc["location"], json!({"uuid": "l"}));
        assert!(!doc.contains_key("properties"));
    }
}
