//! Registry changes are published on the bus after the store committed them.

use std::sync::Arc;
use std::time::Duration;

use thingstead_core::Platform;
use thingstead_core::bus::local::LocalBus;
use thingstead_core::bus::{BusEvent, Change, Filter, RegistryChange, RegistryKind, Subscriber};
use thingstead_core::master_key::MasterKey;
use thingstead_core::store::sqlite::SqliteStore;

async fn next(sub: &mut Subscriber) -> (String, RegistryChange) {
    let e = tokio::time::timeout(Duration::from_secs(2), sub.recv())
        .await
        .expect("an event")
        .expect("a live bus");
    let subject = e.subject();
    let BusEvent::Registry(r) = e else {
        panic!("expected a registry change, got {e:?}")
    };
    (subject, r)
}

#[tokio::test]
async fn every_registry_change_is_published_with_its_subject() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    SqliteStore::prepare_dir(&data).unwrap();
    let key = MasterKey::load_or_generate(&data.join("master.key")).unwrap();
    let store = SqliteStore::open(&data, key).unwrap();
    let platform = Platform::new(Arc::new(store), Arc::new(LocalBus::default()));
    let mut sub = platform.events().subscribe(Filter::any_tenant("registry.>").unwrap());

    platform.create_org("acme").await.unwrap();
    let t = platform.tenant("acme").await.unwrap();
    let device = platform.create_device(&t, None).await.unwrap();
    platform.provision_totp(&t, &device.uuid).await.unwrap();
    platform.delete_device(&t, &device.uuid).await.unwrap();
    let app = platform.create_app(&t, None).await.unwrap();
    let client = platform.create_client(&t, &["thing.read".into()]).await.unwrap();
    let key = platform.create_api_key(&t).await.unwrap();
    platform.create_user(&t, "ann.smith", "a long password").await.unwrap();
    platform.set_message_retention(&t, Some(60)).await.unwrap();
    // A failed change publishes nothing.
    assert!(platform.set_message_retention(&t, Some(-1)).await.is_err());
    platform.delete_org(&t).await.unwrap();

    let u = &device.uuid;
    let expected = [
        "thingstead.acme.registry.org.acme.created".to_owned(),
        format!("thingstead.acme.registry.device.{u}.created"),
        format!("thingstead.acme.registry.device.{u}.updated"),
        format!("thingstead.acme.registry.device.{u}.deleted"),
        format!("thingstead.acme.registry.app.{}.created", app.uuid),
        format!("thingstead.acme.registry.client.{}.created", client.client_id),
        format!("thingstead.acme.registry.apikey.{}.created", key.id),
        "thingstead.acme.registry.user.ann%2Esmith.created".to_owned(),
        "thingstead.acme.registry.org.acme.updated".to_owned(),
        "thingstead.acme.registry.org.acme.deleted".to_owned(),
    ];
    for want in expected {
        let (subject, change) = next(&mut sub).await;
        assert_eq!(subject, want);
        assert_eq!(change.org, "acme");
        if want.ends_with(".updated") && change.kind == RegistryKind::Device {
            assert_eq!(change.change, Change::Updated, "TOTP rotated");
        }
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(100), sub.recv())
            .await
            .is_err(),
        "nothing more was published"
    );
}
