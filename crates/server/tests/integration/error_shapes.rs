//! Each face renders its own errors: every error under `/api/1` (from a
//! handler or from the framework) has the Hologram shape, and errors outside
//! any face keep `{"code", "message"}` only.

use reqwest::StatusCode;
use serde_json::Value;
use thingstead_server::testing::TestServer;

use super::common::http;

fn hologram_shape(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["error"], body["message"], "{body}");
}

fn default_shape(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body.get("success").is_none(), "{body}");
}

#[tokio::test]
async fn the_device_api_renders_every_error_in_its_shape_and_other_routes_in_the_default_one() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    let key = server.create_api_key("acme").await;
    let c = http();

    // Handler errors: no key, unknown record.
    let r = c.get(server.url("/api/1/devices")).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    hologram_shape(&r.json().await.expect("json"), "unauthorized");
    let r = c
        .get(server.url(&format!("/api/1/sms/999999?apikey={key}")))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    hologram_shape(&r.json().await.expect("json"), "not_found");

    // Framework errors inside the face: unknown route, method, bad JSON.
    for path in ["/api/1", "/api/1/no/such/route"] {
        let r = c.get(server.url(path)).send().await.expect("GET");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        hologram_shape(&r.json().await.expect("json"), "route_not_found");
    }
    let r = c
        .delete(server.url(&format!("/api/1/devices?apikey={key}")))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    hologram_shape(&r.json().await.expect("json"), "method_not_allowed");
    let r = c
        .post(server.url(&format!("/api/1/sms?apikey={key}")))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    hologram_shape(&r.json().await.expect("json"), "malformed_json");

    // Outside the face, even on a path that starts like it.
    for path in ["/no/such/route", "/api/10/sms", "/api"] {
        let r = c.get(server.url(path)).send().await.expect("GET");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        default_shape(&r.json().await.expect("json"), "route_not_found");
    }
    let r = c.delete(server.url("/healthz")).send().await.expect("DELETE");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    default_shape(&r.json().await.expect("json"), "method_not_allowed");
    server.stop().await;
}
