use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ppp::v2::{Builder, Command, Protocol, Version};
use tokio::io::AsyncWriteExt;

use super::*;

const BALANCER: &str = "10.0.0.5:40000";

fn balancer() -> SocketAddr {
    BALANCER.parse().unwrap()
}

fn v2(command: Command, client: &str) -> Vec<u8> {
    let client: SocketAddr = client.parse().unwrap();
    let server: SocketAddr = if client.is_ipv4() {
        "10.0.0.9:9999"
    } else {
        "[fd00::9]:9999"
    }
    .parse()
    .unwrap();
    Builder::with_addresses(Version::Two | command, Protocol::Stream, (client, server))
        .build()
        .unwrap()
}

/// Feeds `pieces` one write at a time (a header split across segments) and
/// reads the header with a 1 s deadline.
async fn read_pieces(pieces: &[&[u8]]) -> Result<Proxied, HeaderError> {
    let (mut client, mut server) = tokio::io::duplex(4096);
    let pieces: Vec<Vec<u8>> = pieces.iter().map(|p| p.to_vec()).collect();
    let writer = tokio::spawn(async move {
        for p in pieces {
            client.write_all(&p).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let r = tokio::time::timeout(Duration::from_secs(1), read(&mut server, balancer()))
        .await
        .expect("no wait past the header");
    drop(writer);
    r
}

#[tokio::test]
async fn v1_gives_the_client_address_and_keeps_the_bytes_after_it() {
    let p = read_pieces(&[b"PROXY TCP4 192.0.2.7 10.0.0.9 5", b"1234 9999\r", b"\n[frame]"])
        .await
        .unwrap();
    assert_eq!(p.client, "192.0.2.7:51234".parse().unwrap());
    assert_eq!(p.rest, b"[frame]");
    let p = read_pieces(&[b"PROXY TCP6 2001:db8::7 fd00::9 4000 80\r\nGET"])
        .await
        .unwrap();
    assert_eq!(p.client, "[2001:db8::7]:4000".parse().unwrap());
    assert_eq!(p.rest, b"GET");
}

#[tokio::test]
async fn v2_gives_the_client_address_even_split_across_reads() {
    let mut bytes = v2(Command::Proxy, "198.51.100.3:6000");
    bytes.extend_from_slice(b"data");
    let p = read_pieces(&[&bytes[..5], &bytes[5..20], &bytes[20..]]).await.unwrap();
    assert_eq!(p.client, "198.51.100.3:6000".parse().unwrap());
    assert_eq!(p.rest, b"data");
    let p = read_pieces(&[&v2(Command::Proxy, "[2001:db8::1]:7")]).await.unwrap();
    assert_eq!(p.client, "[2001:db8::1]:7".parse().unwrap());
    assert!(p.rest.is_empty());
}

#[tokio::test]
async fn health_checks_keep_the_balancer_address() {
    let p = read_pieces(&[b"PROXY UNKNOWN\r\n"]).await.unwrap();
    assert_eq!(p.client, balancer());
    let p = read_pieces(&[&v2(Command::Local, "198.51.100.3:6000")]).await.unwrap();
    assert_eq!(p.client, balancer());
}

#[tokio::test]
async fn garbage_and_oversized_headers_are_refused_without_waiting() {
    for garbage in [
        &b"[{\"k\":\"x\"}]"[..],
        b"GET / HTTP/1.1\r\n",
        b"PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n",
    ] {
        assert!(
            matches!(read_pieces(&[garbage]).await, Err(HeaderError::Invalid(_))),
            "{}",
            String::from_utf8_lossy(garbage)
        );
    }
    let long = format!("PROXY TCP4 {}", " ".repeat(200));
    assert!(matches!(
        read_pieces(&[long.as_bytes()]).await,
        Err(HeaderError::TooLong(_))
    ));
    // A v2 header announcing more than MAX_V2_PAYLOAD bytes: refused on its
    // fixed part, without reading (or waiting for) the payload.
    let mut big = v2(Command::Proxy, "198.51.100.3:6000")[..V2_FIXED].to_vec();
    big[14..16].copy_from_slice(&u16::try_from(MAX_V2_PAYLOAD + 1).unwrap().to_be_bytes());
    assert!(matches!(read_pieces(&[&big]).await, Err(HeaderError::TooLong(_))));
    assert!(matches!(
        read_pieces(&[b"PROXY TCP4 1.2"]).await,
        Err(HeaderError::Closed(14))
    ));
}

#[tokio::test]
async fn read_trusted_gives_up_at_the_deadline() {
    let (_client, mut server) = tokio::io::duplex(64);
    let start = Instant::now();
    let r = read_trusted(&mut server, balancer(), start + Duration::from_millis(100), "test").await;
    assert!(r.is_none());
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn only_trusted_networks_are_trusted() {
    let t = TrustedProxies::parse(&["10.0.0.0/24".into(), " fd00::1/128 ".into()]).unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(t.trusts(ip("10.0.0.200")));
    assert!(t.trusts(ip("::ffff:10.0.0.1")), "IPv4-mapped form of a trusted address");
    assert!(t.trusts(ip("fd00::1")));
    assert!(!t.trusts(ip("10.0.1.1")));
    assert!(!t.trusts(ip("fd00::2")));
    assert!(!TrustedProxies::default().trusts(ip("10.0.0.1")), "empty: off");
    let e = TrustedProxies::parse(&["10.0.0.1".into()]).unwrap_err();
    assert!(e.contains("\"10.0.0.1\""), "{e}");
}
