//! `POST /spaces/{s}/communications/email` against a real SMTP server
//! (Python's aiosmtpd, `thingstead_testkit::smtp`): what arrives, and the
//! errors when there is no relay, the relay is down or silent, the
//! request is bad or too large, or the token may not send mail.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use thingstead_server::settings::{Settings, SmtpTls};
use thingstead_server::testing::TestServer;
use thingstead_testkit::smtp::SmtpServer;

use super::common::http;

const EMAIL: &str = "/spaces/acme/communications/email";
const FROM: &str = "iot@thingstead.test";

/// `settings` sending through plain SMTP at 127.0.0.1:`port`.
pub(super) fn relay_at(settings: &mut Settings, port: u16) {
    settings.smtp.host = "127.0.0.1".into();
    settings.smtp.port = port;
    settings.smtp.tls = SmtpTls::None;
    settings.smtp.from = FROM.into();
}

/// A server with spaces `acme` and `other`, sending through `port` (none: no relay).
async fn server(port: Option<u16>, configure: impl FnOnce(&mut Settings)) -> TestServer {
    let server = TestServer::start_with(|s| {
        if let Some(port) = port {
            relay_at(s, port);
        }
        configure(s);
    })
    .await;
    server.create_org("acme").await;
    server.create_org("other").await;
    server
}

