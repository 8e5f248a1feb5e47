//! Thing lists: the filters, order and page of WIRE.md A.5, parsed from
//! query pairs into a typed [`ThingQuery`].

use super::category::check_category_name;
use super::cursor::{self, DEFAULT_LIMIT, KeyKind, KeyValue, parse_bool, parse_limit};
use super::model::check_affordance_name;
use crate::CoreError;
use crate::paging::Direction;

/// Most filter values (ids, categories, property filters...) in one query.
pub const MAX_FILTER_VALUES: usize = 1000;
/// Most sort keys.
pub const MAX_SORT_KEYS: usize = 8;
/// Longest filter value or sort path, in bytes.
pub const MAX_FILTER_TEXT: usize = 512;

/// A comparison of a `property:<name>=<op>:<value>` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyOp {
    /// `eq` (the default).
    Eq,
    /// `neq`.
    Neq,
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `contains`: a string value containing the text.
    Contains,
}

/// One property filter. Numbers compare numerically (when the filter value
/// is a number and the property's current value is one; `eq`/`neq` also
/// match a string value equal to the text), other values alphabetically
/// (bytewise); `true`, `false` and `null` compare with the JSON value. A
/// thing lacking the property does not match (not even `neq`).
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyFilter {
    /// The property.
    pub name: String,
    /// The comparison.
    pub op: PropertyOp,
    /// The value as sent.
    pub text: String,
}

impl PropertyFilter {
    /// The value as a number, when it is one.
    pub fn number(&self) -> Option<f64> {
        self.text.trim().parse::<f64>().ok().filter(|f| f.is_finite())
    }

    /// The value as a JSON literal (`true`, `false`, `null`), when it is one.
    pub fn literal(&self) -> Option<&'static str> {
        match self.text.as_str() {
            "true" => Some("true"),
            "false" => Some("false"),
            "null" => Some("null"),
            _ => None,
        }
    }

    fn parse(name: &str, value: &str) -> Result<Self, CoreError> {
        check_affordance_name(name)?;
        let ops = [
            ("eq:", PropertyOp::Eq),
            ("neq:", PropertyOp::Neq),
            ("gte:", PropertyOp::Gte),
            ("gt:", PropertyOp::Gt),
            ("lte:", PropertyOp::Lte),
            ("lt:", PropertyOp::Lt),
            ("contains:", PropertyOp::Contains),
        ];
        let (op, text) = ops
            .iter()
            .find_map(|(p, op)| value.strip_prefix(p).map(|rest| (*op, rest)))
            .unwrap_or((PropertyOp::Eq, value));
        Ok(Self {
            name: name.to_owned(),
            op,
            text: text.to_owned(),
        })
    }
}

/// Which things a list or a delete selects; every member given must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThingFilter {
    /// `title`: exactly this title.
    pub title: Option<String>,
    /// `@type` (repeatable): has each of these types.
    pub types: Vec<String>,
    /// `model`: the model's name.
    pub model: Option<String>,
    /// `version`: the model's version.
    pub version: Option<String>,
    /// `thingID[]`: one of these uids.
    pub ids: Vec<String>,
    /// `category[]`: in at least one of these categories.
    pub categories: Vec<String>,
    /// `in_category`: in some category (`true`) or in none (`false`).
    pub in_category: Option<bool>,
    /// `links.rel`: has a link with this rel.
    pub link_rel: Option<String>,
    /// `links.href`: has a link to this href.
    pub link_href: Option<String>,
    /// `property:<name>=<op>:<value>`.
    pub properties: Vec<PropertyFilter>,
    /// Only things in this category (the `/categories/{c}/things` paths),
    /// on top of the other filters.
    pub within: Option<String>,
}

impl ThingFilter {
    /// Whether it selects every thing (a delete refuses that).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// This filter restricted to the things of category `name` (the
    /// `/categories/{c}/things` paths).
    pub fn within_category(mut self, name: &str) -> Self {
        self.within = Some(name.to_owned());
        self
    }

    /// The equality filters on document terms: `(path, value)`.
    pub(crate) fn terms(&self) -> Vec<(&'static str, &str)> {
        let mut t = Vec::new();
        if let Some(v) = &self.title {
            t.push(("name", v.as_str()));
        }
        for v in &self.types {
            t.push(("@type", v.as_str()));
        }
        if let Some(v) = &self.model {
            t.push(("model.name", v.as_str()));
        }
        if let Some(v) = &self.version {
            t.push(("model.version", v.as_str()));
        }
        if let Some(v) = &self.link_rel {
            t.push(("links.rel", v.as_str()));
        }
        if let Some(v) = &self.link_href {
            t.push(("links.href", v.as_str()));
        }
        if let Some(v) = &self.within {
            t.push(("categories", v.as_str()));
        }
        t
    }
}

