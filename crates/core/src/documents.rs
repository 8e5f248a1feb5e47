//! Application-platform documents (WIRE.md B.3): free-form JSON objects in
//! collections (devices, things, experiences, locations, feeds) with a
//! server-assigned `uuid`, and data items (group, key, value).
//!
//! Pure rules, no I/O: normalising a document, its size bounds, and the
//! search terms a store keeps for it. Every document is flattened into
//! `(path, text)` [`Term`]s of its scalar leaves (array indices dropped, so
//! `location.zones.key` matches any zone of the list); a find is an equality
//! on those terms, the same on every backend and served by an index.

use serde_json::{Map, Value};

use crate::CoreError;
use crate::bus::RegistryKind;

/// Largest serialized resource document (devices, things, experiences, locations, feeds).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Largest serialized data item value.
pub const MAX_DATA_VALUE_BYTES: usize = 16 * 1024 * 1024;
/// Most search terms kept per document; leaves beyond are not searchable.
pub const MAX_TERMS: usize = 1000;
/// Longest leaf text kept as a term (longer leaves are not searchable).
pub const MAX_TERM_VALUE: usize = 512;
/// Longest dotted path kept as a term, and longest filter or sort path.
pub const MAX_PATH: usize = 256;
/// Default page size of a find.
pub const DEFAULT_LIMIT: u32 = 25;
/// Largest page size of a find.
pub const MAX_LIMIT: u32 = 1000;
/// Most equality filters in one find.
pub const MAX_FILTERS: usize = 16;
/// Longest data group or key, in bytes.
pub const MAX_DATA_NAME: usize = 256;

/// A collection of resource documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// `/api/devices`: the registry's devices.
    Devices,
    /// `/api/things`.
    Things,
    /// `/api/experiences` (names unique per organization).
    Experiences,
    /// `/api/locations` (zones embedded).
    Locations,
    /// `/api/connectors/feeds`.
    Feeds,
}

impl Collection {
    /// Every collection.
    pub const ALL: [Collection; 5] = [
        Self::Devices,
        Self::Things,
        Self::Experiences,
        Self::Locations,
        Self::Feeds,
    ];

    /// The name stored in the `collection` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Devices => "devices",
            Self::Things => "things",
            Self::Experiences => "experiences",
            Self::Locations => "locations",
            Self::Feeds => "feeds",
        }
    }

    /// The registry kind its bus events carry.
    pub fn kind(self) -> RegistryKind {
        match self {
            Self::Devices => RegistryKind::Device,
            Self::Things => RegistryKind::Thing,
            Self::Experiences => RegistryKind::Experience,
            Self::Locations => RegistryKind::Location,
            Self::Feeds => RegistryKind::Feed,
        }
    }

    /// A singular noun for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Devices => "device",
            Self::Things => "thing",
            Self::Experiences => "experience",
            Self::Locations => "location",
            Self::Feeds => "feed",
        }
    }
}

/// One search term of a document: a scalar leaf at a dotted path.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Dotted path without array indices (`location.zones.key`).
    pub path: String,
    /// Canonical text: strings as they are, numbers as JSON, `true`/`false`.
    pub value: String,
    /// The leaf's value when it is a JSON number: a sort orders by it, so
    /// `9` comes before `10` (their texts would not).
    pub number: Option<f64>,
}

/// A document ready for the store: its JSON text and search terms.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// Its collection.
    pub collection: Collection,
    /// Its uuid.
    pub uuid: String,
    /// The whole document as JSON text (an object with `uuid`).
    pub body: String,
    /// Its search terms.
    pub terms: Vec<Term>,
    /// Its `name` when that is a string (a device's registry name follows it).
    pub name: Option<String>,
    /// Its name where names are unique (experiences), else `None`.
    pub unique_name: Option<String>,
}

impl NewDocument {
    /// The stored form of `doc` (an object; `uuid` is set to `uuid`).
    pub fn new(collection: Collection, uuid: &str, mut doc: Map<String, Value>) -> Result<Self, CoreError> {
        doc.insert("uuid".into(), Value::String(uuid.to_owned()));
        normalise(&mut doc);
        let unique_name = match collection {
            Collection::Experiences => match doc.get("name") {
                Some(Value::String(n)) => Some(n.clone()),
                Some(Value::Null) | None => None,
                Some(_) => return Err(CoreError::Invalid("an experience's name must be a string".into())),
            },
            _ => None,
        };
        let name = doc.get("name").and_then(Value::as_str).map(str::to_owned);
        let value = Value::Object(doc);
        let body = serde_json::to_string(&value).map_err(|e| CoreError::Internal(e.to_string()))?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(CoreError::Invalid(format!(
                "a {} document is at most {MAX_DOCUMENT_BYTES} bytes of JSON",
                collection.noun()
            )));
        }
        Ok(Self {
            collection,
            uuid: uuid.to_owned(),
            body,
            terms: terms(&value),
            name,
            unique_name,
        })
    }
}

