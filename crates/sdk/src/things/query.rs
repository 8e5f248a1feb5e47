//! Query parameters (WIRE.md A.5): paging ([`Query`]), thing filters
//! ([`ThingQuery`], [`Op`]) and history ranges ([`HistoryQuery`]).

/// Paging of a list: page size and a cursor to start from.
///
/// ```
/// use thingstead::things::Query;
/// let q = Query::new().limit(100);
/// assert_eq!(q.to_params(), vec![("limit".to_string(), "100".to_string())]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Query {
    limit: Option<u32>,
    next_cursor: Option<String>,
    previous_cursor: Option<String>,
}

impl Query {
    /// No parameters: the server's page size (50), from the start.
    ///
    /// ```
    /// assert!(thingstead::things::Query::new().to_params().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Page size (the server allows 1 to 1000).
    ///
    /// ```
    /// let q = thingstead::things::Query::new().limit(10);
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Start at this `next_cursor` of an earlier page.
    ///
    /// ```
    /// let q = thingstead::things::Query::new().next_cursor("abc");
    /// ```
    pub fn next_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.next_cursor = Some(cursor.into());
        self
    }

    /// Fetch the page before this `previous_cursor`.
    ///
    /// ```
    /// let q = thingstead::things::Query::new().previous_cursor("abc");
    /// ```
    pub fn previous_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.previous_cursor = Some(cursor.into());
        self
    }

    /// The query string parameters.
    ///
    /// ```
    /// let p = thingstead::things::Query::new().next_cursor("c").to_params();
    /// assert_eq!(p[0].0, "next_cursor");
    /// ```
    pub fn to_params(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(l) = self.limit {
            out.push(("limit".into(), l.to_string()));
        }
        if let Some(c) = &self.next_cursor {
            out.push(("next_cursor".into(), c.clone()));
        }
        if let Some(c) = &self.previous_cursor {
            out.push(("previous_cursor".into(), c.clone()));
        }
        out
    }
}

/// A comparison of a property filter (`property:<name>=<op>:<value>`).
///
/// ```
/// assert_eq!(thingstead::things::Op::Gte.as_str(), "gte");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Neq,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// The value (a string or list) contains the operand.
    Contains,
}

impl Op {
    /// The operator's name on the wire.
    ///
    /// ```
    /// assert_eq!(thingstead::things::Op::Contains.as_str(), "contains");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Neq => "neq",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Contains => "contains",
        }
    }
}

/// Filters, sort order and paging of a thing list (or of a delete by
/// filter).
///
/// ```
/// use thingstead::things::{Op, ThingQuery};
/// let q = ThingQuery::new().property("temperature", Op::Gt, 20).sort("-status.temperature").limit(100);
/// assert!(q.to_params().contains(&("property:temperature".to_string(), "gt:20".to_string())));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ThingQuery {
    params: Vec<(String, String)>,
    paging: Query,
}

impl ThingQuery {
    /// No filter.
    ///
    /// ```
    /// assert!(thingstead::things::ThingQuery::new().is_unfiltered());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.params.push((key.to_owned(), value.into()));
        self
    }

    /// Things whose property `name` compares to `value` with `op`
    /// (numbers numerically, strings alphabetically).
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().property("label", thingstead::things::Op::Contains, "hall");
    /// ```
    pub fn property(self, name: &str, op: Op, value: impl std::fmt::Display) -> Self {
        let key = format!("property:{name}");
        self.with(&key, format!("{}:{value}", op.as_str()))
    }

    /// Things with this title.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().title("Boiler");
    /// ```
    pub fn title(self, title: impl Into<String>) -> Self {
        self.with("title", title)
    }

    /// Things of this `@type`.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().thing_type("Sensor");
    /// ```
    pub fn thing_type(self, t: impl Into<String>) -> Self {
        self.with("@type", t)
    }

    /// Things of this model name.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().model("tm");
    /// ```
    pub fn model(self, model: impl Into<String>) -> Self {
        self.with("model", model)
    }

    /// Things of this model version.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().version("1");
    /// ```
    pub fn version(self, version: impl Into<String>) -> Self {
        self.with("version", version)
    }

    /// Only these things (may be called several times: `thingID[]`).
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().thing_id("a").thing_id("b");
    /// ```
    pub fn thing_id(self, uid: impl Into<String>) -> Self {
        self.with("thingID[]", uid)
    }

    /// Things in this category (may be called several times: `category[]`).
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().category("Sensors");
    /// ```
    pub fn category(self, category: impl Into<String>) -> Self {
        self.with("category[]", category)
    }

    /// Only things in some category (`true`) or in none (`false`).
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().in_category(false);
    /// ```
    pub fn in_category(self, yes: bool) -> Self {
        self.with("in_category", if yes { "true" } else { "false" })
    }

    /// Things with a link of this `rel`.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().links_rel("manual");
    /// ```
    pub fn links_rel(self, rel: impl Into<String>) -> Self {
        self.with("links.rel", rel)
    }

    /// Things with a link to this `href`.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().links_href("https://example.com");
    /// ```
    pub fn links_href(self, href: impl Into<String>) -> Self {
        self.with("links.href", href)
    }

    /// Sort order: a comma list of (dotted) fields, `-` for descending,
    /// e.g. `-status.temperature,title`.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().sort("-created");
    /// ```
    pub fn sort(self, sort: impl Into<String>) -> Self {
        self.with("sort", sort)
    }

    /// Any other parameter, as is.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().param("title", "x");
    /// ```
    pub fn param(self, key: &str, value: impl Into<String>) -> Self {
        self.with(key, value)
    }

    /// Page size.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().limit(1000);
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.paging = self.paging.limit(limit);
        self
    }

    /// Start at this cursor.
    ///
    /// ```
    /// let q = thingstead::things::ThingQuery::new().next_cursor("c");
    /// ```
    pub fn next_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.paging = self.paging.next_cursor(cursor);
        self
    }

    /// Whether no filter is set (the server refuses a delete without one).
    ///
    /// ```
    /// assert!(!thingstead::things::ThingQuery::new().title("x").is_unfiltered());
    /// ```
    pub fn is_unfiltered(&self) -> bool {
        self.params.iter().all(|(k, _)| k == "sort")
    }

    /// The query string parameters.
    ///
    /// ```
    /// let p = thingstead::things::ThingQuery::new().title("x").limit(5).to_params();
    /// assert_eq!(p.len(), 2);
    /// ```
    pub fn to_params(&self) -> Vec<(String, String)> {
        let mut out = self.params.clone();
        out.extend(self.paging.to_params());
        out
    }
}

