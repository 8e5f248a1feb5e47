//! Cloud-to-device pushes (WIRE.md C.5): connect to the device's listener,
//! write the raw bytes, close. Used by `POST /api/1/devices/messages` and
//! `thingstead admin device push`.
//!
//! Where a push may go ([`PushPolicy`]): by default only to the address the
//! device last connected from. An explicit host must be an IP literal (a
//! name could resolve anywhere later) and either equal that address or fall
//! within `push.allowed_networks`. The server's own listeners are never a
//! destination. A request is checked whole ([`plan`]) before any connection
//! is made; then its devices are pushed concurrently (bounded) under one
//! deadline ([`push_all`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::StreamExt;
use ipnet::IpNet;
use thingstead_core::records::{DeliveryRecord, DeliveryResult, DeviceRecord};
use thingstead_core::{CoreError, Platform, Tenant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::settings::PushSettings;

/// Devices of one request pushed at once.
const CONCURRENCY: usize = 16;

/// Where to push.
#[derive(Debug, Clone)]
pub struct PushTarget {
    /// Host (an IP literal), or `None` for the device's last-seen address.
    pub host: Option<String>,
    /// The device's receive port.
    pub port: u16,
}

/// Why a push was refused before any connection was made.
#[derive(Debug, thiserror::Error)]
pub enum PushRefused {
    /// The host is not an IP literal.
    #[error("host {0:?} is not an IP address (host names are not accepted)")]
    NotAnIp(String),
    /// The host is neither the device's address nor in an allowed network.
    #[error("host {host} is neither the address device {device} last connected from nor within push.allowed_networks")]
    NotAllowed {
        /// The host asked for.
        host: IpAddr,
        /// The device.
        device: String,
    },
    /// The target is one of the server's own listeners.
    #[error("{0} is one of this server's own listeners")]
    OwnListener(SocketAddr),
    /// The port is 0.
    #[error("port must be 1 to 65535")]
    NoPort,
}

/// Why a push request failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A device is unknown (to this tenant) or the store failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A target is not allowed.
    #[error(transparent)]
    Refused(#[from] PushRefused),
}

/// Parses `push.allowed_networks`; the error names the bad entry.
pub fn parse_networks(networks: &[String]) -> Result<Vec<IpNet>, String> {
    networks
        .iter()
        .map(|n| {
            n.trim()
                .parse::<IpNet>()
                .map_err(|e| format!("allowed_networks: {n:?} is not a CIDR ({e})"))
        })
        .collect()
}

/// Where pushes may go.
#[derive(Debug, Clone)]
pub struct PushPolicy {
    allowed: Vec<IpNet>,
    own_listeners: Vec<SocketAddr>,
}

impl PushPolicy {
    /// The policy of `settings`, never reaching `own_listeners` (the server's
    /// bound HTTP and device TCP addresses).
    pub fn new(settings: &PushSettings, own_listeners: Vec<SocketAddr>) -> Result<Self, String> {
        Ok(Self {
            allowed: parse_networks(&settings.allowed_networks)?,
            own_listeners,
        })
    }

    /// Where `device`'s push goes: `Ok(None)` when no host is given and the
    /// device's address is unknown. No connection is made.
    pub fn resolve(&self, device: &DeviceRecord, target: &PushTarget) -> Result<Option<SocketAddr>, PushRefused> {
        if target.port == 0 {
            return Err(PushRefused::NoPort);
        }
        let seen = last_seen_ip(device);
        let ip = match target.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            None => match seen {
                Some(ip) => ip,
                None => return Ok(None),
            },
            Some(host) => {
                let ip = parse_ip(host).ok_or_else(|| PushRefused::NotAnIp(host.to_owned()))?;
                let admitted = seen == Some(ip) || self.allowed.iter().any(|n| n.contains(&ip));
                if !admitted {
                    return Err(PushRefused::NotAllowed {
                        host: ip,
                        device: device.uuid.clone(),
                    });
                }
                ip
            }
        };
        let addr = SocketAddr::new(ip, target.port);
        if self.is_own_listener(addr) {
            return Err(PushRefused::OwnListener(addr));
        }
        Ok(Some(addr))
    }

    /// Whether `addr` reaches one of our listeners: a local address (any,
    /// when a listener is bound to `0.0.0.0`/`::`) with a listener's port.
    fn is_own_listener(&self, addr: SocketAddr) -> bool {
        self.own_listeners
            .iter()
            .any(|own| own.port() == addr.port() && (own.ip().to_canonical() == addr.ip() || is_local(addr.ip())))
    }
}