/// `location`, `experience` (objects) and `zones` (array) are never `null`.
pub fn normalise(doc: &mut Map<String, Value>) {
    for (field, empty) in [
        ("location", Value::Object(Map::new())),
        ("experience", Value::Object(Map::new())),
        ("zones", Value::Array(Vec::new())),
    ] {
        if matches!(doc.get(field), Some(Value::Null)) {
            doc.insert(field.into(), empty);
        }
    }
}

/// The search terms of a document, bounded by [`MAX_TERMS`], [`MAX_PATH`]
/// and [`MAX_TERM_VALUE`]; duplicates are kept once.
pub fn terms(doc: &Value) -> Vec<Term> {
    let mut out = Vec::new();
    walk(doc, &mut String::new(), &mut out);
    out
}

fn walk(v: &Value, path: &mut String, out: &mut Vec<Term>) {
    if out.len() >= MAX_TERMS {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if path.len() <= MAX_PATH {
                    walk(child, path, out);
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, path, out);
            }
        }
        Value::Null => {}
        scalar => {
            if path.is_empty() {
                return;
            }
            let value = match scalar {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if value.len() > MAX_TERM_VALUE {
                return;
            }
            if !out.iter().any(|t| t.path == *path && t.value == value) {
                out.push(Term {
                    path: path.clone(),
                    value,
                    number: scalar.as_f64().filter(|n| n.is_finite()),
                });
            }
        }
    }
}

/// The search terms of a stored document's JSON text that hold a number
/// (none when the text is not JSON): for filling in the numbers of terms
/// stored before terms had them.
pub(crate) fn number_terms(body: &str) -> Vec<Term> {
    let Ok(doc) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    let mut all = terms(&doc);
    all.retain(|t| t.number.is_some());
    all
}

/// How a find orders its results: by the values at `path`, numbers by
/// value before texts (bytewise), a list by its smallest; documents
/// without the path last, whatever the direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// A dotted path.
    pub path: String,
    /// Descending (`-path`).
    pub descending: bool,
}

/// A find: equality filters on dotted paths, a page and an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentQuery {
    /// `(path, text)` pairs, all of which must match.
    pub filters: Vec<(String, String)>,
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: u32,
    /// Results skipped.
    pub skip: u64,
    /// The order; `None`: oldest first.
    pub sort: Option<Sort>,
}

impl Default for DocumentQuery {
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            limit: DEFAULT_LIMIT,
            skip: 0,
            sort: None,
        }
    }
}

impl DocumentQuery {
    /// A query from URL parameters: `limit` (default [`DEFAULT_LIMIT`], at
    /// most [`MAX_LIMIT`]), `skip`, `sort` (`path` or `-path`); every other
    /// parameter is an equality filter on that dotted path.
    pub fn from_params(params: &[(String, String)]) -> Result<Self, CoreError> {
        let mut q = Self::default();
        for (name, value) in params {
            match name.as_str() {
                "limit" => {
                    let n: u32 = value
                        .parse()
                        .map_err(|_| CoreError::Invalid(format!("limit must be 1 to {MAX_LIMIT}")))?;
                    if n == 0 || n > MAX_LIMIT {
                        return Err(CoreError::Invalid(format!("limit must be 1 to {MAX_LIMIT}")));
                    }
                    q.limit = n;
                }
                "skip" => {
                    q.skip = value
                        .parse::<u32>()
                        .map_err(|_| CoreError::Invalid("skip must be a non-negative integer".into()))?
                        .into();
                }
                "sort" => {
                    let (path, descending) = match value.strip_prefix('-') {
                        Some(p) => (p, true),
                        None => (value.as_str(), false),
                    };
                    check_path(path)?;
                    q.sort = Some(Sort {
                        path: path.to_owned(),
                        descending,
                    });
                }
                _ => {
                    check_path(name)?;
                    if q.filters.len() >= MAX_FILTERS {
                        return Err(CoreError::Invalid(format!("at most {MAX_FILTERS} filters")));
                    }
                    q.filters.push((name.clone(), value.clone()));
                }
            }
        }
        Ok(q)
    }
}

fn check_path(path: &str) -> Result<(), CoreError> {
    if path.is_empty() || path.len() > MAX_PATH {
        return Err(CoreError::Invalid(format!("a path is 1 to {MAX_PATH} bytes")));
    }
    Ok(())
}

/// A data item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DataItem {
    /// Its group.
    pub group: String,
    /// Its key within the group.
    pub key: String,
    /// Its value, a JSON object, as JSON text.
    pub value: String,
}

