//! Tests that sorted finds read each document's terms through the
//! per-document index: with the `(path, value)` index instead, SQLite
//! walks every term of the path for every document, and a sort of N
//! documents costs N x N (seconds at 20,000 documents).

use rusqlite::Connection;

use super::schema;
use crate::documents::{Collection, DocumentQuery, Sort};
use crate::master_key::MasterKey;
use crate::store::document_query::find_sql;
use crate::things::ThingQuery;

/// A migrated database, as the store opens it.
fn migrated(dir: &std::path::Path) -> Connection {
    let key = MasterKey::load_or_generate(&dir.join("master.key")).unwrap();
    let mut conn = Connection::open(dir.join("plans.db")).unwrap();
    schema::migrate(&mut conn, &key).unwrap();
    conn
}

/// `EXPLAIN QUERY PLAN` of `sql`, one line per step (parameters unbound
/// are NULL, which leaves the plan as it is).
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut s = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let nulls = std::iter::repeat_n(rusqlite::types::Null, s.parameter_count());
    s.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn by_document_only(plan: &[String]) {
    let terms: Vec<&String> = plan.iter().filter(|l| l.contains(" t ")).collect();
    assert!(!terms.is_empty(), "{plan:#?}");
    for line in terms {
        assert!(
            line.contains("document_terms_doc") && line.contains("uuid=?"),
            "a sort key read by its path across documents: {plan:#?}"
        );
    }
}

#[test]
fn a_sorted_document_find_reads_terms_by_document() {
    let dir = tempfile::tempdir().unwrap();
    let conn = migrated(dir.path());
    for descending in [false, true] {
        let q = DocumentQuery {
            sort: Some(Sort {
                path: "name".into(),
                descending,
            }),
            ..Default::default()
        };
        let sql = find_sql(Collection::Feeds, &q, |n| format!("?{n}"), "");
        by_document_only(&plan(&conn, &sql.page));
    }
}

#[test]
fn a_thing_list_sorted_by_td_paths_reads_terms_by_document() {
    let dir = tempfile::tempdir().unwrap();
    let conn = migrated(dir.path());
    for sort in ["title", "-properties.temperature.maximum", "-model.name,title"] {
        let pairs = vec![("sort".to_owned(), sort.to_owned())];
        let q = ThingQuery::from_pairs(&pairs).unwrap();
        let built = crate::store::thing_query::find_sql(&super::things::DIALECT, 1, &q);
        by_document_only(&plan(&conn, &built.sql));
    }
}
