//! The PROXY protocol (HAProxy's v1 text and v2 binary header) for nodes
//! behind a TCP load balancer, shared by the HTTP and device listeners.
//!
//! A connection from a trusted network (`proxy_protocol.trusted`) must begin
//! with a header; the client address in it becomes the connection's address
//! for every per-address rule, the logs and a device's last-seen address.
//! Connections from anywhere else are served as they come: their header, if
//! they send one, is never honoured (anyone could claim any address).
//! Parsing is the `ppp` crate's; this module bounds the read in size and
//! time and decides which address counts.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use ppp::{HeaderResult, PartialResult, v1, v2};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, timeout_at};

use crate::activity::LogLimiter;

/// The longest v1 header, `\r\n` included (the spec's bound).
pub const MAX_V1: usize = 107;
/// The most address and TLV bytes accepted after a v2 header's fixed 16
/// bytes (the format allows 65535; balancers send far fewer).
pub const MAX_V2_PAYLOAD: usize = 512;
/// The v2 header's fixed part: signature, version/command, family, length.
const V2_FIXED: usize = 16;
/// The most bytes read while looking for a header.
const MAX_HEADER: usize = V2_FIXED + MAX_V2_PAYLOAD;

/// One line per period about rejected headers.
static REJECTED_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// The networks whose connections carry a PROXY header.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parses `proxy_protocol.trusted` (CIDRs; empty: off).
    pub fn parse(networks: &[String]) -> Result<Self, String> {
        let networks = networks
            .iter()
            .map(|n| {
                n.trim()
                    .parse::<IpNet>()
                    .map_err(|e| format!("trusted: {n:?} is not a CIDR such as 10.0.0.0/24 ({e})"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks })
    }

    /// Whether a connection from `peer` must begin with a PROXY header.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.networks.iter().any(|n| n.contains(&peer))
    }
}

/// A connection past its header.
#[derive(Debug, PartialEq)]
pub struct Proxied {
    /// The client's address: the header's source, or the balancer's own for
    /// `PROXY UNKNOWN` and v2 `LOCAL` (health checks).
    pub client: SocketAddr,
    /// Bytes read after the header: the start of the client's own data.
    pub rest: Vec<u8>,
}

/// Why a trusted peer's connection was closed.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// Nothing complete arrived within the deadline.
    #[error("no complete PROXY header within the deadline")]
    TimedOut,
    /// The peer closed before a complete header, after sending this many bytes.
    #[error("closed after {0} bytes, before a complete PROXY header")]
    Closed(usize),
    /// Reading failed.
    #[error("reading the PROXY header: {0}")]
    Io(#[from] std::io::Error),
    /// Longer than the bound.
    #[error("PROXY header longer than the {0} bytes accepted")]
    TooLong(usize),
    /// Not a PROXY header at all, or a malformed one.
    #[error("not a valid PROXY header: {0}")]
    Invalid(String),
}

/// Reads the header of a connection from the trusted `balancer`, by
/// `deadline`. On failure the rejection is counted in
/// `thingstead_proxy_header_rejected_total{listener}` and logged (rate
/// limited), and `None` tells the caller to close the connection. A
/// connection closed before sending anything (a plain TCP health check) is
/// not counted.
pub async fn read_trusted<S: AsyncRead + Unpin>(
    stream: &mut S,
    balancer: SocketAddr,
    deadline: Instant,
    listener: &'static str,
) -> Option<Proxied> {
    match timeout_at(deadline, read(stream, balancer)).await {
        Ok(Ok(proxied)) => Some(proxied),
        Ok(Err(HeaderError::Closed(0))) => None,
        Ok(Err(e)) => {
            rejected(listener, balancer, &e);
            None
        }
        Err(_) => {
            rejected(listener, balancer, &HeaderError::TimedOut);
            None
        }
    }
}

fn rejected(listener: &'static str, balancer: SocketAddr, e: &HeaderError) {
    metrics::counter!("thingstead_proxy_header_rejected_total", "listener" => listener).increment(1);
    if let Some(held_back) = REJECTED_LOG.allow() {
        tracing::warn!(
            %balancer,
            listener,
            error = %e,
            held_back,
            "connection from a proxy_protocol.trusted network closed: no valid PROXY header"
        );
    }
}

/// Reads until a whole header (and perhaps some data after it) arrived.
async fn read<S: AsyncRead + Unpin>(stream: &mut S, balancer: SocketAddr) -> Result<Proxied, HeaderError> {
    let mut buf = [0u8; MAX_HEADER];
    let mut len = 0;
    loop {
        if let Some((client, used)) = parse(&buf[..len], balancer)? {
            return Ok(Proxied {
                client,
                rest: buf[used..len].to_vec(),
            });
        }
        if len == MAX_HEADER {
            return Err(HeaderError::TooLong(MAX_HEADER));
        }
        match stream.read(&mut buf[len..]).await? {
            0 => return Err(HeaderError::Closed(len)),
            n => len += n,
        }
    }
}

/// The client address and the header's length, `None` while incomplete.
fn parse(buf: &[u8], balancer: SocketAddr) -> Result<Option<(SocketAddr, usize)>, HeaderError> {
    let header = HeaderResult::parse(buf);
    if header.is_incomplete() {
        return match header {
            HeaderResult::V2(Err(v2::ParseError::Partial(_, payload))) if payload > MAX_V2_PAYLOAD => {
                Err(HeaderError::TooLong(V2_FIXED + payload))
            }
            HeaderResult::V1(_) if buf.len() >= MAX_V1 => Err(HeaderError::TooLong(MAX_V1)),
            _ => Ok(None),
        };
    }
    match header {
        HeaderResult::V1(Ok(h)) => {
            let client = match h.addresses {
                v1::Addresses::Tcp4(a) => SocketAddr::new(a.source_address.into(), a.source_port),
                v1::Addresses::Tcp6(a) => SocketAddr::new(a.source_address.into(), a.source_port),
                v1::Addresses::Unknown => balancer,
            };
            Ok(Some((client, h.header.len())))
        }
        HeaderResult::V2(Ok(h)) => {
            let client = match (h.command, h.addresses) {
                (v2::Command::Proxy, v2::Addresses::IPv4(a)) => SocketAddr::new(a.source_address.into(), a.source_port),
                (v2::Command::Proxy, v2::Addresses::IPv6(a)) => SocketAddr::new(a.source_address.into(), a.source_port),
                // LOCAL (the balancer's own health checks), UNSPEC, UNIX.
                _ => balancer,
            };
            Ok(Some((client, h.len())))
        }
        HeaderResult::V1(Err(v1::BinaryParseError::Parse(v1::ParseError::HeaderTooLong))) => {
            Err(HeaderError::TooLong(MAX_V1))
        }
        HeaderResult::V1(Err(e)) => Err(HeaderError::Invalid(e.to_string())),
        HeaderResult::V2(Err(e)) => Err(HeaderError::Invalid(e.to_string())),
    }
}

#[cfg(test)]
mod tests;
