//! The SQL of thing lists, the same on both backends but for the
//! placeholder syntax, the collation of sorted text and the substring
//! function. Filters are `EXISTS` on `document_terms` (the TD members) and
//! on `thing_status` (current property values); the order is keyset
//! pagination on the sort keys then the uid, so a page starts strictly
//! after the last item of the previous one (no duplicates, stable under
//! inserts, always terminating). Parameter 1 is the tenant id.

use super::document_query::path_keys;
use crate::paging::Direction;
use crate::things::filters::{PropertyFilter, PropertyOp, SortKey, ThingFilter, ThingQuery};
use crate::things::{KeyKind, KeyValue};

/// A typed SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// BIGINT / INTEGER.
    Int(i64),
    /// DOUBLE PRECISION / REAL.
    Real(f64),
    /// TEXT.
    Text(String),
}

/// What differs between the backends.
pub(crate) struct Dialect {
    /// Placeholder `n` (1-based).
    pub(crate) ph: fn(usize) -> String,
    /// Appended to sorted or compared text (bytewise order).
    pub(crate) collate: &'static str,
    /// SQL that is true when text `hay` contains text `needle`.
    pub(crate) contains: fn(&str, &str) -> String,
}

/// A statement and its parameters.
pub(crate) struct Built {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

struct B<'a> {
    d: &'a Dialect,
    params: Vec<Param>,
}

impl B<'_> {
    fn p(&mut self, v: Param) -> String {
        self.params.push(v);
        (self.d.ph)(self.params.len())
    }
    fn text(&mut self, s: &str) -> String {
        self.p(Param::Text(s.to_owned()))
    }
}

const TERM: &str = "SELECT 1 FROM document_terms t WHERE t.org_id = d.org_id AND t.collection = d.collection \
                    AND t.uuid = d.uuid";
const STATUS: &str = "SELECT 1 FROM thing_status s WHERE s.org_id = d.org_id AND s.collection = d.collection \
                      AND s.uuid = d.uuid";

fn list(b: &mut B, values: &[String]) -> String {
    values.iter().map(|v| b.text(v)).collect::<Vec<_>>().join(", ")
}

fn filter_sql(b: &mut B, org: i64, f: &ThingFilter) -> String {
    let org = b.p(Param::Int(org));
    let mut w = format!("d.org_id = {org} AND d.collection = 'things'");
    for (path, value) in f.terms() {
        let (p, v) = (b.text(path), b.text(value));
        w.push_str(&format!(" AND EXISTS ({TERM} AND t.path = {p} AND t.value = {v})"));
    }
    if !f.ids.is_empty() {
        w.push_str(&format!(" AND d.uuid IN ({})", list(b, &f.ids)));
    }
    if !f.categories.is_empty() {
        w.push_str(&format!(
            " AND EXISTS ({TERM} AND t.path = 'categories' AND t.value IN ({}))",
            list(b, &f.categories)
        ));
    }
    match f.in_category {
        Some(true) => w.push_str(&format!(" AND EXISTS ({TERM} AND t.path = 'categories')")),
        Some(false) => w.push_str(&format!(" AND NOT EXISTS ({TERM} AND t.path = 'categories')")),
        None => {}
    }
    for pf in &f.properties {
        w.push_str(" AND ");
        w.push_str(&property_sql(b, pf));
    }
    w
}

fn property_sql(b: &mut B, pf: &PropertyFilter) -> String {
    let name = b.text(&pf.name);
    let has = format!("{STATUS} AND s.name = {name}");
    let collate = b.d.collate;
    match pf.op {
        PropertyOp::Eq => format!("EXISTS ({has} AND {})", eq_sql(b, pf)),
        PropertyOp::Neq => {
            let eq = eq_sql(b, pf);
            format!("EXISTS ({has}) AND NOT EXISTS ({has} AND {eq})")
        }
        PropertyOp::Contains => {
            let needle = b.text(&pf.text);
            format!("EXISTS ({has} AND {})", (b.d.contains)("s.str", &needle))
        }
        op => {
            let sym = match op {
                PropertyOp::Gt => ">",
                PropertyOp::Gte => ">=",
                PropertyOp::Lt => "<",
                _ => "<=",
            };
            match pf.number() {
                Some(n) => {
                    let v = b.p(Param::Real(n));
                    format!("EXISTS ({has} AND s.num {sym} {v})")
                }
                None => {
                    let v = b.text(&pf.text);
                    format!("EXISTS ({has} AND s.str{collate} {sym} {v})")
                }
            }
        }
    }
}

fn eq_sql(b: &mut B, pf: &PropertyFilter) -> String {
    if let Some(n) = pf.number() {
        let (v, t) = (b.p(Param::Real(n)), b.text(&pf.text));
        format!("(s.num = {v} OR s.str = {t})")
    } else if let Some(lit) = pf.literal() {
        format!("s.value = {}", b.text(lit))
    } else {
        format!("s.str = {}", b.text(&pf.text))
    }
}

fn key_sql(b: &mut B, key: &SortKey) -> String {
    let collate = b.d.collate;
    let status = "FROM thing_status s WHERE s.org_id = d.org_id AND s.collection = d.collection AND s.uuid = d.uuid";
    match key {
        SortKey::Created => "d.created_at".into(),
        SortKey::Modified => "d.updated_at".into(),
        SortKey::Uid => format!("d.uuid{collate}"),
        // The same keys as document finds (see [`path_keys`]).
        SortKey::Path(path) => path_keys(&b.text(path), collate).1,
        SortKey::PathNumber(path) => path_keys(&b.text(path), collate).0,
        SortKey::StatusNumber(name) => {
            let p = b.text(name);
            format!("(SELECT s.num {status} AND s.name = {p})")
        }
        SortKey::StatusText(name) => {
            let p = b.text(name);
            format!("(SELECT s.str{collate} {status} AND s.name = {p})")
        }
    }
}