/// An IP literal (`10.0.0.5`, `fd00::1`, `[fd00::1]`), canonical (IPv4-mapped IPv6 as IPv4).
fn parse_ip(host: &str) -> Option<IpAddr> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The IP the device last connected from (stored as `ip` or `ip:port`).
fn last_seen_ip(device: &DeviceRecord) -> Option<IpAddr> {
    let a = device.last_seen_addr.as_deref()?;
    a.parse::<IpAddr>()
        .ok()
        .or_else(|| a.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// Whether `ip` is an address of this host: loopback, unspecified, or one
/// a socket can be bound to (binding makes no network traffic).
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// One device of a checked request and where its push goes.
#[derive(Debug, Clone)]
pub struct PlannedPush {
    /// The device.
    pub device: DeviceRecord,
    /// Where to connect; `None`: the device's address is unknown.
    pub addr: Option<SocketAddr>,
}

/// Checks a whole request: every device exists in `tenant` and every target
/// is allowed. Nothing is connected to; the first failure fails it all.
pub async fn plan(
    platform: &Platform,
    tenant: &Tenant,
    device_ids: &[String],
    target: &PushTarget,
    policy: &PushPolicy,
) -> Result<Vec<PlannedPush>, PushError> {
    let mut devices = Vec::with_capacity(device_ids.len());
    for id in device_ids {
        devices.push(platform.device(tenant, id).await?);
    }
    devices
        .into_iter()
        .map(|device| {
            let addr = policy.resolve(&device, target)?;
            Ok(PlannedPush { device, addr })
        })
        .collect()
}

/// Pushes `data` to every planned device, at most 16 at once,
/// each within `per_device` and all within `deadline`; records and returns
/// each outcome, in the order planned.
pub async fn push_all(
    platform: &Platform,
    tenant: &Tenant,
    planned: Vec<PlannedPush>,
    data: &[u8],
    per_device: Duration,
    deadline: Duration,
) -> Result<Vec<DeliveryRecord>, CoreError> {
    let deadline = Instant::now() + deadline;
    let results: Vec<Result<DeliveryRecord, CoreError>> = futures::stream::iter(planned)
        .map(|p| push_one(platform, tenant, p, data, per_device, deadline))
        .buffered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn push_one(
    platform: &Platform,
    tenant: &Tenant,
    planned: PlannedPush,
    data: &[u8],
    per_device: Duration,
    deadline: Instant,
) -> Result<DeliveryRecord, CoreError> {
    let device = &planned.device;
    let Some(addr) = planned.addr else {
        return platform
            .record_delivery(
                tenant,
                &device.uuid,
                "",
                DeliveryResult::Refused,
                Some("no known address for the device"),
            )
            .await;
    };
    let until = deadline.min(Instant::now() + per_device);
    let (result, detail) = if Instant::now() >= deadline {
        (
            DeliveryResult::Timeout,
            Some("the request's deadline passed before this device's turn".to_owned()),
        )
    } else {
        match tokio::time::timeout_at(until, deliver(addr, data)).await {
            Ok(Ok(())) => (DeliveryResult::Delivered, None),
            Ok(Err(e)) => (DeliveryResult::Refused, Some(e.to_string())),
            Err(_) => (
                DeliveryResult::Timeout,
                Some("no delivery within the time allowed".to_owned()),
            ),
        }
    };
    tracing::info!(device = %device.uuid, target = %addr, result = result.as_str(), "cloud-to-device push");
    platform
        .record_delivery(tenant, &device.uuid, &addr.to_string(), result, detail.as_deref())
        .await
}

async fn deliver(addr: SocketAddr, data: &[u8]) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(data).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(last_seen: Option<&str>) -> DeviceRecord {
        DeviceRecord {
            org: "acme".into(),
            uuid: "d1".into(),
            name: String::new(),
            secret: String::new(),
            totp_seed: None,
            last_seen_addr: last_seen.map(Into::into),
            last_seen_at: None,
            created_at: 0,
        }
    }

    fn policy(allowed: &[&str], own: &[&str]) -> PushPolicy {
        let settings = PushSettings {
            allowed_networks: allowed.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        PushPolicy::new(&settings, own.iter().map(|a| a.parse().unwrap()).collect()).unwrap()
    }

    fn to(host: Option<&str>, port: u16) -> PushTarget {
        PushTarget {
            host: host.map(Into::into),
            port,
        }
    }

    #[test]
    fn hosts_must_be_the_devices_address_or_allowed() {
        let p = policy(&["10.1.0.0/16"], &[]);
        let d = device(Some("192.0.2.7:5123"));
        assert_eq!(
            p.resolve(&d, &to(None, 4010)).unwrap(),
            Some("192.0.2.7:4010".parse().unwrap())
        );
        assert!(p.resolve(&d, &to(Some("192.0.2.7"), 4010)).is_ok());
        assert!(p.resolve(&d, &to(Some("10.1.2.3"), 4010)).is_ok());
        assert!(matches!(
            p.resolve(&d, &to(Some("169.254.169.254"), 80)),
            Err(PushRefused::NotAllowed { .. })
        ));
        assert!(matches!(
            p.resolve(&d, &to(Some("localhost"), 80)),
            Err(PushRefused::NotAnIp(_))
        ));
        assert_eq!(p.resolve(&device(None), &to(None, 4010)).unwrap(), None);
    }

    #[test]
    fn own_listeners_are_never_a_destination() {
        let p = policy(&["0.0.0.0/0", "::/0"], &["0.0.0.0:9999", "127.0.0.1:8080"]);
        let d = device(Some("127.0.0.1"));
        for host in ["127.0.0.1", "127.0.0.2", "0.0.0.0", "::ffff:127.0.0.1"] {
            assert!(
                matches!(p.resolve(&d, &to(Some(host), 9999)), Err(PushRefused::OwnListener(_))),
                "{host}"
            );
        }
        assert!(matches!(
            p.resolve(&d, &to(None, 8080)),
            Err(PushRefused::OwnListener(_))
        ));
        assert!(p.resolve(&d, &to(None, 4010)).is_ok());
    }
}
