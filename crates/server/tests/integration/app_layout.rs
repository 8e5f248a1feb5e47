//! Location layout images: uploaded by users, fetched at exp-sdk's
//! `location.get_layout_url()` (`/api/locations/{uuid}/layout?_rt=...`)
//! without an Authorization header, never across organizations.

use reqwest::StatusCode;
use thingstead_server::testing::TestServer;

use super::app_content::{blob_files, device_of, fetch, user_of};
use super::common::http;

async fn put_layout(server: &TestServer, token: &str, location: &str, mime: &str, bytes: Vec<u8>) -> StatusCode {
    http()
        .put(server.url(&format!("/api/locations/{location}/layout")))
        .bearer_auth(token)
        .header("content-type", mime)
        .body(bytes)
        .send()
        .await
        .expect("PUT layout")
        .status()
}

fn layout_url(server: &TestServer, location: &str, rt: &str) -> String {
    server.url(&format!("/api/locations/{location}/layout?_rt={rt}"))
}

#[tokio::test]
async fn a_layout_is_uploaded_by_a_user_and_fetched_with_the_restricted_token() {
    let server = TestServer::start().await;
    let alice = user_of(&server, "acme").await;
    let loc = "3f0e4a52-8a53-4c0e-9f0e-8d1c2b3a4d5e";
    assert_eq!(
        fetch(&layout_url(&server, loc, &alice.rt)).await.0,
        StatusCode::NOT_FOUND,
        "no layout yet"
    );
    let image: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(
        put_layout(&server, &alice.token, loc, "image/png", image.clone()).await,
        StatusCode::OK
    );
    let (status, mime, bytes) = fetch(&layout_url(&server, loc, &alice.rt)).await;
    assert_eq!((status, mime.as_str()), (StatusCode::OK, "image/png"));
    assert!(bytes == image);

    // A new image replaces the old one, whose bytes are deleted.
    assert_eq!(
        put_layout(&server, &alice.token, loc, "image/svg+xml", b"<svg/>".to_vec()).await,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&layout_url(&server, loc, &alice.rt)).await,
        (StatusCode::OK, "image/svg+xml".into(), b"<svg/>".to_vec())
    );
    assert_eq!(blob_files(&server), 1);

    assert_eq!(
        fetch(&server.url(&format!("/api/locations/{loc}/layout"))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fetch(&layout_url(&server, loc, "bad")).await.0,
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}

#[tokio::test]
async fn only_users_upload_layouts_and_no_organization_sees_anothers() {
    let server = TestServer::start_with(|s| s.content.max_file_bytes = 64 * 1024).await;
    let alice = user_of(&server, "acme").await;
    let device = device_of(&server, "acme").await;
    let eve = user_of(&server, "evil").await;
    let loc = "loc-1";
    assert_eq!(
        put_layout(&server, &alice.token, loc, "image/png", b"mine".to_vec()).await,
        StatusCode::OK
    );

    assert_eq!(
        put_layout(&server, &alice.rt, loc, "image/png", b"x".to_vec()).await,
        StatusCode::FORBIDDEN,
        "a restricted token only fetches"
    );
    assert_eq!(
        put_layout(&server, &device.token, loc, "image/png", b"x".to_vec()).await,
        StatusCode::FORBIDDEN,
        "devices read"
    );
    assert_eq!(fetch(&layout_url(&server, loc, &device.rt)).await.2, b"mine");
    assert_eq!(fetch(&layout_url(&server, loc, &eve.rt)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(&layout_url(&server, loc, &eve.token)).await.0,
        StatusCode::NOT_FOUND
    );
    // Eve's own layout at the same location id is hers alone.
    assert_eq!(
        put_layout(&server, &eve.token, loc, "image/png", b"hers".to_vec()).await,
        StatusCode::OK
    );
    assert_eq!(fetch(&layout_url(&server, loc, &alice.rt)).await.2, b"mine");
    assert_eq!(fetch(&layout_url(&server, loc, &eve.rt)).await.2, b"hers");

    assert_eq!(
        put_layout(&server, &alice.token, loc, "image/png", vec![0; 64 * 1024 + 1]).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        fetch(&layout_url(&server, loc, &alice.rt)).await.2,
        b"mine",
        "the old one stays"
    );
    server.stop().await;
}