/// A sort key of a thing list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// `created`.
    Created,
    /// `modified`.
    Modified,
    /// `uid`.
    Uid,
    /// A dotted path of the TD (`title`, `model.name`, ...): its texts,
    /// compared bytewise (its numbers are [`SortKey::PathNumber`]'s).
    Path(String),
    /// The numeric value at a dotted path of the TD (things with no number
    /// there come after, by [`SortKey::Path`]).
    PathNumber(String),
    /// The numeric current value of a property (`status.<name>`; things
    /// whose value is no number come after, by [`SortKey::StatusText`]).
    StatusNumber(String),
    /// The text current value of a property.
    StatusText(String),
}

impl SortKey {
    /// The type of its values.
    pub fn kind(&self) -> KeyKind {
        match self {
            Self::Created | Self::Modified => KeyKind::Int,
            Self::StatusNumber(_) | Self::PathNumber(_) => KeyKind::Real,
            Self::Uid | Self::Path(_) | Self::StatusText(_) => KeyKind::Text,
        }
    }
}

/// One page of a thing list: the filter, the order, the page size and
/// where the page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ThingQuery {
    /// Which things.
    pub filter: ThingFilter,
    /// The order: keys, each descending or not; ties are broken by uid.
    /// Empty: oldest first.
    pub sort: Vec<(SortKey, bool)>,
    /// Page size (1 to [`cursor::MAX_LIMIT`]).
    pub limit: u32,
    /// The sort-key values (then the uid) of the thing a cursor names:
    /// the last thing of the previous page (`next_cursor`) or the first
    /// of the next page (`previous_cursor`).
    pub after: Option<Vec<KeyValue>>,
    /// Which way the cursor pages (`None`: the first page).
    pub direction: Option<Direction>,
}

impl Default for ThingQuery {
    fn default() -> Self {
        Self {
            filter: ThingFilter::default(),
            sort: Vec::new(),
            limit: DEFAULT_LIMIT,
            after: None,
            direction: None,
        }
    }
}

fn bounded(name: &str, value: &str) -> Result<String, CoreError> {
    if value.len() > MAX_FILTER_TEXT {
        return Err(CoreError::Invalid(format!("{name} is at most {MAX_FILTER_TEXT} bytes")));
    }
    Ok(value.to_owned())
}

impl ThingQuery {
    /// Parses the query pairs of `GET`/`DELETE /things` (WIRE.md A.5):
    /// `limit` (default 50; above 1000 clamped to 1000), `next_cursor` or
    /// `previous_cursor` (both is invalid),
    /// `sort` (comma list, `-` descending; `title`, `created`, `modified`,
    /// `uid`, `status.<property>` or any dotted TD path) and the filters of
    /// [`ThingFilter`]. `thingID` and `category` work with or without `[]`.
    /// Unknown parameters are ignored.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, CoreError> {
        let mut q = Self::default();
        let mut cursor = None;
        let mut count = 0usize;
        for (name, value) in pairs {
            count += 1;
            if count > MAX_FILTER_VALUES {
                return Err(CoreError::Invalid(format!(
                    "at most {MAX_FILTER_VALUES} query parameters"
                )));
            }
            let f = &mut q.filter;
            match name.as_str() {
                "limit" => q.limit = parse_limit(value)?,
                "next_cursor" | "previous_cursor" => {
                    if let Some(c) = cursor::paging_pair(&mut q.direction, name, value)? {
                        cursor = Some(c);
                    }
                }
                "sort" => q.sort = parse_sort(value)?,
                "title" => f.title = Some(bounded(name, value)?),
                "@type" => f.types.push(bounded(name, value)?),
                "model" => f.model = Some(bounded(name, value)?),
                "version" => f.version = Some(bounded(name, value)?),
                "thingID[]" | "thingID" => f.ids.push(bounded(name, value)?),
                "category[]" | "category" => {
                    check_category_name(value)?;
                    f.categories.push(value.clone());
                }
                "in_category" => f.in_category = Some(parse_bool(name, value)?),
                "links.rel" => f.link_rel = Some(bounded(name, value)?),
                "links.href" => f.link_href = Some(bounded(name, value)?),
                other => {
                    if let Some(prop) = other.strip_prefix("property:") {
                        f.properties.push(PropertyFilter::parse(prop, &bounded(name, value)?)?);
                    }
                }
            }
        }
        if let Some(c) = cursor {
            q.after = Some(cursor::decode(cursor::THINGS, &c, &q.cursor_kinds())?);
        }
        Ok(q)
    }

    /// The order actually used: [`ThingQuery::sort`], or oldest first.
    pub fn order(&self) -> Vec<(SortKey, bool)> {
        if self.sort.is_empty() {
            vec![(SortKey::Created, false)]
        } else {
            self.sort.clone()
        }
    }

    /// The kinds of a cursor's values: the sort keys', then the uid.
    pub fn cursor_kinds(&self) -> Vec<KeyKind> {
        let mut k: Vec<KeyKind> = self.order().iter().map(|(s, _)| s.kind()).collect();
        k.push(KeyKind::Text);
        k
    }
}

