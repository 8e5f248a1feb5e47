//! The SMS providers against real peers: the `smpp34` crate's SMSC (an SMPP
//! 3.4 server this project does not write) and a small axum webhook receiver.

#[path = "../support/smsc/mod.rs"]
mod smsc;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use smpp34::SmppError;
use thingstead_server::sms::provider::{OutboundSms, SmsProvider, SmsSendError};
use thingstead_server::sms::smpp::{SmppProvider, SmppSettings};
use thingstead_server::sms::webhook::{WebhookProvider, WebhookSettings};

use smsc::{SmscTimers, TestSmsc};

fn sms(id: i64, destination: &str, text: &str) -> OutboundSms {
    OutboundSms {
        id,
        org: "acme".into(),
        device_uuid: Some("6f1c3c0e-0000-4000-8000-000000000001".into()),
        destination: destination.into(),
        text: text.into(),
    }
}

fn smpp_settings(smsc: &TestSmsc) -> SmppSettings {
    SmppSettings {
        addr: smsc.addr(),
        system_id: smsc::SYSTEM_ID.into(),
        password: smsc::PASSWORD.into(),
        system_type: "thingstead".into(),
        source_addr: "+15550001111".into(),
        enquire_link_secs: 30,
        timeout_secs: 5,
    }
}

async fn wait_until(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn smpp_binds_as_3_4_transmitter_and_returns_the_smsc_message_id() {
    let smsc = TestSmsc::start().await;
    let provider = SmppProvider::new(smpp_settings(&smsc));
    assert_eq!(provider.name(), "smpp");
    assert!(smsc.binds().is_empty(), "the bind is lazy");

    let id = provider
        .send(&sms(1, "+15551234567", "hello from thingstead"))
        .await
        .expect("sent");

    let binds = smsc.binds();
    assert_eq!(binds.len(), 1);
    assert!(binds[0].accepted);
    assert_eq!(binds[0].system_id, "esme1");
    assert_eq!(binds[0].system_type, "thingstead");
    assert_eq!(binds[0].interface_version, 0x34);
    let submits = smsc.submits();
    assert_eq!(submits.len(), 1);
    let submit = &submits[0];
    assert_eq!(submit.message_id.as_deref(), Some(id.as_str()));
    assert_eq!(submit.destination_addr, "15551234567");
    assert_eq!(
        (submit.dest_addr_ton, submit.dest_addr_npi),
        (1, 1),
        "international / ISDN"
    );
    assert_eq!(submit.source_addr, "15550001111");
    assert_eq!((submit.source_addr_ton, submit.source_addr_npi), (1, 1));
    assert_eq!(submit.data_coding, 0);
    assert_eq!(submit.short_message, b"hello from thingstead");
    assert_eq!(submit.message_payload, None);

    // The second send reuses the bound session.
    let second = provider.send(&sms(2, "+447700900123", "again")).await.expect("sent");
    assert_ne!(second, id);
    let submits = smsc.submits();
    assert_eq!(smsc.binds().len(), 1);
    assert_eq!(submits[1].session_id, submits[0].session_id);
    assert_eq!(submits[1].destination_addr, "447700900123");
    provider.close().await;
    assert!(
        smsc.wait_for(Duration::from_secs(5), |s| s.closed_sessions().len() == 1)
            .await
    );
}

#[tokio::test]
async fn smpp_sends_non_ascii_as_ucs2_and_long_text_as_message_payload() {
    let smsc = TestSmsc::start().await;
    let provider = SmppProvider::new(smpp_settings(&smsc));

    provider
        .send(&sms(1, "+33612345678", "Température: 21 °C ✓"))
        .await
        .expect("sent");
    let long = "x".repeat(150) + &"é".repeat(100);
    provider.send(&sms(2, "+33612345678", &long)).await.expect("sent");

    let submits = smsc.submits();
    let decode = |octets: &[u8]| {
        let units: Vec<u16> = octets.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).unwrap()
    };
    assert_eq!(submits[0].data_coding, 8);
    assert_eq!(decode(&submits[0].short_message), "Température: 21 °C ✓");
    assert_eq!(submits[1].data_coding, 8);
    assert!(submits[1].short_message.is_empty());
    assert!(submits[1].message_payload.is_some(), "500 octets go in message_payload");
    assert_eq!(decode(submits[1].user_data()), long);
}

