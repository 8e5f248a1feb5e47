//! The SQL of a document find, the same on both backends but for the
//! placeholder syntax (`?N` for SQLite, `$N` for PostgreSQL). Each filter
//! is an `EXISTS` on `document_terms` (served by its `(org_id, collection,
//! path, value)` index); a sort reads the smallest number at its path,
//! else the smallest text (numbers first).
//! Parameter 1 is the tenant id, 2 the collection; the rest are texts.

use crate::documents::{Collection, DocumentQuery};

/// The statements of one find.
pub(crate) struct FindSql {
    /// `SELECT body ...` with the page.
    pub(crate) page: String,
    /// `SELECT count(*) ...`.
    pub(crate) count: String,
    /// The text parameters after the tenant id, in order (the collection first).
    pub(crate) texts: Vec<String>,
    /// How many of `texts` the count takes (the sort path is the page's only).
    pub(crate) count_texts: usize,
}

/// The sort keys of a document `d` at path placeholder `p`: its smallest
/// number, and its smallest text (`collate` appended), as two scalar
/// subqueries. Both read the document's own terms through the index
/// `(org_id, collection, uuid, path, num, value)`; the text key's
/// `num IS NULL` (texts only: numbers are the other key's) is what makes
/// SQLite's planner take it over `(path, value)`, which would walk every
/// document's terms for each document. Thing lists and document finds
/// both sort by these.
pub(crate) fn path_keys(p: &str, collate: &str) -> (String, String) {
    let terms = format!(
        "FROM document_terms t WHERE t.org_id = d.org_id AND t.collection = d.collection \
         AND t.uuid = d.uuid AND t.path = {p}"
    );
    (
        format!("(SELECT min(t.num) {terms})"),
        format!("(SELECT min(t.value{collate}) {terms} AND t.num IS NULL)"),
    )
}

/// Builds the SQL; `ph(n)` writes placeholder `n` (1-based); `collate` is
/// appended to sorted text so both backends order bytes alike.
pub(crate) fn find_sql(collection: Collection, q: &DocumentQuery, ph: fn(usize) -> String, collate: &str) -> FindSql {
    let mut texts = vec![collection.as_str().to_owned()];
    let mut filter = format!("d.org_id = {} AND d.collection = {}", ph(1), ph(2));
    for (path, value) in &q.filters {
        texts.push(path.clone());
        let p = ph(texts.len() + 1);
        texts.push(value.clone());
        let v = ph(texts.len() + 1);
        filter.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM document_terms t WHERE t.org_id = d.org_id AND t.collection = d.collection \
             AND t.path = {p} AND t.value = {v} AND t.uuid = d.uuid)"
        ));
    }
    let count = format!("SELECT count(*) FROM documents d WHERE {filter}");
    let count_texts = texts.len();
    let page = match &q.sort {
        Some(sort) => {
            texts.push(sort.path.clone());
            let (number, text) = path_keys(&ph(texts.len() + 1), collate);
            // A document's keys at the path, each read once. Numbers come
            // before texts (after them when descending), and a document
            // without the path comes last.
            let dir = if sort.descending { "DESC" } else { "ASC" };
            format!(
                "SELECT s.body FROM (SELECT d.body, d.created_at, d.uuid, {number} AS kn, \
                 {text} AS kt FROM documents d WHERE {filter}) s \
                 ORDER BY (s.kn IS NULL AND s.kt IS NULL), (s.kn IS NULL) {dir}, s.kn {dir}, s.kt{collate} {dir}, \
                 s.created_at, s.uuid LIMIT {} OFFSET {}",
                q.limit, q.skip
            )
        }
        None => format!(
            "SELECT d.body FROM documents d WHERE {filter} ORDER BY d.created_at, d.uuid LIMIT {} OFFSET {}",
            q.limit, q.skip
        ),
    };
    FindSql {
        page,
        count,
        texts,
        count_texts,
    }
}
