//! Resources through `thingstead::app` against the real server (WIRE.md
//! B.3): get/find/create/save/refresh/delete, relations, data items with
//! percent-encoded keys, feeds, raw calls.

use serde_json::json;
use thingstead::app::{App, Error};
use thingstead::device::{Credentials, DeviceClient};
use thingstead_server::testing::TestServer;

use super::app_support::{alice, options, org};

#[tokio::test]
async fn documents_are_created_found_saved_refreshed_and_deleted() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let app = alice(&server, "acme").await;
    let devices = app.devices();

    let mut pump = devices
        .create(Some(json!({"name": "pump", "subtype": "pumps"})))
        .await
        .unwrap();
    assert!(!pump.uuid().is_empty());
    let valve = devices.create(Some(json!({"name": "valve"}))).await.unwrap();
    let found = devices.find(&[("name", "pump")]).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found[0].uuid(), pump.uuid());
    assert_eq!(found.iter().count(), 1);

    pump.document_mut()["name"] = json!("pump 2");
    pump.document_mut()["color"] = json!("red");
    pump.save().await.unwrap();
    assert_eq!(pump.name(), Some("pump 2"));
    let mut copy = devices.get(pump.uuid()).await.unwrap().expect("exists");
    assert_eq!(copy.document()["color"], "red");
    assert_eq!(copy.document()["subtype"], "pumps", "a save sends the whole document");
    pump.document_mut()["color"] = json!("blue");
    pump.save().await.unwrap();
    copy.refresh().await.unwrap();
    assert_eq!(copy.document()["color"], "blue");

    valve.delete().await.unwrap();
    assert!(devices.get(valve.uuid()).await.unwrap().is_none(), "404 is None");
    devices.delete(pump.uuid()).await.unwrap();
    assert!(devices.get(pump.uuid()).await.unwrap().is_none());
    let err = copy.refresh().await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");

    // Experience names are unique.
    app.experiences().create(Some(json!({"name": "Lobby"}))).await.unwrap();
    let err = app
        .experiences()
        .create(Some(json!({"name": "Lobby"})))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 400..=499, .. }), "{err:?}");

    let thing = app.things().create(Some(json!({"name": "lamp"}))).await.unwrap();
    assert_eq!(
        app.things().get(thing.uuid()).await.unwrap().unwrap().name(),
        Some("lamp")
    );
    server.stop().await;
}