impl DataItem {
    /// Checks the bounds: group and key 1 to [`MAX_DATA_NAME`] bytes, value
    /// a JSON object of at most [`MAX_DATA_VALUE_BYTES`] serialized.
    pub fn new(group: &str, key: &str, value: &Value) -> Result<Self, CoreError> {
        check_data_name("group", group)?;
        check_data_name("key", key)?;
        if !value.is_object() {
            return Err(CoreError::Invalid("a data value must be a JSON object".into()));
        }
        let text = serde_json::to_string(value).map_err(|e| CoreError::Internal(e.to_string()))?;
        if text.len() > MAX_DATA_VALUE_BYTES {
            return Err(CoreError::Invalid(format!(
                "a data value is at most {MAX_DATA_VALUE_BYTES} bytes of JSON"
            )));
        }
        Ok(Self {
            group: group.to_owned(),
            key: key.to_owned(),
            value: text,
        })
    }

    /// `{"group", "key", "value"}`.
    pub fn to_json(&self) -> Value {
        let value = serde_json::from_str(&self.value).unwrap_or(Value::Object(Map::new()));
        serde_json::json!({ "group": self.group, "key": self.key, "value": value })
    }
}

/// Checks a data group or key.
pub fn check_data_name(what: &str, name: &str) -> Result<(), CoreError> {
    if name.is_empty() || name.len() > MAX_DATA_NAME {
        return Err(CoreError::Invalid(format!(
            "a data {what} is 1 to {MAX_DATA_NAME} bytes"
        )));
    }
    Ok(())
}

/// A find over data items: by group and/or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataQuery {
    /// Only this group.
    pub group: Option<String>,
    /// Only this key.
    pub key: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Results skipped.
    pub skip: u64,
}

impl DataQuery {
    /// From URL parameters `group`, `key`, `limit`, `skip` (others ignored).
    pub fn from_params(params: &[(String, String)]) -> Result<Self, CoreError> {
        let base = DocumentQuery::from_params(
            &params
                .iter()
                .filter(|(k, _)| k == "limit" || k == "skip")
                .cloned()
                .collect::<Vec<_>>(),
        )?;
        let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        Ok(Self {
            group: get("group"),
            key: get("key"),
            limit: base.limit,
            skip: base.skip,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn terms_drop_array_indices_and_keep_canonical_text() {
        let doc = json!({
            "uuid": "u1", "n": 3, "ok": true, "none": null,
            "location": {"uuid": "l1", "zones": [{"key": "a"}, {"key": "b"}]},
        });
        let t = terms(&doc);
        let has = |p: &str, v: &str| t.iter().any(|x| x.path == p && x.value == v);
        assert!(has("uuid", "u1"));
        assert!(has("n", "3"));
        assert!(has("ok", "true"));
        assert!(has("location.uuid", "l1"));
        assert!(has("location.zones.key", "a") && has("location.zones.key", "b"));
        assert!(!t.iter().any(|x| x.path == "none"));
        // Numbers keep their value for sorting; nothing else has one.
        let number = |p: &str| t.iter().find(|x| x.path == p).and_then(|x| x.number);
        assert_eq!(number("n"), Some(3.0));
        assert_eq!(number("ok"), None);
        assert_eq!(terms(&json!({"s": "10"}))[0].number, None);
        assert_eq!(terms(&json!({"f": -2.5}))[0].number, Some(-2.5));
    }

    #[test]
    fn terms_are_bounded() {
        let many: Vec<Value> = (0..5000).map(|i| json!(i)).collect();
        assert_eq!(terms(&json!({ "xs": many })).len(), MAX_TERMS);
        assert!(terms(&json!({ "long": "x".repeat(MAX_TERM_VALUE + 1) })).is_empty());
    }

    #[test]
    fn nulls_become_empty_objects_and_lists() {
        let Value::Object(doc) = json!({"location": null, "experience": null, "zones": null}) else {
            unreachable!()
        };
        let d = NewDocument::new(Collection::Devices, "u", doc).expect("doc");
        let v: Value = serde_json::from_str(&d.body).expect("json");
        assert_eq!(v["location"], json!({}));
        assert_eq!(v["experience"], json!({}));
        assert_eq!(v["zones"], json!([]));
        assert_eq!(v["uuid"], "u");
    }

    #[test]
    fn query_params_are_bounded() {
        let p = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert_eq!(DocumentQuery::from_params(&[]).expect("q").limit, DEFAULT_LIMIT);
        assert!(DocumentQuery::from_params(&p("limit", "1001")).is_err());
        assert!(DocumentQuery::from_params(&p("limit", "x")).is_err());
        let q = DocumentQuery::from_params(&p("sort", "-name")).expect("q");
        assert_eq!(
            q.sort,
            Some(Sort {
                path: "name".into(),
                descending: true
            })
        );
    }

    #[test]
    fn data_values_are_objects_within_the_bound() {
        assert!(DataItem::new("g", "k", &json!([1])).is_err());
        assert!(DataItem::new("", "k", &json!({})).is_err());
        assert!(DataItem::new("g", "k", &json!({"a": 1})).is_ok());
    }
}
