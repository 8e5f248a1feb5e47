//! Property history: points `{at, properties}` and the queries over them.

use serde_json::{Map, Value};

use super::cursor::{self, DEFAULT_LIMIT, KeyKind, KeyValue, parse_bool, parse_limit};
use super::time::{AtRange, instant_from_json};
use crate::CoreError;
use crate::records::rfc3339;

/// Most points one create takes.
pub const MAX_POINTS: usize = 1000;
/// Most values one create or one property write takes.
pub const MAX_VALUES: usize = 10_000;
/// Largest value (serialized JSON) of one property.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most bytes of values (JSON text) one property write or history create takes.
pub const MAX_CALL_BYTES: usize = 4 * 1024 * 1024;

/// A history point: values of properties at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    /// When, epoch ms.
    pub at: i64,
    /// Property values.
    pub properties: Map<String, Value>,
}

impl HistoryPoint {
    /// `{"at": RFC 3339, "properties": {...}}` (WIRE.md A.4 history item).
    pub fn to_json(&self) -> Value {
        serde_json::json!({"at": rfc3339::format(self.at), "properties": self.properties})
    }

    /// Parses one `{at, properties}` or a list of them. `at` is a date-time
    /// or Unix seconds; `properties` an object (values any JSON).
    pub fn parse_many(v: &Value) -> Result<Vec<Self>, CoreError> {
        let items = match v {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            one => vec![one],
        };
        if items.is_empty() || items.len() > MAX_POINTS {
            return Err(CoreError::Invalid(format!("1 to {MAX_POINTS} history points")));
        }
        items
            .into_iter()
            .map(|item| {
                let Value::Object(o) = item else {
                    return Err(CoreError::Invalid("a history point is {at, properties}".into()));
                };
                let at = instant_from_json(
                    o.get("at")
                        .ok_or_else(|| CoreError::Invalid("a history point needs `at`".into()))?,
                )?;
                let Some(Value::Object(properties)) = o.get("properties") else {
                    return Err(CoreError::Invalid(
                        "a history point needs `properties`, an object".into(),
                    ));
                };
                Ok(Self {
                    at,
                    properties: properties.clone(),
                })
            })
            .collect()
    }
}

/// One stored value of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// When, epoch ms.
    pub at: i64,
    /// The property.
    pub name: String,
    /// Its value, JSON text.
    pub value: String,
}

/// A page of history as the store serves it (ordered by `at`, then property).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySpec {
    /// Only these instants.
    pub range: AtRange,
    /// Only this property.
    pub property: Option<String>,
    /// Page size: rows, or with `group` instants.
    pub limit: u32,
    /// Whether a page holds `limit` instants with all their rows.
    pub group: bool,
    /// Start after this `(at, property)` (with `group`, after this `at`).
    pub after: Option<(i64, String)>,
}

/// The `update_history` query parameter of property writes: default
/// `true`; `True`/`False` in any case (Python's spelling), `1`/`0`.
pub fn update_history(pairs: &[(String, String)]) -> Result<bool, CoreError> {
    match pairs.iter().rev().find(|(k, _)| k == "update_history") {
        Some((k, v)) => parse_bool(k, v),
        None => Ok(true),
    }
}

/// A history list as a client asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuery {
    /// `at`: instant, period or range (default: all).
    pub range: AtRange,
    /// `group`: points of the same `at` become one item.
    pub group: bool,
    /// `limit` (default 50, clamped to 1000): items per page.
    pub limit: u32,
    /// `next_cursor`, decoded.
    pub after: Option<(i64, String)>,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            range: AtRange::ALL,
            group: false,
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl HistoryQuery {
    /// Parses `at`, `group`, `limit`, `next_cursor` (others ignored).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, CoreError> {
        let mut q = Self::default();
        let mut cursor = None;
        for (k, v) in pairs {
            match k.as_str() {
                "at" => q.range = AtRange::parse(v)?,
                "group" => q.group = parse_bool(k, v)?,
                "limit" => q.limit = parse_limit(v)?,
                "next_cursor" if !v.is_empty() => cursor = Some(v.clone()),
                _ => {}
            }
        }
        if let Some(c) = cursor {
            let values = cursor::decode(cursor::HISTORY, &c, &[KeyKind::Int, KeyKind::Text])?;
            q.after = match values.as_slice() {
                [KeyValue::Int(at), KeyValue::Text(name)] => Some((*at, name.clone())),
                _ => return Err(CoreError::Invalid("next_cursor is not a cursor of this list".into())),
            };
        }
        Ok(q)
    }
}

/// What a history delete removes: `at` (default: all) and
/// `property_name[]` (default: every property).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryDelete {
    /// Only these instants.
    pub range: AtRange,
    /// Only these properties (empty: all).
    pub properties: Vec<String>,
}

impl HistoryDelete {
    /// Parses `at` and `property_name[]` (or `property_name`).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, CoreError> {
        let mut d = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "at" => d.range = AtRange::parse(v)?,
                "property_name[]" | "property_name" => {
                    super::model::check_affordance_name(v)?;
                    d.properties.push(v.clone());
                }
                _ => {}
            }
        }
        Ok(d)
    }
}

/// A page of history: its items and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// The items, oldest first.
    pub items: Vec<HistoryPoint>,
    /// `paging.next_cursor`: `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Builds the page from the rows a store returned.
pub(crate) fn page(rows: Vec<HistoryRow>, more: bool, group: bool) -> Result<HistoryPage, CoreError> {
    let next_cursor = if more {
        rows.last().map(|r| {
            let name = if group { String::new() } else { r.name.clone() };
            cursor::encode(cursor::HISTORY, &[KeyValue::Int(r.at), KeyValue::Text(name)])
        })
    } else {
        None
    };
    let mut items: Vec<HistoryPoint> = Vec::new();
    for r in rows {
        let v: Value =
            serde_json::from_str(&r.value).map_err(|e| CoreError::Internal(format!("history value: {e}")))?;
        match items.last_mut() {
            Some(last) if group && last.at == r.at => {
                last.properties.insert(r.name, v);
            }
            _ => {
                let mut properties = Map::new();
                properties.insert(r.name, v);
                items.push(HistoryPoint { at: r.at, properties });
            }
        }
    }
    Ok(HistoryPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn update_history_defaults_to_true_and_reads_python_booleans() {
        assert!(update_history(&[]).unwrap());
        assert!(!update_history(&pairs(&[("update_history", "False")])).unwrap());
        assert!(update_history(&pairs(&[("update_history", "True")])).unwrap());
        assert!(update_history(&pairs(&[("update_history", "maybe")])).is_err());
    }

    #[test]
    fn points_parse_one_or_many() {
        let one = serde_json::json!({"at": "2022-01-01T00:00:00Z", "properties": {"t": 1}});
        assert_eq!(HistoryPoint::parse_many(&one).unwrap().len(), 1);
        assert_eq!(
            HistoryPoint::parse_many(&serde_json::json!([one, one])).unwrap().len(),
            2
        );
        for bad in [
            serde_json::json!([]),
            serde_json::json!({"at": "x", "properties": {}}),
            serde_json::json!({"at": 1}),
        ] {
            assert!(HistoryPoint::parse_many(&bad).is_err(), "{bad}");
        }
    }
}
