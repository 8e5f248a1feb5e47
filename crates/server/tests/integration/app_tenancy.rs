//! Nothing crosses organizations: every resource route, tried with a
//! second organization's user token on the first one's records, answers
//! 404 or 403 and never their data, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::app_resources::{add_org_user, call, server_with_org, user_token};

#[tokio::test]
async fn every_route_with_another_organizations_token_gets_404_or_403_never_data() {
    let server = server_with_org("acme").await;
    add_org_user(&server, "zeta").await;
    let acme = user_token(&server, "acme").await;
    let zeta = user_token(&server, "zeta").await;

    let mut records = Vec::new();
    for base in ["/api/devices", "/api/things", "/api/experiences", "/api/locations", "/api/connectors/feeds"] {
        let (_, doc) = call(&server, &acme, Method::POST, base, Some(&json!({"name": "secret-name", "subtype": "thingstead:feed:messages"}))).await;
        records.push((base, doc["uuid"].as_str().expect("uuid").to_owned()));
    }
    call(&server, &acme, Method::PUT, "/api/data/g/k", Some(&json!({"secret": "secret-name"}))).await;

    let mut tried = 0;
    for (base, uuid) in &records {
        let one = format!("{base}/{uuid}");
        for (method, path, body) in [
            (Method::GET, one.clone(), None),
            (Method::PATCH, one.clone(), Some(json!({"name": "stolen"}))),
            (Method::DELETE, one.clone(), None),
        ] {
            let (status, answer) = call(&server, &zeta, method.clone(), &path, body.as_ref()).await;
            assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN, "{method} {path}: {status}");
            assert!(!answer.to_string().contains("secret-name"), "{answer}");
            tried += 1;
        }
        // Finding lists none of them.
        let (status, found) = call(&server, &zeta, Method::GET, &format!("{base}?name=secret-name"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["total"], 0, "{base}: {found}");
        let (_, all) = call(&server, &zeta, Method::GET, base, None).await;
        assert!(!all.to_string().contains(uuid.as_str()), "{all}");
        tried += 2;
    }
    let (feeds, feed) = records[4].clone();
    let (status, answer) = call(&server, &zeta, Method::GET, &format!("{feeds}/{feed}/data"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    for (method, body) in [(Method::GET, None), (Method::DELETE, None), (Method::PUT, Some(json!({"mine": 1})))] {
        let (status, answer) = call(&server, &zeta, method.clone(), "/api/data/g/k", body.as_ref()).await;
        if method == Method::PUT {
            // zeta's own item of the same name: acme's is untouched.
            assert_eq!(status, StatusCode::OK);
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {answer}");
        }
        assert!(!answer.to_string().contains("secret-name"), "{answer}");
    }
    let (_, found) = call(&server, &zeta, Method::GET, "/api/data?group=g", None).await;
    assert!(!found.to_string().contains("secret-name"), "{found}");
    assert!(tried >= 25);

    // acme's records are all still there, unchanged.
    for (base, uuid) in &records {
        let (status, doc) = call(&server, &acme, Method::GET, &format!("{base}/{uuid}"), None).await;
        assert_eq!(status, StatusCode::OK, "{base}");
        assert_eq!(doc["name"], "secret-name");
    }
    let (_, item) = call(&server, &acme, Method::GET, "/api/data/g/k", None).await;
    assert_eq!(item["value"], json!({"secret": "secret-name"}));
    server.stop().await;
}
