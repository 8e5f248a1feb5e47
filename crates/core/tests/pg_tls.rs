//! TLS to PostgreSQL: `sslmode` in the store URL against a throwaway
//! cluster that refuses plain TCP and whose certificate a test CA signed.
#![cfg(feature = "postgres")]

use std::path::Path;

use thingstead_core::master_key::MasterKey;
use thingstead_core::store::StoreLifecycle;
use thingstead_core::store::postgres::{PgStore, PgTls, PoolLimits};
use thingstead_testkit::postgres::{PgCluster, make_test_ca};

async fn open(url: &str, ca_file: Option<&Path>, key_dir: &Path) -> Result<PgStore, String> {
    let key = MasterKey::load_or_generate(&key_dir.join("master.key")).unwrap();
    let tls = PgTls {
        ca_file: ca_file.map(Path::to_path_buf),
    };
    let limits = PoolLimits {
        max_size: 2,
        ..PoolLimits::default()
    };
    PgStore::connect(url, key, limits, &tls)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn sslmode_require_and_verify_full_connect_and_a_wrong_ca_is_refused() {
    let (cluster, db) = tokio::task::spawn_blocking(|| {
        let cluster = PgCluster::start_with_tls().expect("PostgreSQL 15 and openssl for this test");
        let db = cluster.create_database().unwrap();
        (cluster, db)
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrong_ca = make_test_ca(dir.path(), "other", "Some other CA").unwrap();

    // The cluster takes no plain TCP: this is what every mode below is up against.
    let err = open(&format!("{db}?sslmode=disable"), None, dir.path())
        .await
        .unwrap_err();
    assert!(err.contains("pg_hba.conf") || err.contains("no encryption"), "{err}");

    // require: encrypted, certificate not checked.
    let store = open(&format!("{db}?sslmode=require"), None, dir.path()).await.unwrap();
    store.ping().await.unwrap();
    store.close().await;

    // prefer (the default) uses TLS when offered.
    let store = open(&db, None, dir.path()).await.unwrap();
    store.ping().await.unwrap();
    store.close().await;

    // verify-full with the cluster's CA: connects (the certificate names 127.0.0.1).
    let verify = format!("{db}?sslmode=verify-full");
    let store = open(&verify, Some(&cluster.ca_file()), dir.path()).await.unwrap();
    store.ping().await.unwrap();
    store.close().await;

    // verify-full with another CA, or with the system roots: refused, saying why.
    let err = open(&verify, Some(&wrong_ca), dir.path()).await.unwrap_err();
    assert!(err.contains("certificate") && err.contains("UnknownIssuer"), "{err}");
    let err = open(&verify, None, dir.path()).await.unwrap_err();
    assert!(err.contains("certificate") || err.contains("root"), "{err}");

    // A CA file that is not there is named.
    let err = open(&verify, Some(&dir.path().join("missing.crt")), dir.path())
        .await
        .unwrap_err();
    assert!(err.contains("store.ca_file") && err.contains("missing.crt"), "{err}");
}
