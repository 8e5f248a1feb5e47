//! What a failed device authentication costs its sender, and what it
//! leaves behind: the address throttle, the TOTP lock-out, metrics, and a
//! rate-limited info line (naming the address and device, never the key or
//! code that was tried).

use std::net::SocketAddr;
use std::time::Duration;

use crate::activity::LogLimiter;

use super::lockout::TotpLockout;
use super::throttle::AddressThrottle;
use super::vouched::Vouched;

/// One line per period for each kind of failure; the rest are counted.
static KEY_FAILURE_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static TOTP_FAILURE_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static REFUSED_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// The defences of the device face against credential guessing.
pub(crate) struct AuthGuard {
    throttle: AddressThrottle,
    vouched: Vouched,
    lockout: TotpLockout,
    metrics: AuthMetrics,
}

/// How a device proved (or failed to prove) who it is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method<'a> {
    /// This 8-character device key (message and SMS frames).
    DeviceKey(&'a str),
    /// A TOTP code for this device uuid.
    Totp(&'a str),
}

impl Method<'_> {
    /// What identifies the credential across frames: the key, or the uuid.
    fn credential(&self) -> &str {
        match self {
            Self::DeviceKey(key) => key,
            Self::Totp(uuid) => uuid,
        }
    }
}

impl AuthGuard {
    /// Throttles failures per address at `per_sec`, with `burst`.
    pub(crate) fn new(per_sec: f64, burst: u32) -> Self {
        Self {
            throttle: AddressThrottle::new(per_sec, burst),
            vouched: Vouched::new(),
            lockout: TotpLockout::new(),
            metrics: AuthMetrics::new(),
        }
    }

    /// True when a frame from `peer` with these credentials is to be refused
    /// (code 3) without checking them: its address has used up its failures
    /// (unless these credentials succeeded from it before: devices behind a
    /// guesser's NAT keep working), or the device is locked out.
    pub(crate) fn refuses(&self, peer: SocketAddr, method: Method<'_>) -> bool {
        if self.throttle.is_throttled(peer.ip()) && !self.vouched.knows(peer.ip(), method.credential()) {
            self.metrics.throttled.increment(1);
            if let Some(held_back) = REFUSED_LOG.allow() {
                tracing::info!(%peer, held_back, "device frame refused unchecked: too many failed authentications from this address");
            }
            return true;
        }
        if let Method::Totp(uuid) = method
            && self.lockout.is_locked(uuid)
        {
            self.metrics.locked_out.increment(1);
            if let Some(held_back) = REFUSED_LOG.allow() {
                tracing::info!(%peer, device = ?uuid, held_back, "device TOTP frame refused unchecked: device locked out");
            }
            return true;
        }
        false
    }

    /// Records a failed authentication from `peer`.
    pub(crate) fn failed(&self, peer: SocketAddr, method: Method<'_>) {
        let throttled = self.throttle.failed(peer.ip());
        match method {
            Method::DeviceKey(_) => {
                self.metrics.key_failures.increment(1);
                if let Some(held_back) = KEY_FAILURE_LOG.allow() {
                    tracing::info!(%peer, throttled, held_back, "device authentication failed: unknown device key");
                }
            }
            Method::Totp(uuid) => {
                self.metrics.totp_failures.increment(1);
                let lock = self.lockout.failed(uuid);
                if let Some(held_back) = TOTP_FAILURE_LOG.allow() {
                    tracing::info!(
                        %peer,
                        device = ?uuid,
                        locked_out_secs = lock.map(|d| d.as_secs_f64()),
                        throttled,
                        held_back,
                        "device authentication failed: bad TOTP code"
                    );
                }
            }
        }
    }

    /// Records a successful authentication from `peer`: the credentials are
    /// vouched for there, and a TOTP device starts over.
    pub(crate) fn succeeded(&self, peer: SocketAddr, method: Method<'_>) {
        self.vouched.succeeded(peer.ip(), method.credential());
        if let Method::Totp(uuid) = method {
            self.lockout.succeeded(uuid);
        }
    }
}

/// Counters of failed and refused authentications.
struct AuthMetrics {
    key_failures: metrics::Counter,
    totp_failures: metrics::Counter,
    throttled: metrics::Counter,
    locked_out: metrics::Counter,
}

impl AuthMetrics {
    fn new() -> Self {
        let failures = |method: &'static str| metrics::counter!("thingstead_auth_failures_total", "face" => "device", "method" => method);
        let refused =
            |reason: &'static str| metrics::counter!("thingstead_device_auth_refused_total", "reason" => reason);
        Self {
            key_failures: failures("devicekey"),
            totp_failures: failures("totp"),
            throttled: refused("address_throttled"),
            locked_out: refused("totp_locked_out"),
        }
    }
}
