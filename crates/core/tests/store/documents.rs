//! The document store (application-platform resources and data items) on
//! every backend.

use serde_json::{Value, json};
use thingstead_core::documents::{Collection, DataItem, DataQuery, DocumentQuery, NewDocument};
use thingstead_core::store::StoreError;

use super::{Backend, Env, device, org};

both!(
    documents_are_found_by_dotted_paths_any_zone_paged_and_sorted,
    a_sort_orders_numbers_by_value_before_texts,
    terms_stored_before_term_numbers_are_sorted_by_value_after_the_upgrade,
    saving_replaces_the_document_and_its_terms,
    experience_names_are_unique_per_organization,
    a_device_document_is_the_registry_device,
    data_items_are_created_replaced_found_and_deleted,
    documents_and_data_never_cross_organizations,
    devices_made_before_the_migration_get_their_document,
);

fn doc(c: Collection, uuid: &str, v: Value) -> NewDocument {
    let Value::Object(m) = v else { panic!("an object") };
    NewDocument::new(c, uuid, m).unwrap()
}

fn query(filters: &[(&str, &str)]) -> DocumentQuery {
    DocumentQuery {
        filters: filters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    }
}

fn uuids(found: &(Vec<String>, u64)) -> Vec<String> {
    found
        .0
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["uuid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn documents_are_found_by_dotted_paths_any_zone_paged_and_sorted(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    let things = [
        (
            "t1",
            json!({"name": "b", "n": 2, "location": {"uuid": "l1", "zones": [{"key": "z1"}, {"key": "z2"}]}}),
        ),
        (
            "t2",
            json!({"name": "a", "n": 10, "location": {"uuid": "l1", "zones": [{"key": "z2"}]}}),
        ),
        (
            "t3",
            json!({"name": "c", "ok": true, "location": {"uuid": "l2", "zones": []}}),
        ),
    ];
    for (uuid, v) in things {
        store
            .create_document(&t, doc(Collection::Things, uuid, v))
            .await
            .unwrap();
    }
    let find = |q: DocumentQuery| {
        let store = store.clone();
        let t = t.clone();
        async move { store.find_documents(&t, Collection::Things, &q).await.unwrap() }
    };
    assert_eq!(uuids(&find(query(&[])).await), ["t1", "t2", "t3"]);
    let zone = find(query(&[("location.uuid", "l1"), ("location.zones.key", "z2")])).await;
    assert_eq!((uuids(&zone), zone.1), (vec!["t1".to_owned(), "t2".to_owned()], 2));
    assert_eq!(uuids(&find(query(&[("location.zones.key", "z1")])).await), ["t1"]);
    assert_eq!(uuids(&find(query(&[("n", "10")])).await), ["t2"]);
    assert_eq!(uuids(&find(query(&[("ok", "true")])).await), ["t3"]);
    assert_eq!(uuids(&find(query(&[("name", "zzz")])).await), Vec::<String>::new());
    // Another collection holds none of them.
    let devices = store
        .find_documents(&t, Collection::Locations, &query(&[]))
        .await
        .unwrap();
    assert_eq!(devices.1, 0);

    let sorted = |path: &str, descending| DocumentQuery {
        sort: Some(thingstead_core::documents::Sort {
            path: path.into(),
            descending,
        }),
        ..Default::default()
    };
    assert_eq!(uuids(&find(sorted("name", false)).await), ["t2", "t1", "t3"]);
    assert_eq!(uuids(&find(sorted("name", true)).await), ["t3", "t1", "t2"]);
    // Documents without the sorted path come last either way.
    assert_eq!(uuids(&find(sorted("ok", true)).await)[0], "t3");
    assert_eq!(uuids(&find(sorted("ok", false)).await)[0], "t3");
    let page = find(DocumentQuery {
        limit: 1,
        skip: 1,
        ..sorted("name", false)
    })
    .await;
    assert_eq!(
        (uuids(&page), page.1),
        (vec!["t1".to_owned()], 3),
        "a page, and the total of all matches"
    );
}

fn sorted(path: &str, descending: bool) -> DocumentQuery {
    DocumentQuery {
        sort: Some(thingstead_core::documents::Sort {
            path: path.into(),
            descending,
        }),
        ..Default::default()
    }
}

