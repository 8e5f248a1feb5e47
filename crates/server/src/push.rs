//! Cloud-to-device pushes (WIRE.md C.5): connect to the device's listener,
//! write the raw bytes, close. Used by `POST /api/1/devices/messages` and
//! `thingstead admin device push`.
//!
//! The target host is the one given, or the address the device last sent
//! from. Anyone holding an API key of the organization can make the server
//! open such connections, so the operator should keep the server's
//! outbound network scoped accordingly.

use std::time::Duration;

use thingstead_core::records::{DeliveryRecord, DeliveryResult, DeviceRecord};
use thingstead_core::{CoreError, Platform, Tenant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Where to push.
#[derive(Debug, Clone)]
pub struct PushTarget {
    /// Host, or `None` for the device's last-seen address.
    pub host: Option<String>,
    /// The device's receive port.
    pub port: u16,
}

/// Pushes `data` to one device and records the outcome.
pub async fn push_to_device(
    platform: &Platform,
    tenant: &Tenant,
    device: &DeviceRecord,
    target: &PushTarget,
    data: &[u8],
    timeout: Duration,
) -> Result<DeliveryRecord, CoreError> {
    let host = target.host.clone().or_else(|| {
        device
            .last_seen_addr
            .as_deref()
            .and_then(|a| {
                a.parse::<std::net::IpAddr>()
                    .ok()
                    .or_else(|| a.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
            })
            .map(|ip| ip.to_string())
    });
    let Some(host) = host else {
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
    let addr = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", target.port)
    } else {
        format!("{host}:{}", target.port)
    };
    let (result, detail) = match tokio::time::timeout(timeout, deliver(&addr, data)).await {
        Ok(Ok(())) => (DeliveryResult::Delivered, None),
        Ok(Err(e)) => (DeliveryResult::Refused, Some(e.to_string())),
        Err(_) => (DeliveryResult::Timeout, Some(format!("no delivery within {timeout:?}"))),
    };
    tracing::info!(device = %device.uuid, target = %addr, result = result.as_str(), "cloud-to-device push");
    platform
        .record_delivery(tenant, &device.uuid, &addr, result, detail.as_deref())
        .await
}

async fn deliver(addr: &str, data: &[u8]) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(data).await?;
    stream.shutdown().await
}
