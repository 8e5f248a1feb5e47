//! Blobs, content items and layouts, on every backend.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use thingstead_core::content::{ContentData, ContentQuery, NewContent, Subtype};
use thingstead_core::store::{BlobChunks, Store, StoreError};

use super::{Backend, Env, org};

both!(
    a_blob_streams_in_and_out_in_chunks_and_is_deleted,
    a_blob_over_its_cap_leaves_nothing,
    an_interrupted_or_abandoned_blob_leaves_nothing,
    concurrent_blob_writes_are_each_kept_whole,
    slow_uploads_leave_the_store_free_for_everyone_else,
    content_items_form_a_tree_found_by_filters_and_deleted_with_their_children,
    item_bytes_and_variants_are_replaced_atomically,
    a_location_keeps_one_layout,
);

/// `len` bytes of a pattern no two offsets share within a chunk.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(seed as u32) as u8)
        .collect()
}

/// `bytes` as a stream of uneven chunks.
fn stream_of(bytes: &[u8]) -> BlobChunks {
    let sizes = [1usize, 7, 4096, 65_537, 300_000];
    let mut chunks = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let n = sizes[i % sizes.len()].min(bytes.len() - at);
        chunks.push(Ok(Bytes::copy_from_slice(&bytes[at..at + n])));
        at += n;
        i += 1;
    }
    futures::stream::iter(chunks).boxed()
}

async fn read_all(store: &Arc<dyn Store>, t: &thingstead_core::Tenant, id: &str) -> Option<(u64, Vec<u8>, usize)> {
    let reader = store.read_blob(t, id).await.unwrap()?;
    let mut out = Vec::new();
    let mut biggest = 0;
    let mut chunks = reader.chunks;
    while let Some(c) = chunks.next().await {
        let c = c.unwrap();
        biggest = biggest.max(c.len());
        out.extend_from_slice(&c);
    }
    Some((reader.size, out, biggest))
}

/// What the backend holds of any blob: files under `blobs/` (temp files
/// included) for SQLite, rows of `blobs` and `blob_chunks` for PostgreSQL.
async fn blob_leftovers(env: &Env) -> usize {
    match env.backend {
        Backend::Sqlite => {
            let dir = env.dir.path().join("blobs");
            let mut n = 0;
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    n += std::fs::read_dir(&p).unwrap().count();
                } else {
                    n += 1;
                }
            }
            n
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let c = super::raw_pg(env.url.as_deref().unwrap()).await;
            let mut n = 0;
            for table in ["blobs", "blob_chunks"] {
                let count: i64 = c
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                    .await
                    .unwrap()
                    .get(0);
                n += count as usize;
            }
            n
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => unreachable!(),
    }
}