/// A token of a new OAuth2 client of `space` with `scopes`.
pub(super) async fn client_token(server: &TestServer, space: &str, scopes: &[&str]) -> String {
    let p = server.platform();
    let tenant = p.tenant(space).await.expect("space");
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let c = p.create_client(&tenant, &scopes).await.expect("client");
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        c.client_id, c.client_secret
    );
    let r = http()
        .post(server.url("/oauth2/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token");
    let v: Value = r.json().await.expect("JSON");
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// One call; status, headers and body (`Null` when empty). Error bodies
/// must have the IoT Studio shape.
pub(super) async fn call(
    server: &TestServer,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<(&str, String)>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = http().request(method.clone(), server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some((ct, b)) = body {
        req = req.header(CONTENT_TYPE, ct).body(b);
    }
    let r = req.send().await.expect("request");
    let (status, headers) = (r.status(), r.headers().clone());
    let bytes = r.bytes().await.expect("body");
    if bytes.is_empty() {
        return (status, headers, Value::Null);
    }
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{method} {path}: {status} {ct:?}");
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{method} {path}: not JSON"));
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(v["error"]["status"], status.as_u16(), "{method} {path}: {v}");
        assert!(v["error"]["message"].is_string(), "{v}");
    }
    (status, headers, v)
}

async fn send(
    server: &TestServer,
    token: Option<&str>,
    mail: &Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    call(
        server,
        token,
        Method::POST,
        EMAIL,
        Some(("application/json", mail.to_string())),
    )
    .await
}

#[tokio::test]
async fn mail_arrives_at_the_relay_with_its_recipients_subject_and_bodies() {
    let smtp = SmtpServer::start();
    let server = server(Some(smtp.port()), |_| {}).await;
    let t = client_token(&server, "acme", &["email"]).await;

    let (status, _, body) = send(
        &server,
        Some(&t),
        &json!({
            "to": ["ops@example.com", "lead@example.com"],
            "cc": ["audit@example.com"],
            "bcc": ["hidden@example.com"],
            "subject": "Pump 3 alarm",
            "body": {"text": "pressure high", "html": "<p>pressure <b>high</b></p>"}
        }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, Value::Null, "202 has no body");
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    let m = &mail[0];
    let mut rcpt = m.envelope_recipients();
    rcpt.sort();
    assert_eq!(
        rcpt,
        [
            "audit@example.com",
            "hidden@example.com",
            "lead@example.com",
            "ops@example.com"
        ]
    );
    assert_eq!(m.envelope_sender().as_deref(), Some(FROM));
    assert_eq!(m.header("From").as_deref(), Some(FROM));
    assert_eq!(m.header("To").as_deref(), Some("ops@example.com, lead@example.com"));
    assert_eq!(m.header("Cc").as_deref(), Some("audit@example.com"));
    assert_eq!(m.header("Subject").as_deref(), Some("Pump 3 alarm"));
    assert!(m.header("Bcc").is_none(), "{}", m.raw);
    assert_eq!(
        m.raw.matches("hidden@example.com").count(),
        1,
        "Bcc only in the envelope (aiosmtpd's X-RcptTo): {}",
        m.raw
    );
    assert!(
        m.header("Content-Type")
            .unwrap_or_default()
            .starts_with("multipart/alternative")
    );
    let body = m.body();
    assert!(body.contains("text/plain") && body.contains("pressure high"), "{body}");
    assert!(
        body.contains("text/html") && body.contains("<p>pressure <b>high</b></p>"),
        "{body}"
    );

    // Text only, as the iots model sends it (every field, unset ones null).
    let (status, _, _) = send(
        &server,
        Some(&t),
        &json!({"to": ["ops@example.com"], "cc": null, "bcc": null, "subject": null,
                "body": {"text": "just text", "html": null}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mail = smtp.messages();
    assert_eq!(mail.len(), 2);
    let m = &mail[1];
    assert!(m.header("Content-Type").unwrap_or_default().starts_with("text/plain"));
    assert!(m.header("Subject").is_none());
    assert!(m.body().contains("just text"));
    server.stop().await;
}

#[tokio::test]
async fn without_a_relay_mail_is_refused_with_a_clear_403() {
    let server = server(None, |_| {}).await;
    let t = client_token(&server, "acme", &["email"]).await;
    let (status, _, body) = send(&server, Some(&t), &json!({"to": ["ops@example.com"], "subject": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("no SMTP relay is configured"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn a_relay_that_is_down_or_silent_is_an_error_in_time_not_a_hang() {
    // Down: nothing listens on the port any more.
    let mut smtp = SmtpServer::start();
    let down = server(Some(smtp.port()), |s| s.smtp.timeout_ms = 600).await;
    let t = client_token(&down, "acme", &["email"]).await;
    let mail = json!({"to": ["ops@example.com"], "subject": "s", "body": {"text": "t"}});
    smtp.kill();
    let started = Instant::now();
    let (status, headers, body) = send(&down, Some(&t), &mail).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(headers.get(RETRY_AFTER).is_some());
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mail relay"),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    down.stop().await;

    // Silent: it accepts the connection and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            open.push(s);
        }
    });
    let silent = server(Some(port), |s| s.smtp.timeout_ms = 600).await;
    let t = client_token(&silent, "acme", &["email"]).await;
    let started = Instant::now();
    let (status, _, body) = send(&silent, Some(&t), &mail).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_millis(2500),
        "within smtp.timeout_ms, before the client's 3 s: {took:?}"
    );
    held.abort();
    silent.stop().await;
}

#[tokio::test]
async fn bad_addresses_and_injected_headers_are_400_and_oversized_mail_413() {
    let smtp = SmtpServer::start();
    let server = server(Some(smtp.port()), |s| {
        s.smtp.max_recipients = 3;
        s.smtp.max_content_bytes = 1000;
        s.http_limits.max_body_bytes = 8 * 1024;
    })
    .await;
    let t = client_token(&server, "acme", &["email"]).await;
    for (mail, hint) in [
        (json!({"to": ["not an address"]}), "to[0]"),
        (
            json!({"to": ["ops@example.com"], "cc": ["ok@example.com", "@nope"]}),
            "cc[1]",
        ),
        (json!({"to": ["ops@example.com"], "bcc": [42]}), "bcc[0]"),
        (json!({"to": []}), "at least one"),
        (json!({"subject": "no recipient"}), "at least one"),
        (
            json!({"to": ["a@example.com", "b@example.com"], "cc": ["c@example.com"], "bcc": ["d@example.com"]}),
            "at most 3",
        ),
        (
            json!({"to": ["ops@example.com"], "subject": "hi\r\nBcc: victim@example.com"}),
            "control characters",
        ),
        (
            json!({"to": ["ops@example.com"], "subject": "hi\nX-Evil: 1"}),
            "control characters",
        ),
    ] {
        let (status, _, body) = send(&server, Some(&t), &mail).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{mail}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(hint), "{mail}: {body}");
    }
    let (status, _, _) = call(
        &server,
        Some(&t),
        Method::POST,
        EMAIL,
        Some(("application/json", "{\"to\": [".into())),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Over smtp.max_content_bytes, and over the face's body limit.
    let big = json!({"to": ["ops@example.com"], "body": {"text": "x".repeat(600), "html": "y".repeat(600)}});
    let (status, _, body) = send(&server, Some(&t), &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let huge = json!({"to": ["ops@example.com"], "body": {"text": "x".repeat(20_000)}});
    let (status, _, body) = send(&server, Some(&t), &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(smtp.messages().is_empty(), "nothing was sent");
    server.stop().await;
}

#[tokio::test]
async fn sending_mail_needs_a_token_of_the_space_with_the_email_scope() {
    let smtp = SmtpServer::start();
    let server = server(Some(smtp.port()), |_| {}).await;
    let mail = json!({"to": ["ops@example.com"], "subject": "s"});
    let things_only = client_token(&server, "acme", &["thing", "category"]).await;
    let (status, _, body) = send(&server, Some(&things_only), &mail).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap_or_default().contains("email"),
        "{body}"
    );
    let (status, _, _) = send(&server, None, &mail).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other = client_token(&server, "other", &["email"]).await;
    let (status, _, _) = send(&server, Some(&other), &mail).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(smtp.messages().is_empty(), "nothing was sent");
    // The same mail with the scope goes.
    let t = client_token(&server, "acme", &["email"]).await;
    assert_eq!(send(&server, Some(&t), &mail).await.0, StatusCode::ACCEPTED);
    assert_eq!(smtp.messages().len(), 1);
    server.stop().await;
}