/// Parses `sort`: comma-separated paths, each optionally prefixed by `-`.
pub fn parse_sort(value: &str) -> Result<Vec<(SortKey, bool)>, CoreError> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (path, desc) = match item.strip_prefix('-') {
            Some(p) => (p.trim(), true),
            None => (item.strip_prefix('+').unwrap_or(item).trim(), false),
        };
        if path.is_empty() || path.len() > MAX_FILTER_TEXT {
            return Err(CoreError::Invalid(format!(
                "sort path {path:?} is 1 to {MAX_FILTER_TEXT} bytes"
            )));
        }
        match path {
            "created" => out.push((SortKey::Created, desc)),
            "modified" => out.push((SortKey::Modified, desc)),
            "uid" | "id" => out.push((SortKey::Uid, desc)),
            "title" => out.push((SortKey::Path("name".into()), desc)),
            p => match p.strip_prefix("status.") {
                Some(prop) => {
                    check_affordance_name(prop)?;
                    out.push((SortKey::StatusNumber(prop.to_owned()), desc));
                    out.push((SortKey::StatusText(prop.to_owned()), desc));
                }
                None => {
                    out.push((SortKey::PathNumber(p.to_owned()), desc));
                    out.push((SortKey::Path(p.to_owned()), desc));
                }
            },
        }
    }
    if out.len() > MAX_SORT_KEYS {
        return Err(CoreError::Invalid(format!("at most {MAX_SORT_KEYS} sort keys")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn every_filter_of_the_wire_parses() {
        let q = ThingQuery::from_pairs(&pairs(&[
            ("title", "Lamp"),
            ("@type", "Light"),
            ("model", "m"),
            ("version", "1"),
            ("thingID[]", "a"),
            ("thingID[]", "b"),
            ("category[]", "Lights"),
            ("in_category", "True"),
            ("links.rel", "manual"),
            ("links.href", "https://x"),
            ("property:temperature", "gt:20"),
            ("property:mode", "eco"),
            ("property:name", "contains:ab"),
            ("sort", "-status.temperature,title"),
            ("limit", "5000"),
            ("unknown", "ignored"),
        ]))
        .unwrap();
        let f = &q.filter;
        assert_eq!(f.ids, ["a", "b"]);
        assert_eq!(f.in_category, Some(true));
        assert_eq!(f.properties[0].op, PropertyOp::Gt);
        assert_eq!(f.properties[0].number(), Some(20.0));
        assert_eq!(f.properties[1].op, PropertyOp::Eq);
        assert_eq!(f.properties[2].op, PropertyOp::Contains);
        assert_eq!(q.limit, 1000);
        assert_eq!(
            q.sort,
            vec![
                (SortKey::StatusNumber("temperature".into()), true),
                (SortKey::StatusText("temperature".into()), true),
                (SortKey::Path("name".into()), false)
            ]
        );
        // Any other TD path: its numbers by value first, then its texts.
        assert_eq!(
            parse_sort("properties.label.floor").unwrap(),
            vec![
                (SortKey::PathNumber("properties.label.floor".into()), false),
                (SortKey::Path("properties.label.floor".into()), false)
            ]
        );
        assert!(
            ThingQuery::from_pairs(&pairs(&[("limit", "1")]))
                .unwrap()
                .filter
                .is_empty()
        );
        assert!(ThingQuery::from_pairs(&pairs(&[("next_cursor", "garbage")])).is_err());
        assert!(ThingQuery::from_pairs(&pairs(&[("category[]", "bad name")])).is_err());
    }
}