async fn a_blob_streams_in_and_out_in_chunks_and_is_deleted(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    let other = store.create_org(&org("b")).await.unwrap();
    let bytes = pattern(1_234_567, 3);
    let size = store
        .put_blob(&a, "blob-1", stream_of(&bytes), 2_000_000)
        .await
        .unwrap();
    assert_eq!(size, bytes.len() as u64);
    assert_eq!(store.blob_size(&a, "blob-1").await.unwrap(), Some(size));
    let (len, back, biggest) = read_all(&store, &a, "blob-1").await.unwrap();
    assert_eq!(len, size);
    assert!(back == bytes, "the bytes come back identical");
    assert!(biggest <= 256 * 1024, "read in chunks, never whole: {biggest}");

    // An empty blob is a blob.
    store.put_blob(&a, "empty", stream_of(&[]), 10).await.unwrap();
    assert_eq!(read_all(&store, &a, "empty").await.unwrap().1, Vec::<u8>::new());

    // Another tenant sees nothing, and cannot delete it.
    assert_eq!(store.blob_size(&other, "blob-1").await.unwrap(), None);
    assert!(store.read_blob(&other, "blob-1").await.unwrap().is_none());
    assert!(!store.delete_blob(&other, "blob-1").await.unwrap());
    // A taken id is refused and the first blob stays.
    assert!(matches!(
        store.put_blob(&a, "blob-1", stream_of(b"other"), 10).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(read_all(&store, &a, "blob-1").await.unwrap().1 == bytes);

    assert!(store.delete_blob(&a, "blob-1").await.unwrap());
    assert!(!store.delete_blob(&a, "blob-1").await.unwrap());
    assert!(store.read_blob(&a, "blob-1").await.unwrap().is_none());
    store.delete_blob(&a, "empty").await.unwrap();
    assert_eq!(blob_leftovers(&env).await, 0);

    // Survives a reopen.
    store.put_blob(&a, "kept", stream_of(b"still here"), 100).await.unwrap();
    store.close().await;
    let store = env.open().await;
    assert_eq!(read_all(&store, &a, "kept").await.unwrap().1, b"still here");
}

async fn a_blob_over_its_cap_leaves_nothing(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    let bytes = pattern(600_000, 1);
    let err = store.put_blob(&a, "big", stream_of(&bytes), 599_999).await.unwrap_err();
    assert!(matches!(err, StoreError::TooLarge { limit: 599_999 }), "{err}");
    assert_eq!(store.blob_size(&a, "big").await.unwrap(), None);
    assert_eq!(blob_leftovers(&env).await, 0);
    // Exactly at the cap is fine.
    store.put_blob(&a, "big", stream_of(&bytes), 600_000).await.unwrap();
}

async fn an_interrupted_or_abandoned_blob_leaves_nothing(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    // The bytes stop with an error (the client went away).
    let failing = futures::stream::iter(vec![
        Ok(Bytes::from(pattern(300_000, 2))),
        Err(StoreError::Interrupted("connection reset".into())),
    ])
    .boxed();
    let err = store.put_blob(&a, "cut", failing, 10_000_000).await.unwrap_err();
    assert!(matches!(err, StoreError::Interrupted(_)), "{err}");
    assert_eq!(blob_leftovers(&env).await, 0);

    // The caller gives up mid-way (a request timeout drops the future).
    let stalled = futures::stream::iter(vec![Ok(Bytes::from(pattern(300_000, 4)))])
        .chain(futures::stream::pending())
        .boxed();
    let (s, t) = (store.clone(), a.clone());
    let task = tokio::spawn(async move { s.put_blob(&t, "stalled", stalled, 10_000_000).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    let _ = task.await;
    // PostgreSQL rolls back once the connection hears of it.
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = blob_leftovers(&env).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "an abandoned write keeps nothing");
    assert_eq!(store.blob_size(&a, "stalled").await.unwrap(), None);
}

async fn concurrent_blob_writes_are_each_kept_whole(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    let writers: Vec<_> = (0..12u8)
        .map(|i| {
            let (store, a) = (store.clone(), a.clone());
            tokio::spawn(async move {
                let bytes = pattern(100_000 + i as usize * 30_000, i);
                store
                    .put_blob(&a, &format!("b{i}"), stream_of(&bytes), 10_000_000)
                    .await
                    .unwrap();
                bytes
            })
        })
        .collect();
    for (i, w) in writers.into_iter().enumerate() {
        let bytes = w.await.unwrap();
        let (_, back, _) = read_all(&store, &a, &format!("b{i}")).await.unwrap();
        assert!(back == bytes, "blob {i} whole");
    }
}

/// An upload whose client sends slowly must not hold what every other
/// request needs: more stalled uploads than PostgreSQL's pool has
/// connections (16), and reads and writes still go through at once.
async fn slow_uploads_leave_the_store_free_for_everyone_else(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    store.put_blob(&a, "done", stream_of(b"whole"), 100).await.unwrap();
    let uploads: Vec<_> = (0..20u8)
        .map(|i| {
            let (store, a) = (store.clone(), a.clone());
            // One first chunk, then the client goes quiet.
            let stalled = futures::stream::iter(vec![Ok(Bytes::from(pattern(300_000, i)))])
                .chain(futures::stream::pending())
                .boxed();
            tokio::spawn(async move { store.put_blob(&a, &format!("slow-{i}"), stalled, 10_000_000).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let others = async {
        for i in 0..20 {
            assert_eq!(store.blob_size(&a, "done").await.unwrap(), Some(5));
            store.create_org(&org(&format!("other-{i}"))).await.unwrap();
        }
        assert_eq!(read_all(&store, &a, "done").await.unwrap().1, b"whole");
    };
    tokio::time::timeout(Duration::from_secs(3), others)
        .await
        .expect("reads and writes wait for no stalled upload");
    for u in &uploads {
        assert!(!u.is_finished(), "a stalled upload is still waiting for its bytes");
    }
    for u in uploads {
        u.abort();
        let _ = u.await;
    }
    assert_eq!(store.blob_size(&a, "slow-0").await.unwrap(), None);
    assert!(store.delete_blob(&a, "done").await.unwrap());
    assert_eq!(blob_leftovers(&env).await, 0, "the stalled uploads kept nothing");
}

fn new_item(uuid: &str, name: &str, subtype: Subtype, parent: Option<&str>, path: &str) -> NewContent {
    NewContent {
        uuid: uuid.into(),
        name: name.into(),
        subtype,
        parent: parent.map(Into::into),
        path: path.into(),
        url: None,
        fields: serde_json::Map::new(),
    }
}

fn data(blob: &str) -> ContentData {
    ContentData {
        blob: blob.into(),
        size: 1,
        mime_type: "image/png".into(),
    }
}

async fn content_items_form_a_tree_found_by_filters_and_deleted_with_their_children(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    let other = store.create_org(&org("b")).await.unwrap();
    let mut fields = serde_json::Map::new();
    fields.insert("tags".into(), serde_json::json!(["x"]));
    let root = store
        .create_content(
            &a,
            NewContent {
                fields,
                ..new_item("f1", "media", Subtype::Folder, None, "/media")
            },
        )
        .await
        .unwrap();
    assert_eq!(root.fields["tags"], serde_json::json!(["x"]));
    store
        .create_content(&a, new_item("c1", "a.png", Subtype::File, Some("f1"), "/media/a.png"))
        .await
        .unwrap();
    store
        .create_content(&a, new_item("f2", "sub", Subtype::Folder, Some("f1"), "/media/sub"))
        .await
        .unwrap();
    store
        .create_content(
            &a,
            new_item("c2", "b.png", Subtype::File, Some("f2"), "/media/sub/b.png"),
        )
        .await
        .unwrap();
    store
        .create_content(
            &a,
            NewContent {
                url: Some("https://example.org".into()),
                ..new_item("u1", "link", Subtype::Url, None, "/link")
            },
        )
        .await
        .unwrap();
    // The same path twice conflicts, in one tenant only.
    assert!(matches!(
        store
            .create_content(&a, new_item("x", "a.png", Subtype::File, Some("f1"), "/media/a.png"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_content(&other, new_item("o1", "media", Subtype::Folder, None, "/media"))
        .await
        .unwrap();
    // A parent that is gone is refused.
    assert!(matches!(
        store
            .create_content(&a, new_item("y", "z", Subtype::File, Some("nope"), "/nope/z"))
            .await,
        Err(StoreError::NotFound(_))
    ));

    let find = |q: ContentQuery| {
        let (store, a) = (store.clone(), a.clone());
        async move {
            let page = store.find_content(&a, &ContentQuery { limit: 100, ..q }).await.unwrap();
            (
                page.results.iter().map(|r| r.uuid.clone()).collect::<Vec<_>>(),
                page.total,
            )
        }
    };
    let children = find(ContentQuery {
        parent: Some(Some("f1".into())),
        ..Default::default()
    })
    .await;
    assert_eq!(children, (vec!["c1".to_string(), "f2".to_string()], 2));
    let at_root = find(ContentQuery {
        parent: Some(None),
        ..Default::default()
    })
    .await;
    assert_eq!(at_root, (vec!["u1".to_string(), "f1".to_string()], 2));
    let files = find(ContentQuery {
        subtype: Some(Subtype::File),
        ..Default::default()
    })
    .await;
    assert_eq!(files.1, 2);
    let named = find(ContentQuery {
        name: Some("b.png".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(named, (vec!["c2".to_string()], 1));
    let page = store
        .find_content(
            &a,
            &ContentQuery {
                limit: 2,
                skip: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.results.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/media", "/media/a.png"]
    );
    assert_eq!(
        store
            .content_by_path(&a, "/media/sub/b.png")
            .await
            .unwrap()
            .unwrap()
            .uuid,
        "c2"
    );
    assert!(store.content(&other, "c1").await.unwrap().is_none());
    assert!(store.content_by_path(&other, "/media/a.png").await.unwrap().is_none());
    assert!(matches!(
        store.delete_content(&other, "f1").await,
        Err(StoreError::NotFound(_))
    ));

    let mut deleted: Vec<String> = store
        .delete_content(&a, "f1")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uuid)
        .collect();
    deleted.sort();
    assert_eq!(deleted, ["c1", "c2", "f1", "f2"]);
    for uuid in ["f1", "c1", "f2", "c2"] {
        assert!(store.content(&a, uuid).await.unwrap().is_none(), "{uuid}");
    }
    assert!(store.content(&a, "u1").await.unwrap().is_some());
    assert!(store.content(&other, "o1").await.unwrap().is_some());
    // Deleting the organization takes its items.
    store.delete_org(&a).await.unwrap();
    let a2 = store.create_org(&org("a")).await.unwrap();
    assert!(store.content(&a2, "u1").await.unwrap().is_none());
}

async fn item_bytes_and_variants_are_replaced_atomically(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    store
        .create_content(&a, new_item("c1", "a.png", Subtype::File, None, "/a.png"))
        .await
        .unwrap();
    let (r, old) = store.set_content_data(&a, "c1", None, data("b1")).await.unwrap();
    assert_eq!((r.data.unwrap().blob, old), ("b1".to_string(), None));
    let (_, old) = store.set_content_data(&a, "c1", None, data("b2")).await.unwrap();
    assert_eq!(old.as_deref(), Some("b1"));
    let (r, old) = store
        .set_content_data(&a, "c1", Some("thumb"), data("t1"))
        .await
        .unwrap();
    assert_eq!(old, None);
    assert_eq!(r.variants.len(), 1);
    let (_, old) = store
        .set_content_data(&a, "c1", Some("thumb"), data("t2"))
        .await
        .unwrap();
    assert_eq!(old.as_deref(), Some("t1"));
    let r = store.content(&a, "c1").await.unwrap().unwrap();
    assert_eq!(r.blobs().collect::<Vec<_>>(), ["b2", "t2"]);
    assert_eq!(r.data_of(Some("thumb")).unwrap().mime_type, "image/png");
    assert!(matches!(
        store.set_content_data(&a, "nope", None, data("x")).await,
        Err(StoreError::NotFound(_))
    ));

    // Concurrent variant uploads: every one is kept, none lost.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (store, a) = (store.clone(), a.clone());
            tokio::spawn(async move {
                store
                    .set_content_data(&a, "c1", Some(&format!("v{i}")), data(&format!("vb{i}")))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.content(&a, "c1").await.unwrap().unwrap().variants.len(), 11);
}

async fn a_location_keeps_one_layout(b: Backend) {
    let env = Env::new(b).await;
    let store = env.open().await;
    let a = store.create_org(&org("a")).await.unwrap();
    let other = store.create_org(&org("b")).await.unwrap();
    assert!(store.layout(&a, "loc").await.unwrap().is_none());
    assert_eq!(store.set_layout(&a, "loc", data("l1")).await.unwrap(), None);
    assert_eq!(
        store.set_layout(&a, "loc", data("l2")).await.unwrap().as_deref(),
        Some("l1")
    );
    assert_eq!(store.layout(&a, "loc").await.unwrap().unwrap().blob, "l2");
    assert!(store.layout(&other, "loc").await.unwrap().is_none());
}
