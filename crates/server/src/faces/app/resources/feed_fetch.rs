//! Fetching an HTTP JSON feed (`thingstead:feed:http`), bounded: one GET
//! with the caller's query parameters, no redirects, no proxy, a deadline
//! (`feeds.timeout_ms`), a response size limit (`feeds.max_response_bytes`),
//! and only to public addresses or `feeds.allowed_networks` (SSRF). The
//! host is resolved here and the connection goes to the address that was
//! checked, so a DNS answer cannot change between the check and the connect.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use serde_json::Value;

use crate::activity::LogLimiter;
use crate::http::error::{ApiError, ErrorCode};
use crate::settings::FeedSettings;

/// At most one log line per this period about failed feed fetches.
static FAILURE_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Fetches HTTP JSON feeds within the limits of [`FeedSettings`].
#[derive(Debug, Clone)]
pub struct FeedFetcher {
    allowed: Vec<IpNet>,
    timeout: Duration,
    max_bytes: usize,
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
}

fn failed(url: &str, why: impl std::fmt::Display) -> ApiError {
    if let Some(held_back) = FAILURE_LOG.allow() {
        tracing::info!(url, held_back, "feed fetch failed: {why}");
    }
    ApiError::new(ErrorCode::Unavailable, format!("the feed's source failed: {why}"))
}

impl FeedFetcher {
    /// A fetcher with `settings` (validated at load: a bad CIDR is skipped here).
    pub fn new(settings: &FeedSettings) -> Self {
        Self {
            allowed: settings
                .allowed_networks
                .iter()
                .filter_map(|n| n.trim().parse().ok())
                .collect(),
            timeout: Duration::from_millis(settings.timeout_ms),
            max_bytes: settings.max_response_bytes,
        }
    }

    /// Whether the server may connect to `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.allowed.iter().any(|n| n.contains(&ip)) || is_public(ip)
    }

    /// GETs `url` with `params` appended to its query; the JSON it answers.
    pub async fn fetch(&self, url: &str, params: &[(String, String)]) -> Result<Value, ApiError> {
        tokio::time::timeout(self.timeout, self.fetch_unbounded(url, params))
            .await
            .map_err(|_| failed(url, "timed out"))?
    }

    async fn fetch_unbounded(&self, url: &str, params: &[(String, String)]) -> Result<Value, ApiError> {
        let mut target = reqwest::Url::parse(url).map_err(|e| refused(format!("the feed's url is invalid: {e}")))?;
        if !matches!(target.scheme(), "http" | "https") {
            return Err(refused("a feed's url is http or https"));
        }
        let host = target
            .host_str()
            .ok_or_else(|| refused("the feed's url has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = target.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| failed(url, format!("cannot resolve {host}: {e}")))?
            .collect();
        let addr = *addrs
            .first()
            .ok_or_else(|| failed(url, format!("{host} has no address")))?;
        if let Some(bad) = addrs.iter().find(|a| !self.allows(a.ip())) {
            return Err(refused(format!(
                "the feed's url resolves to {}, which is not allowed (feeds.allowed_networks)",
                bad.ip()
            )));
        }
        if !params.is_empty() {
            target.query_pairs_mut().extend_pairs(params);
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .resolve(&host, addr)
            .build()
            .map_err(|e| failed(url, e))?;
        let mut response = client.get(target).send().await.map_err(|e| failed(url, e))?;
        if !response.status().is_success() {
            return Err(failed(url, format!("status {}", response.status())));
        }
        if response.content_length().is_some_and(|n| n > self.max_bytes as u64) {
            return Err(failed(url, "the response is over feeds.max_response_bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(url, e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(failed(url, "the response is over feeds.max_response_bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| failed(url, format!("the response is not JSON: {e}")))
    }
}

/// A globally routable address: not loopback, private, link-local, shared
/// (100.64/10), unspecified, multicast, broadcast, documentation, or a
/// unique-local / link-local IPv6 one.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(allowed: &[&str]) -> FeedFetcher {
        FeedFetcher::new(&FeedSettings {
            allowed_networks: allowed.iter().map(|s| s.to_string()).collect(),
            ..FeedSettings::default()
        })
    }

    #[test]
    fn only_public_or_allowed_addresses_are_fetched() {
        let f = fetcher(&[]);
        for bad in ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "100.64.0.1", "::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0"] {
            assert!(!f.allows(bad.parse().unwrap()), "{bad}");
        }
        assert!(f.allows("93.184.216.34".parse().unwrap()));
        let f = fetcher(&["127.0.0.1/32"]);
        assert!(f.allows("127.0.0.1".parse().unwrap()));
        assert!(!f.allows("127.0.0.2".parse().unwrap()));
    }
}