#[tokio::test]
async fn smpp_status_codes_map_to_permanent_and_transient() {
    let smsc = TestSmsc::start().await;
    smsc.reject_destination("15550000001", SmppError::ESME_RINVDSTADR);
    smsc.reject_destination("15550000002", SmppError::ESME_RTHROTTLED);
    smsc.reject_destination("15550000003", SmppError::ESME_RMSGQFUL);
    let provider = SmppProvider::new(smpp_settings(&smsc));

    let err = provider.send(&sms(1, "+15550000001", "x")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Permanent(_)), "{err}");
    let err = provider.send(&sms(2, "+15550000002", "x")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
    let err = provider.send(&sms(3, "+15550000003", "x")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
    assert_eq!(smsc.submits().len(), 3, "all three reached the SMSC");

    // A destination that is not E.164 never reaches the SMSC.
    let err = provider.send(&sms(4, "0612345678", "x")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Permanent(_)), "{err}");
    assert_eq!(smsc.submits().len(), 3);

    // Rejections do not cost the session.
    provider.send(&sms(5, "+15551234567", "fine")).await.expect("sent");
    assert_eq!(smsc.binds().len(), 1);
}

#[tokio::test]
async fn smpp_refused_bind_is_transient() {
    let smsc = TestSmsc::start().await;
    let provider = SmppProvider::new(SmppSettings {
        password: "wrong".into(),
        ..smpp_settings(&smsc)
    });
    let err = provider.send(&sms(1, "+15551234567", "x")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
    assert_eq!(smsc.binds().len(), 1);
    assert!(!smsc.binds()[0].accepted);
    assert!(smsc.submits().is_empty());
    assert!(!provider.is_bound().await);
}

#[tokio::test]
async fn smpp_reconnects_after_the_smsc_restarts() {
    let mut smsc = TestSmsc::start().await;
    let provider = SmppProvider::new(smpp_settings(&smsc));
    provider.send(&sms(1, "+15551234567", "before")).await.expect("sent");

    // The SMSC goes down: it unbinds its sessions and stops listening.
    smsc.stop().await;
    assert_eq!(smsc.unbind_all().await, 1);
    assert!(
        smsc.wait_for(Duration::from_secs(5), |s| s.closed_sessions().len() == 1)
            .await,
        "the provider closes the session the SMSC unbound"
    );
    assert!(wait_until(Duration::from_secs(5), async || !provider.is_bound().await).await);

    let err = provider.send(&sms(2, "+15551234567", "while down")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");

    smsc.restart().await;
    let id = provider
        .send(&sms(3, "+15551234567", "after"))
        .await
        .expect("sent after restart");
    let binds = smsc.binds();
    assert_eq!(binds.len(), 2, "bound again");
    assert!(binds.iter().all(|b| b.accepted));
    let submits = smsc.submits();
    assert_eq!(submits.len(), 2);
    assert_eq!(submits[1].message_id.as_deref(), Some(id.as_str()));
    assert_eq!(submits[1].short_message, b"after");
    assert_eq!(submits[1].session_id, binds[1].session_id);
}

#[tokio::test]
async fn smpp_reconnects_after_the_smsc_drops_an_idle_link() {
    // This SMSC closes a session it hears nothing from for 1.5 s; with our
    // enquire_link off the link drops, and the next send binds again.
    let smsc = TestSmsc::start_with(SmscTimers {
        inactivity_ms: 1_500,
        ..SmscTimers::default()
    })
    .await;
    let provider = SmppProvider::new(SmppSettings {
        enquire_link_secs: 0,
        ..smpp_settings(&smsc)
    });
    provider.send(&sms(1, "+15551234567", "one")).await.expect("sent");

    assert!(
        smsc.wait_for(Duration::from_secs(10), |s| s.closed_sessions().len() == 1)
            .await
    );
    assert!(wait_until(Duration::from_secs(5), async || !provider.is_bound().await).await);

    provider
        .send(&sms(2, "+15551234567", "two"))
        .await
        .expect("sent on a new session");
    assert_eq!(smsc.binds().len(), 2);
    let submits = smsc.submits();
    assert_ne!(submits[0].session_id, submits[1].session_id);
}

#[tokio::test]
async fn smpp_enquire_link_keeps_the_session_bound() {
    // The same SMSC as above, but our enquire_link every second keeps the link up.
    let smsc = TestSmsc::start_with(SmscTimers {
        inactivity_ms: 1_500,
        ..SmscTimers::default()
    })
    .await;
    let provider = SmppProvider::new(SmppSettings {
        enquire_link_secs: 1,
        ..smpp_settings(&smsc)
    });
    provider.send(&sms(1, "+15551234567", "one")).await.expect("sent");

    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(smsc.closed_sessions().is_empty(), "the SMSC kept the session");
    assert!(provider.is_bound().await);

    provider.send(&sms(2, "+15551234567", "two")).await.expect("sent");
    assert_eq!(smsc.binds().len(), 1);
    let submits = smsc.submits();
    assert_eq!(submits[0].session_id, submits[1].session_id);
}

#[tokio::test]
async fn smpp_answers_the_smscs_enquire_link() {
    // The SMSC probes every 300 ms and drops a session that does not answer within 1 s.
    let smsc = TestSmsc::start_with(SmscTimers {
        enquire_link_ms: 300,
        response_ms: 1_000,
        ..SmscTimers::default()
    })
    .await;
    let provider = SmppProvider::new(SmppSettings {
        enquire_link_secs: 0,
        ..smpp_settings(&smsc)
    });
    provider.send(&sms(1, "+15551234567", "one")).await.expect("sent");

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        smsc.closed_sessions().is_empty(),
        "the session answered every enquire_link"
    );
    provider.send(&sms(2, "+15551234567", "two")).await.expect("sent");
    assert_eq!(smsc.binds().len(), 1);
}

#[tokio::test]
async fn smpp_concurrent_sends_share_one_bind() {
    let smsc = TestSmsc::start().await;
    let provider = Arc::new(SmppProvider::new(smpp_settings(&smsc)));
    let sends = (0..10).map(|i| {
        let provider = provider.clone();
        tokio::spawn(async move { provider.send(&sms(i, "+15551234567", &format!("n{i}"))).await })
    });
    let mut ids = Vec::new();
    for send in sends {
        ids.push(send.await.unwrap().expect("sent"));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
    assert_eq!(smsc.binds().len(), 1);
    assert_eq!(smsc.submits().len(), 10);
}

#[tokio::test]
async fn smpp_unreachable_smsc_is_transient() {
    let mut smsc = TestSmsc::start().await;
    let settings = smpp_settings(&smsc);
    smsc.stop().await;
    let provider = SmppProvider::new(settings);
    let err = provider.send(&sms(1, "+15551234567", "x")).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
}

// ---------------------------------------------------------------- webhook

#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: Option<String>,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
}

async fn receive(
    State(receiver): State<Receiver>,
    Path(mode): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    receiver.received.lock().unwrap().push(Received {
        path: mode.clone(),
        authorization,
        body,
    });
    match mode.as_str() {
        "ok" => (StatusCode::OK, Json(json!({"id": "wh-123", "status": "queued"}))).into_response(),
        "message-id" => (StatusCode::CREATED, Json(json!({"message_id": 987}))).into_response(),
        "empty" => StatusCode::ACCEPTED.into_response(),
        "fail" => (StatusCode::INTERNAL_SERVER_ERROR, "database down").into_response(),
        "busy" => StatusCode::TOO_MANY_REQUESTS.into_response(),
        "bad" => (StatusCode::BAD_REQUEST, "unknown number").into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_receiver() -> (String, Receiver) {
    let receiver = Receiver::default();
    let app = axum::Router::new()
        .route("/sms/{mode}", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, receiver)
}

fn webhook(base: &str, mode: &str) -> WebhookProvider {
    WebhookProvider::new(WebhookSettings {
        url: format!("{base}/sms/{mode}"),
        timeout_secs: 1,
        authorization: Some("Bearer test-token".into()),
    })
}

#[tokio::test]
async fn webhook_2xx_is_sent_with_the_receivers_message_id() {
    let (base, receiver) = start_receiver().await;
    let provider = webhook(&base, "ok");
    assert_eq!(provider.name(), "webhook");
    let id = provider.send(&sms(42, "+15551234567", "hello ✓")).await.expect("sent");
    assert_eq!(id, "wh-123");

    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].authorization.as_deref(), Some("Bearer test-token"));
    assert_eq!(
        received[0].body,
        json!({
            "id": 42,
            "org": "acme",
            "device_uuid": "6f1c3c0e-0000-4000-8000-000000000001",
            "to": "+15551234567",
            "text": "hello ✓",
        })
    );

    let id = webhook(&base, "message-id")
        .send(&sms(43, "+15551234567", "x"))
        .await
        .expect("sent");
    assert_eq!(id, "987");
    let mut no_device = sms(44, "+15551234567", "x");
    no_device.device_uuid = None;
    let id = webhook(&base, "empty").send(&no_device).await.expect("sent");
    assert_eq!(id, "http-202-44");
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received[2].path, "empty");
    assert_eq!(received[2].body["device_uuid"], Value::Null);
}

#[tokio::test]
async fn webhook_failures_are_transient_or_permanent() {
    let (base, receiver) = start_receiver().await;
    let one = sms(7, "+15551234567", "x");

    let err = webhook(&base, "fail").send(&one).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
    assert!(err.to_string().contains("database down"), "{err}");
    let err = webhook(&base, "busy").send(&one).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
    let err = webhook(&base, "bad").send(&one).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Permanent(_)), "{err}");
    assert!(err.to_string().contains("unknown number"), "{err}");
    let err = webhook(&base, "slow").send(&one).await.unwrap_err();
    assert!(
        matches!(err, SmsSendError::Transient(_)),
        "a timeout is transient: {err}"
    );
    assert_eq!(receiver.received.lock().unwrap().len(), 4);

    // Nothing listening: transient.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let err = webhook(&closed, "ok").send(&one).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Transient(_)), "{err}");
}
