//! Property history: points `{at, properties}` and the queries over them.

use serde_json::{Map, Value};

use super::cursor::{self, DEFAULT_LIMIT, KeyKind, KeyValue, parse_bool, parse_limit};
use super::time::{AtRange, instant_from_json};
use crate::CoreError;
use crate::paging::{CursorPage, Direction};
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

/// A page of history as the store serves it: rows ordered by `at`, then
/// property, whichever way the page was read.
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
    /// The cursor's `(at, property)` (with `group`, only its `at` counts):
    /// the page starts after it, or with [`Direction::Previous`] ends
    /// before it.
    pub after: Option<(i64, String)>,
    /// Which way the cursor pages (`None`: the first page).
    pub direction: Option<Direction>,
}

/// Where a store's history read runs, worked out once for every backend
/// from a [`HistorySpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryWindow {
    /// Lowest `at` (inclusive), the range's start clipped by a forward cursor.
    pub start: i64,
    /// Highest `at` (inclusive), the range's end clipped by a backward cursor.
    pub end: i64,
    /// The cursor's instant (an extreme without a cursor).
    pub at: i64,
    /// The cursor's property (empty without one, and for grouped pages).
    pub name: String,
    /// `>` reading forward, `<` reading backward (from a `previous_cursor`).
    pub op: &'static str,
    /// `ASC` forward, `DESC` backward: the read runs away from the cursor,
    /// and the store turns backward reads round before it answers.
    pub order: &'static str,
}

impl HistorySpec {
    /// Whether the page is read backward, toward older points.
    pub fn backward(&self) -> bool {
        self.direction == Some(Direction::Previous) && self.after.is_some()
    }

    /// The bounds, cursor and direction of the read.
    pub fn window(&self) -> HistoryWindow {
        let (start, end) = self.range.bounds();
        let (at, name) = match &self.after {
            Some((at, name)) => (*at, if self.group { String::new() } else { name.clone() }),
            None => (i64::MIN, String::new()),
        };
        // The cursor is also a bound of the range, so the index range
        // starts (or ends) there; grouped pages skip the cursor's instant.
        let step = i64::from(self.group);
        if self.backward() {
            HistoryWindow {
                start,
                end: end.min(at.saturating_sub(step)),
                at,
                name,
                op: "<",
                order: "DESC",
            }
        } else {
            HistoryWindow {
                start: start.max(at.saturating_add(step)),
                end,
                at,
                name,
                op: ">",
                order: "ASC",
            }
        }
    }
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
    /// `next_cursor` or `previous_cursor`, decoded.
    pub after: Option<(i64, String)>,
    /// Which of the two cursors it was (`None`: the first page).
    pub direction: Option<Direction>,
}

impl Default for HistoryQuery {
    fn default() -> Self {
        Self {
            range: AtRange::ALL,
            group: false,
            limit: DEFAULT_LIMIT,
            after: None,
            direction: None,
        }
    }
}

impl HistoryQuery {
    /// Parses `at`, `group`, `limit`, `next_cursor` or `previous_cursor`
    /// (both is invalid; others ignored).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, CoreError> {
        let mut q = Self::default();
        let mut cursor = None;
        for (k, v) in pairs {
            match k.as_str() {
                "at" => q.range = AtRange::parse(v)?,
                "group" => q.group = parse_bool(k, v)?,
                "limit" => q.limit = parse_limit(v)?,
                "next_cursor" | "previous_cursor" => {
                    if let Some(c) = cursor::paging_pair(&mut q.direction, k, v)? {
                        cursor = Some(c);
                    }
                }
                _ => {}
            }
        }
        if let Some(c) = cursor {
            let values = cursor::decode(cursor::HISTORY, &c, &[KeyKind::Int, KeyKind::Text])?;
            q.after = match values.as_slice() {
                [KeyValue::Int(at), KeyValue::Text(name)] => Some((*at, name.clone())),
                _ => return Err(cursor::malformed()),
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

/// A page of history: its items, oldest first, and the cursors of the
/// pages around it (`next_cursor` `None` on the last page,
/// `previous_cursor` `None` on the first).
pub type HistoryPage = CursorPage<HistoryPoint>;

/// Builds the page asked for by `query` from the rows a store returned
/// (in list order, whichever way they were read); `more` says whether
/// another item follows them in the direction read.
pub(crate) fn page(rows: Vec<HistoryRow>, more: bool, query: &HistoryQuery) -> Result<HistoryPage, CoreError> {
    let group = query.group;
    let mut items: Vec<(HistoryPoint, Vec<KeyValue>)> = Vec::new();
    for r in rows {
        let v: Value =
            serde_json::from_str(&r.value).map_err(|e| CoreError::Internal(format!("history value: {e}")))?;
        match items.last_mut() {
            Some((last, _)) if group && last.at == r.at => {
                last.properties.insert(r.name, v);
            }
            _ => {
                let name = if group { String::new() } else { r.name.clone() };
                let mut properties = Map::new();
                properties.insert(r.name, v);
                items.push((
                    HistoryPoint { at: r.at, properties },
                    vec![KeyValue::Int(r.at), KeyValue::Text(name)],
                ));
            }
        }
    }
    let direction = query.direction.filter(|_| query.after.is_some());
    if direction == Some(Direction::Previous) {
        // CursorPage takes a backward read nearest the cursor first.
        items.reverse();
    }
    Ok(CursorPage::from_keyed(items, more, direction, cursor::HISTORY))
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