fn key_param(v: &KeyValue) -> Option<Param> {
    match v {
        KeyValue::Null => None,
        KeyValue::Int(i) => Some(Param::Int(*i)),
        KeyValue::Real(f) => Some(Param::Real(*f)),
        KeyValue::Text(s) => Some(Param::Text(s.clone())),
    }
}

/// One page of a thing list: columns `uuid, body, created_at, updated_at,
/// k0, ..., k{n-1}` (the sort keys of [`ThingQuery::order`]), at most
/// `limit + 1` rows (one more tells whether there is a next page).
pub(crate) fn find_sql(d: &Dialect, org: i64, q: &ThingQuery) -> Built {
    let mut b = B { d, params: Vec::new() };
    let order = q.order();
    let keys: Vec<String> = order.iter().map(|(k, _)| key_sql(&mut b, k)).collect();
    let filter = filter_sql(&mut b, org, &q.filter);
    let collate = d.collate;
    let select_keys: String = keys.iter().enumerate().map(|(i, k)| format!(", {k} AS k{i}")).collect();
    let mut sql = format!(
        "SELECT x.* FROM (SELECT d.uuid{collate} AS uuid, d.body, d.created_at, d.updated_at{select_keys} \
         FROM documents d WHERE {filter}) x"
    );
    // A previous_cursor reads backward: the rows before the cursor's,
    // nearest first (every comparison and direction flipped).
    let back = q.direction == Some(Direction::Previous) && q.after.is_some();
    if let Some(after) = q.after.as_ref().filter(|a| a.len() == order.len() + 1) {
        let mut ors = Vec::new();
        let mut eqs: Vec<String> = Vec::new();
        for (i, (_, desc)) in order.iter().enumerate() {
            let prefix: String = eqs.iter().map(|e| format!("{e} AND ")).collect();
            match key_param(&after[i]) {
                // Nulls sort last: nothing follows a null at this level,
                // every non-null precedes it.
                None => {
                    if back {
                        ors.push(format!("({prefix}x.k{i} IS NOT NULL)"));
                    }
                    eqs.push(format!("x.k{i} IS NULL"));
                }
                Some(v) => {
                    let p = b.p(v);
                    let op = if *desc != back { "<" } else { ">" };
                    if back {
                        ors.push(format!("({prefix}x.k{i} IS NOT NULL AND x.k{i} {op} {p})"));
                    } else {
                        ors.push(format!("({prefix}(x.k{i} IS NULL OR x.k{i} {op} {p}))"));
                    }
                    eqs.push(format!("x.k{i} = {p}"));
                }
            }
        }
        let prefix: String = eqs.iter().map(|e| format!("{e} AND ")).collect();
        let uid = match &after[order.len()] {
            KeyValue::Text(s) => s.clone(),
            _ => String::new(),
        };
        let p = b.text(&uid);
        let op = if back { "<" } else { ">" };
        ors.push(format!("({prefix}x.uuid {op} {p})"));
        sql.push_str(&format!(" WHERE ({})", ors.join(" OR ")));
    }
    let (nulls, asc, desc_word) = if back {
        ("DESC", "DESC", "ASC")
    } else {
        ("", "ASC", "DESC")
    };
    let order_sql: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(i, (_, desc))| {
            let dir = if *desc { desc_word } else { asc };
            format!(
                "(x.k{i} IS NULL){}, x.k{i} {dir}",
                if back { format!(" {nulls}") } else { String::new() }
            )
        })
        .collect();
    sql.push_str(&format!(
        " ORDER BY {}, x.uuid {asc} LIMIT {}",
        order_sql.join(", "),
        u64::from(q.limit) + 1
    ));
    Built { sql, params: b.params }
}

/// The uids of at most `limit` things matching `f`, oldest first.
pub(crate) fn select_uids_sql(d: &Dialect, org: i64, f: &ThingFilter, limit: u32) -> Built {
    let mut b = B { d, params: Vec::new() };
    let filter = filter_sql(&mut b, org, f);
    let sql = format!("SELECT d.uuid FROM documents d WHERE {filter} ORDER BY d.created_at, d.uuid LIMIT {limit}");
    Built { sql, params: b.params }
}

/// The kinds of the key columns of [`find_sql`], in order.
pub(crate) fn key_kinds(q: &ThingQuery) -> Vec<KeyKind> {
    q.order().iter().map(|(k, _)| k.kind()).collect()
}

/// The document of thing `uuid` (stored as `body`) with category `old`
/// replaced by `new`, or removed.
pub(crate) fn recategorised(
    uuid: &str,
    body: &str,
    old: &str,
    new: Option<&str>,
) -> Result<crate::documents::NewDocument, crate::store::StoreError> {
    use serde_json::Value;
    let bad = |e: String| crate::store::StoreError::Backend(format!("thing {uuid}: {e}"));
    let Value::Object(mut doc) = serde_json::from_str(body).map_err(|e| bad(e.to_string()))? else {
        return Err(bad("not an object".into()));
    };
    let mut names: Vec<Value> = match doc.remove("categories") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    names.retain(|v| v.as_str() != Some(old) && new.is_none_or(|n| v.as_str() != Some(n)));
    if let Some(n) = new {
        names.push(Value::String(n.to_owned()));
    }
    doc.insert("categories".into(), Value::Array(names));
    crate::things::model::thing_new_document(uuid, doc).map_err(|e| bad(e.to_string()))
}

/// Values deleted per transaction when pruning history.
pub(crate) const PRUNE_BATCH: u64 = 5000;
