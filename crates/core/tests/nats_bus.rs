//! The NATS bus against a real nats-server (see `thingstead_testkit::nats`).
#![cfg(feature = "nats")]

use std::time::Duration;

use thingstead_core::OrgName;
use thingstead_core::bus::nats::NatsBus;
use thingstead_core::bus::{Bus, BusEvent, DropReason, Filter, Subscriber};
use thingstead_testkit::nats::NatsServer;

const CONNECT: Duration = Duration::from_secs(5);

fn sms(org: &str, id: i64) -> BusEvent {
    BusEvent::SmsQueued { org: org.into(), id }
}

async fn next(sub: &mut Subscriber, within: Duration) -> Option<BusEvent> {
    tokio::time::timeout(within, sub.recv()).await.ok()?.ok()
}

#[tokio::test]
async fn an_event_published_on_one_node_reaches_subscribers_on_another() {
    let nats = NatsServer::start();
    let a = NatsBus::connect(&nats.url(), CONNECT).await.unwrap();
    let b = NatsBus::connect(&nats.url(), CONNECT).await.unwrap();
    let acme = OrgName::parse("acme").unwrap();
    let mut on_b = b.subscribe(Filter::tenant(&acme, "sms.>").unwrap());
    let mut other_on_b = b.subscribe(Filter::tenant(&OrgName::parse("other").unwrap(), ">").unwrap());
    let mut on_a = a.subscribe(Filter::everything());

    a.publish(sms("acme", 1)).await;
    assert_eq!(next(&mut on_b, Duration::from_secs(5)).await, Some(sms("acme", 1)));
    assert_eq!(
        next(&mut on_a, Duration::from_secs(1)).await,
        Some(sms("acme", 1)),
        "the publisher's own subscribers hear it once"
    );
    assert_eq!(
        next(&mut on_a, Duration::from_millis(300)).await,
        None,
        "not echoed back a second time"
    );
    assert_eq!(
        next(&mut other_on_b, Duration::from_millis(300)).await,
        None,
        "another tenant's filter"
    );
}

#[tokio::test]
async fn delivery_resumes_after_nats_restarts_and_the_gap_is_counted() {
    let mut nats = NatsServer::start();
    let a = NatsBus::connect(&nats.url(), CONNECT).await.unwrap();
    let b = NatsBus::connect(&nats.url(), CONNECT).await.unwrap();
    let mut on_b = b.subscribe(Filter::everything());
    a.publish(sms("acme", 1)).await;
    assert_eq!(
        next(&mut on_b, Duration::from_secs(5)).await,
        Some(sms("acme", 1)),
        "{:?} {:?}",
        a.stats(),
        b.stats()
    );

    nats.kill();
    // While NATS is down, publishing neither blocks nor fails: it drops and counts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while a.stats().dropped(DropReason::Disconnected) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "publishes while down were never counted"
        );
        let started = tokio::time::Instant::now();
        a.publish(sms("acme", 2)).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "publish blocked while NATS was down"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    nats.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut id = 100;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery did not resume after the restart"
        );
        id += 1;
        a.publish(sms("acme", id)).await;
        match next(&mut on_b, Duration::from_millis(300)).await {
            Some(BusEvent::SmsQueued { id: got, .. }) if got > 100 => break,
            _ => {}
        }
    }
    assert!(a.stats().reconnects >= 1, "{:?}", a.stats());
    assert!(b.stats().reconnects >= 1, "{:?}", b.stats());
}

#[tokio::test]
async fn connecting_to_an_absent_nats_fails_quickly_and_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let err = NatsBus::connect(&format!("nats://127.0.0.1:{port}"), Duration::from_secs(2))
        .await
        .err()
        .expect("no NATS there");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let msg = err.to_string();
    assert!(
        msg.contains("cannot connect to NATS") && msg.contains(&port.to_string()),
        "{msg}"
    );
}

#[tokio::test]
async fn what_arrives_from_nats_is_parsed_strictly_and_bad_events_are_counted() {
    let nats = NatsServer::start();
    let node = NatsBus::connect(&nats.url(), CONNECT).await.unwrap();
    let mut sub = node.subscribe(Filter::everything());
    let rogue = async_nats::connect(nats.url()).await.unwrap();
    let good = sms("acme", 1);
    // Not JSON; an event for acme on another tenant's subject; then a good one.
    rogue
        .publish("thingstead.acme.sms.1.queued", "nope".into())
        .await
        .unwrap();
    rogue
        .publish("thingstead.other.sms.1.queued", good.to_wire().into())
        .await
        .unwrap();
    rogue.publish(good.subject(), good.to_wire().into()).await.unwrap();
    rogue.flush().await.unwrap();
    assert_eq!(next(&mut sub, Duration::from_secs(5)).await, Some(good));
    assert_eq!(node.stats().dropped(DropReason::Invalid), 2);
}