/// Devices whose `n` is a number, a numeric-looking text, a text, a list,
/// or missing.
const MIXED: [(&str, &str); 7] = [
    ("nine", r#"{"n": 9}"#),
    ("ten", r#"{"n": 10}"#),
    ("abc", r#"{"n": "abc"}"#),
    ("neg", r#"{"n": -1.5}"#),
    ("none", r#"{"m": 1}"#),
    ("text-ten", r#"{"n": "10"}"#),
    ("list", r#"{"n": [30, 3.5]}"#),
];

/// The order of [`MIXED`] by `n`: numbers by value (a list by its
/// smallest), then texts, then the document without `n`; descending
/// reverses all but the last.
const MIXED_ASCENDING: [&str; 7] = ["neg", "list", "nine", "ten", "text-ten", "abc", "none"];
const MIXED_DESCENDING: [&str; 7] = ["abc", "text-ten", "ten", "nine", "list", "neg", "none"];

async fn put_mixed(store: &std::sync::Arc<dyn thingstead_core::store::Store>, t: &thingstead_core::Tenant) {
    for (uuid, v) in MIXED {
        let v: Value = serde_json::from_str(v).unwrap();
        store.create_document(t, doc(Collection::Feeds, uuid, v)).await.unwrap();
    }
}

async fn check_mixed_order(store: &std::sync::Arc<dyn thingstead_core::store::Store>, t: &thingstead_core::Tenant) {
    let find = |descending| async move {
        uuids(
            &store
                .find_documents(t, Collection::Feeds, &sorted("n", descending))
                .await
                .unwrap(),
        )
    };
    assert_eq!(find(false).await, MIXED_ASCENDING);
    assert_eq!(find(true).await, MIXED_DESCENDING);
}

async fn a_sort_orders_numbers_by_value_before_texts(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    put_mixed(&store, &t).await;
    check_mixed_order(&store, &t).await;
    // A document saved again keeps its number.
    let ten: Value = serde_json::from_str(r#"{"n": 10, "x": 1}"#).unwrap();
    store
        .update_document(&t, doc(Collection::Feeds, "ten", ten))
        .await
        .unwrap();
    check_mixed_order(&store, &t).await;
}

/// The terms table as it was before term numbers (both backends).
const OLD_TERMS: &str = "DROP INDEX document_terms_doc; ALTER TABLE document_terms DROP COLUMN num; \
                         CREATE INDEX document_terms_doc ON document_terms(org_id, collection, uuid);";

/// A store made before search terms had numbers: the upgrade gives the
/// stored terms theirs, from the documents.
async fn terms_stored_before_term_numbers_are_sorted_by_value_after_the_upgrade(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    put_mixed(&store, &t).await;
    store.close().await;
    // Back to the schema before the column (SQLite 12, PostgreSQL 9).
    match b {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(env.dir.path().join("thingstead.db")).unwrap();
            conn.execute_batch(&format!("{OLD_TERMS} PRAGMA user_version = 12;"))
                .unwrap();
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            super::raw_pg(env.url.as_deref().unwrap())
                .await
                .batch_execute(&format!("{OLD_TERMS} DELETE FROM schema_version WHERE version = 10;"))
                .await
                .unwrap();
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => unreachable!(),
    }
    let store = env.open().await;
    check_mixed_order(&store, &t).await;
}

async fn saving_replaces_the_document_and_its_terms(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    store
        .create_document(
            &t,
            doc(
                Collection::Locations,
                "l1",
                json!({"name": "hq", "zones": [{"key": "a"}]}),
            ),
        )
        .await
        .unwrap();
    store
        .update_document(
            &t,
            doc(
                Collection::Locations,
                "l1",
                json!({"name": "home", "zones": [{"key": "b"}]}),
            ),
        )
        .await
        .unwrap();
    let body: Value =
        serde_json::from_str(&store.document(&t, Collection::Locations, "l1").await.unwrap().unwrap()).unwrap();
    assert_eq!(body, json!({"uuid": "l1", "name": "home", "zones": [{"key": "b"}]}));
    let old = store
        .find_documents(&t, Collection::Locations, &query(&[("name", "hq")]))
        .await
        .unwrap();
    assert_eq!(old.1, 0, "the old name is no longer a term");
    let new = store
        .find_documents(&t, Collection::Locations, &query(&[("zones.key", "b")]))
        .await
        .unwrap();
    assert_eq!(uuids(&new), ["l1"]);
    assert!(matches!(
        store
            .update_document(&t, doc(Collection::Locations, "nope", json!({})))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_document(&t, Collection::Locations, "l1").await.unwrap();
    assert!(store.document(&t, Collection::Locations, "l1").await.unwrap().is_none());
    assert!(matches!(
        store.delete_document(&t, Collection::Locations, "l1").await,
        Err(StoreError::NotFound(_))
    ));
    let all = store
        .find_documents(&t, Collection::Locations, &query(&[("zones.key", "b")]))
        .await
        .unwrap();
    assert_eq!(all.1, 0, "its terms went with it");
}

async fn experience_names_are_unique_per_organization(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    let other = store.create_org(&org("other")).await.unwrap();
    let exp = |uuid: &str, name: &str| doc(Collection::Experiences, uuid, json!({ "name": name }));
    store.create_document(&t, exp("e1", "lobby")).await.unwrap();
    assert!(matches!(
        store.create_document(&t, exp("e2", "lobby")).await,
        Err(StoreError::Conflict(_))
    ));
    store.create_document(&other, exp("e3", "lobby")).await.unwrap();
    store.create_document(&t, exp("e2", "hall")).await.unwrap();
    assert!(matches!(
        store.update_document(&t, exp("e2", "lobby")).await,
        Err(StoreError::Conflict(_))
    ));
    // Things may share names.
    store
        .create_document(&t, doc(Collection::Things, "t1", json!({"name": "lobby"})))
        .await
        .unwrap();
    store
        .create_document(&t, doc(Collection::Things, "t2", json!({"name": "lobby"})))
        .await
        .unwrap();
    store.delete_document(&t, Collection::Experiences, "e1").await.unwrap();
    store.create_document(&t, exp("e4", "lobby")).await.unwrap();
}

async fn a_device_document_is_the_registry_device(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    // Made by the registry (admin CLI): it has its document.
    store.create_device(&t, device("d1", "aaaaaaaa")).await.unwrap();
    let body: Value =
        serde_json::from_str(&store.document(&t, Collection::Devices, "d1").await.unwrap().unwrap()).unwrap();
    assert_eq!(body, json!({"uuid": "d1", "name": "d1"}));
    // Made through the documents: the registry device exists, with its key.
    store
        .create_device_document(
            &t,
            device("d2", "bbbbbbbb"),
            doc(Collection::Devices, "d2", json!({"name": "d2", "subtype": "x"})),
        )
        .await
        .unwrap();
    let (_, d2) = store
        .device_by_key("bbbbbbbb")
        .await
        .unwrap()
        .expect("the devicekey works");
    assert_eq!(d2.uuid, "d2");
    // A key taken: nothing of either is stored.
    let dup = store
        .create_device_document(&t, device("d3", "bbbbbbbb"), doc(Collection::Devices, "d3", json!({})))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert!(store.document(&t, Collection::Devices, "d3").await.unwrap().is_none());
    assert!(store.device(&t, "d3").await.unwrap().is_none());
    // Saving renames the registry device.
    store
        .update_document(&t, doc(Collection::Devices, "d2", json!({"name": "renamed"})))
        .await
        .unwrap();
    assert_eq!(store.device(&t, "d2").await.unwrap().unwrap().name, "renamed");
    let found = store
        .find_documents(&t, Collection::Devices, &query(&[]))
        .await
        .unwrap();
    assert_eq!(uuids(&found), ["d1", "d2"]);
    // Deleting the document deletes the device; deleting the device, the document.
    store.delete_document(&t, Collection::Devices, "d2").await.unwrap();
    assert!(store.device_by_key("bbbbbbbb").await.unwrap().is_none());
    store.delete_device(&t, "d1").await.unwrap();
    assert!(store.document(&t, Collection::Devices, "d1").await.unwrap().is_none());
    // A plain document of the devices collection cannot be made without its device.
    assert!(
        store
            .create_document(&t, doc(Collection::Devices, "d9", json!({})))
            .await
            .is_err()
    );
}

async fn data_items_are_created_replaced_found_and_deleted(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let t = store.create_org(&org("acme")).await.unwrap();
    let item = |g: &str, k: &str, v: Value| DataItem::new(g, k, &v).unwrap();
    assert!(store.put_data(&t, item("g 1", "k:1&ü", json!({"a": 1}))).await.unwrap());
    assert!(!store.put_data(&t, item("g 1", "k:1&ü", json!({"a": 2}))).await.unwrap());
    store.put_data(&t, item("g 1", "k2", json!({}))).await.unwrap();
    store.put_data(&t, item("g2", "k", json!({}))).await.unwrap();
    let got = store.data_item(&t, "g 1", "k:1&ü").await.unwrap().unwrap();
    assert_eq!(
        got.to_json(),
        json!({"group": "g 1", "key": "k:1&ü", "value": {"a": 2}})
    );
    let q = |group: Option<&str>, limit| DataQuery {
        group: group.map(str::to_owned),
        key: None,
        limit,
        skip: 0,
    };
    let (items, total) = store.find_data(&t, &q(Some("g 1"), 1)).await.unwrap();
    assert_eq!((items.len(), total), (1, 2));
    assert_eq!(items[0].key, "k2", "ordered by group, then key");
    assert_eq!(store.find_data(&t, &q(None, 100)).await.unwrap().1, 3);
    store.delete_data(&t, "g 1", "k:1&ü").await.unwrap();
    assert!(store.data_item(&t, "g 1", "k:1&ü").await.unwrap().is_none());
    assert!(matches!(
        store.delete_data(&t, "g 1", "k:1&ü").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn documents_and_data_never_cross_organizations(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("acme")).await.unwrap();
    let z = store.create_org(&org("zeta")).await.unwrap();
    store
        .create_document(&a, doc(Collection::Things, "t1", json!({"name": "x"})))
        .await
        .unwrap();
    store
        .put_data(&a, DataItem::new("g", "k", &json!({})).unwrap())
        .await
        .unwrap();
    assert!(store.document(&z, Collection::Things, "t1").await.unwrap().is_none());
    assert_eq!(
        store
            .find_documents(&z, Collection::Things, &query(&[("name", "x")]))
            .await
            .unwrap()
            .1,
        0
    );
    assert!(matches!(
        store
            .update_document(&z, doc(Collection::Things, "t1", json!({})))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_document(&z, Collection::Things, "t1").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.data_item(&z, "g", "k").await.unwrap().is_none());
    assert!(matches!(
        store.delete_data(&z, "g", "k").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .find_data(&z, &DataQuery::from_params(&[]).unwrap())
            .await
            .unwrap()
            .1,
        0
    );
    // The same uuid in another organization is another document.
    store
        .create_document(&z, doc(Collection::Things, "t1", json!({"name": "y"})))
        .await
        .unwrap();
    let mine: Value =
        serde_json::from_str(&store.document(&a, Collection::Things, "t1").await.unwrap().unwrap()).unwrap();
    assert_eq!(mine["name"], "x");
    // Deleting an organization deletes its documents and data.
    store.delete_org(&a).await.unwrap();
    let a = store.create_org(&org("acme")).await.unwrap();
    assert!(store.document(&a, Collection::Things, "t1").await.unwrap().is_none());
    assert!(store.data_item(&a, "g", "k").await.unwrap().is_none());
}

async fn devices_made_before_the_migration_get_their_document(b: Backend) {
    let env = Env::new(b).await;
    {
        let store = env.open().await;
        let t = store.create_org(&org("acme")).await.unwrap();
        store.create_device(&t, device("old", "aaaaaaaa")).await.unwrap();
        store.close().await;
    }
    // Back to the schema before documents, as an older binary left it.
    env.undo_documents_migration().await;
    let store = env.open().await;
    let t = store.tenant(&org("acme")).await.unwrap().unwrap();
    let body: Value = serde_json::from_str(
        &store
            .document(&t, Collection::Devices, "old")
            .await
            .unwrap()
            .expect("migrated"),
    )
    .unwrap();
    assert_eq!(body, json!({"uuid": "old", "name": "old"}));
    let found = store
        .find_documents(&t, Collection::Devices, &query(&[("name", "old")]))
        .await
        .unwrap();
    assert_eq!(uuids(&found), ["old"]);
}