#[tokio::test]
async fn relations_follow_locations_zones_and_experiences() {
    let server = TestServer::start().await;
    let acme = org(&server, "acme").await;
    let app = alice(&server, "acme").await;

    let location = app
        .locations()
        .create(Some(
            json!({"name": "HQ", "zones": [{"key": "lobby", "name": "Lobby"}, {"key": "lab", "name": "Lab"}]}),
        ))
        .await
        .unwrap();
    let experience = app
        .experiences()
        .create(Some(json!({"name": "Welcome"})))
        .await
        .unwrap();
    let device = app
        .devices()
        .create(Some(json!({
            "name": "screen",
            "location": {"uuid": location.uuid(), "zones": [{"key": "lobby"}]},
            "experience": {"uuid": experience.uuid()},
        })))
        .await
        .unwrap();
    app.devices().create(Some(json!({"name": "elsewhere"}))).await.unwrap();
    let thing = app
        .things()
        .create(Some(
            json!({"name": "sensor", "location": {"uuid": location.uuid(), "zones": [{"key": "lab"}]}}),
        ))
        .await
        .unwrap();

    assert_eq!(device.get_location().await.unwrap().unwrap().uuid(), location.uuid());
    assert_eq!(
        device.get_experience().await.unwrap().unwrap().uuid(),
        experience.uuid()
    );
    let zones = device.get_zones().await.unwrap();
    assert_eq!(zones.iter().map(|z| z.key()).collect::<Vec<_>>(), ["lobby"]);
    assert_eq!(thing.get_zones().await.unwrap()[0].key(), "lab");
    assert_eq!(thing.get_location().await.unwrap().unwrap().uuid(), location.uuid());

    let uuids = |found: &[thingstead::app::Document<thingstead::app::Device>]| {
        found.iter().map(|d| d.uuid().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(uuids(&experience.get_devices().await.unwrap()), [device.uuid()]);
    assert_eq!(uuids(&location.get_devices().await.unwrap()), [device.uuid()]);
    assert_eq!(location.get_things().await.unwrap()[0].uuid(), thing.uuid());
    let lobby = location.get_zones().into_iter().find(|z| z.key() == "lobby").unwrap();
    assert_eq!(uuids(&lobby.get_devices().await.unwrap()), [device.uuid()]);
    assert!(lobby.get_things().await.unwrap().is_empty());
    assert_eq!(lobby.get_location().uuid(), location.uuid());

    // A zone saves through its location.
    let mut lab = location.get_zones().into_iter().find(|z| z.key() == "lab").unwrap();
    lab.document_mut()["name"] = json!("Laboratory");
    lab.save().await.unwrap();
    let fresh = app.locations().get(location.uuid()).await.unwrap().unwrap();
    let names: Vec<_> = fresh
        .get_zones()
        .iter()
        .map(|z| z.name().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["Lobby", "Laboratory"]);

    let auth = app.get_auth().await.unwrap();
    let layout = location.get_layout_url().unwrap();
    assert_eq!(
        layout,
        format!(
            "http://{}/api/locations/{}/layout?_rt={}",
            server.http,
            location.uuid(),
            auth.restricted_token.unwrap()
        )
    );

    // A device login sees its own device and where it is.
    let me = App::start(options(&server).device(&acme.device_uuid, &acme.device_secret))
        .await
        .unwrap();
    assert_eq!(me.get_current_device().await.unwrap().unwrap().uuid(), acme.device_uuid);
    assert!(me.get_current_location().await.unwrap().is_none());
    server.stop().await;
}

#[tokio::test]
async fn data_items_are_addressed_by_percent_encoded_group_and_key() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let app = alice(&server, "acme").await;
    let data = app.data();

    let mut item = data
        .create("réglages & co", "lobby: main?#1", json!({"volume": 3}))
        .await
        .unwrap();
    assert_eq!(
        (item.group.as_str(), item.key.as_str()),
        ("réglages & co", "lobby: main?#1")
    );
    let item2 = data
        .create("réglages & co", "ünï cödé", json!({"v": true}))
        .await
        .unwrap();
    let got = data.get("réglages & co", "ünï cödé").await.unwrap().expect("stored");
    assert_eq!(got.value, json!({"v": true}));
    let found = data.find(&[("group", "réglages & co")]).await.unwrap();
    assert!(found.total >= 1, "{:?}", found.items);

    item.value["volume"] = json!(4);
    item.save().await.unwrap();
    let got = data
        .get("réglages & co", "lobby: main?#1")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got.value["volume"], 4);
    item2.delete().await.unwrap();
    assert!(data.get("réglages & co", "ünï cödé").await.unwrap().is_none());

    let err = data.create("g", "k", json!([1, 2])).await.unwrap_err();
    assert!(
        matches!(err, Error::Api { status: 400..=499, .. }),
        "non-objects are refused: {err:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_messages_feed_gives_a_devices_latest_messages_and_raw_calls_work() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let app = alice(&server, "acme").await;
    let device = server.create_device("acme").await;
    let sender = DeviceClient::new(
        Credentials::from_devicekey(&device.devicekey)
            .unwrap()
            .with_host(server.device_tcp.ip().to_string())
            .with_port(server.device_tcp.port()),
    )
    .unwrap();
    for text in ["one", "two"] {
        assert!(sender.send_message(text, &["t"]).await.unwrap().is_success());
    }
    let feed = app
        .feeds()
        .create(Some(
            json!({"name": "latest", "subtype": "thingstead:feed:messages", "device": device.uuid}),
        ))
        .await
        .unwrap();
    let data = feed.get_data(&[("limit", "1")]).await.unwrap();
    assert_eq!(data["messages"][0]["data"], "two", "{data}");

    // Raw calls reach the same API.
    let raw = app
        .get("/api/connectors/feeds", &[("name", "latest")])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw["total"], 1, "{raw}");
    let created = app
        .post("/api/things", Some(&json!({"name": "raw"})), &[])
        .await
        .unwrap()
        .unwrap();
    let path = format!("/api/things/{}", created["uuid"].as_str().unwrap());
    app.patch(&path, Some(&json!({"name": "raw 2"})), &[]).await.unwrap();
    assert_eq!(app.get(&path, &[]).await.unwrap().unwrap()["name"], "raw 2");
    app.delete(&path, &[]).await.unwrap();
    assert_eq!(app.get(&path, &[]).await.unwrap_err().status(), Some(404));
    server.stop().await;
}

#[tokio::test]
async fn content_gives_delivery_urls_with_the_restricted_token_variants_and_children() {
    let server = TestServer::start().await;
    org(&server, "acme").await;
    let app = alice(&server, "acme").await;
    let folder = app
        .content()
        .create(Some(json!({"name": "Städte", "subtype": "scala:content:folder"})))
        .await
        .unwrap();
    assert_eq!(folder.get_url().unwrap(), None, "folders have no URL");

    // Bytes go up as raw bodies (the SDK, like exp-sdk, only reads content).
    let token = app.get_auth().await.unwrap().token;
    let http = reqwest::Client::new();
    let uploaded: serde_json::Value = http
        .post(server.url("/api/content/upload"))
        .query(&[("name", "zürich plan.txt"), ("parent", folder.uuid())])
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("hello bytes")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uuid = uploaded["uuid"].as_str().expect("uuid").to_owned();
    http.put(server.url(&format!("/api/content/{uuid}/variants/small")))
        .bearer_auth(&token)
        .body("tiny")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();

    let file = app.content().get(&uuid).await.unwrap().expect("file");
    assert_eq!(file.subtype(), Some("scala:content:file"));
    assert_eq!(file.variants(), ["small"]);
    let children = folder.get_children(&[]).await.unwrap();
    assert_eq!(children.iter().map(|c| c.uuid()).collect::<Vec<_>>(), [uuid.as_str()]);

    // Delivery URLs work without any Authorization header.
    let url = file.get_url().unwrap().expect("a file has a URL");
    assert!(url.contains("?_rt="), "{url}");
    let body = reqwest::get(&url).await.unwrap();
    assert_eq!(body.status(), 200, "{url}");
    assert_eq!(body.text().await.unwrap(), "hello bytes");
    let variant = file.get_variant_url("small").unwrap().expect("variant URL");
    assert_eq!(reqwest::get(&variant).await.unwrap().text().await.unwrap(), "tiny");

    let link = app
        .content()
        .create(Some(
            json!({"name": "site", "subtype": "scala:content:url", "url": "https://example.org/x"}),
        ))
        .await
        .unwrap();
    assert_eq!(link.get_url().unwrap().as_deref(), Some("https://example.org/x"));
    server.stop().await;
}