impl From<Query> for ThingQuery {
    fn from(paging: Query) -> Self {
        Self {
            params: Vec::new(),
            paging,
        }
    }
}

/// Which history points: a time (`at`) or a range, grouping, property
/// names (for delete) and paging.
///
/// ```
/// use thingstead::things::HistoryQuery;
/// let q = HistoryQuery::at_range("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z").group(true);
/// assert!(q.to_params().contains(&("at".to_string(), "2026-11-01T00:00:00Z|2026-11-02T00:00:00Z".to_string())));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct HistoryQuery {
    at: Option<String>,
    group: Option<bool>,
    property_names: Vec<String>,
    paging: Query,
}

impl HistoryQuery {
    /// Every point.
    ///
    /// ```
    /// assert!(thingstead::things::HistoryQuery::new().to_params().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Points at one time, or in a period given in a short form such as
    /// `2026` or `2026-11`.
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::at("2026-11");
    /// ```
    pub fn at(at: impl Into<String>) -> Self {
        Self {
            at: Some(at.into()),
            ..Self::default()
        }
    }

    /// Points from `start` to `end` (`start|end`).
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::at_range("2022", "2023");
    /// ```
    pub fn at_range(start: impl std::fmt::Display, end: impl std::fmt::Display) -> Self {
        Self::at(format!("{start}|{end}"))
    }

    /// Group the points of one time into one item.
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::new().group(true);
    /// ```
    pub fn group(mut self, group: bool) -> Self {
        self.group = Some(group);
        self
    }

    /// Only these properties (delete only: `property_name[]`).
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::new().property_name("temperature");
    /// ```
    pub fn property_name(mut self, name: impl Into<String>) -> Self {
        self.property_names.push(name.into());
        self
    }

    /// Page size.
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::new().limit(500);
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.paging = self.paging.limit(limit);
        self
    }

    /// Start at this `next_cursor` of an earlier page.
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::new().limit(10).next_cursor("abc");
    /// assert_eq!(q.to_params()[1], ("next_cursor".to_string(), "abc".to_string()));
    /// ```
    pub fn next_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.paging = self.paging.next_cursor(cursor);
        self
    }

    /// Fetch the page before this `previous_cursor` of a later page.
    ///
    /// ```
    /// let q = thingstead::things::HistoryQuery::new().group(true).previous_cursor("abc");
    /// assert_eq!(q.to_params()[1], ("previous_cursor".to_string(), "abc".to_string()));
    /// ```
    pub fn previous_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.paging = self.paging.previous_cursor(cursor);
        self
    }

    /// The query string parameters.
    ///
    /// ```
    /// let p = thingstead::things::HistoryQuery::new().group(false).to_params();
    /// assert_eq!(p, vec![("group".to_string(), "false".to_string())]);
    /// ```
    pub fn to_params(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(at) = &self.at {
            out.push(("at".into(), at.clone()));
        }
        if let Some(g) = self.group {
            out.push(("group".into(), g.to_string()));
        }
        for name in &self.property_names {
            out.push(("property_name[]".into(), name.clone()));
        }
        out.extend(self.paging.to_params());
        out
    }
}
