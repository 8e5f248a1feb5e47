//! E-mail through the things SDK against the real server and a real SMTP
//! server (Python's aiosmtpd, `thingstead_testkit::smtp`): what arrives,
//! and the error when the server has no relay.

use thingstead::things::{Email, ThingsError};
use thingstead_server::settings::SmtpTls;
use thingstead_server::testing::TestServer;
use thingstead_testkit::smtp::SmtpServer;

use super::things_support::{api_as, space};

const FROM: &str = "iot@thingstead.test";

#[tokio::test]
async fn mail_is_sent_through_the_relay_and_refused_without_one() {
    let smtp = SmtpServer::start();
    let port = smtp.port();
    let server = TestServer::start_with(|s| {
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = port;
        s.smtp.tls = SmtpTls::None;
        s.smtp.from = FROM.into();
    })
    .await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["email"]).await;
    let mail = Email {
        cc: vec!["audit@example.com".into()],
        bcc: vec!["hidden@example.com".into()],
        ..Email::to(["ops@example.com"])
            .subject("Pump 3 alarm")
            .text("pressure high")
            .html("<p>pressure <b>high</b></p>")
    };
    let sent = api
        .space("acme")
        .communications()
        .email()
        .send(&mail)
        .await
        .expect("sent");
    assert_eq!(sent.raw().status, 202);
    let received = smtp.messages();
    assert_eq!(received.len(), 1, "{received:?}");
    let m = &received[0];
    let mut rcpt = m.envelope_recipients();
    rcpt.sort();
    assert_eq!(rcpt, ["audit@example.com", "hidden@example.com", "ops@example.com"]);
    assert_eq!(m.header("Subject").as_deref(), Some("Pump 3 alarm"));
    let body = m.body();
    assert!(
        body.contains("pressure high") && body.contains("<p>pressure <b>high</b></p>"),
        "{body}"
    );
    server.stop().await;

    let server = TestServer::start().await;
    let c = space(&server, "acme").await;
    let api = api_as(&server, &c, &["email"]).await;
    let err = api
        .space("acme")
        .communications()
        .email()
        .send(&Email::to(["ops@example.com"]).text("x"))
        .await
        .expect_err("no relay");
    let ThingsError::Api { error, raw, .. } = &err else {
        panic!("expected an API error: {err:?}");
    };
    assert!(error.message.contains("no SMTP relay"), "{}", raw.text());
    server.stop().await;
}
