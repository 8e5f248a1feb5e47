//! The auth payload the server answers a login or refresh with (WIRE.md
//! B.2), and when to refresh it.

use std::time::Duration;

use serde_json::Value;

use super::error::{Error, Result};
use super::jwt::now_ms;

/// The identity part of [`Auth`].
///
/// ```
/// # let auth = thingstead::app::Auth::from_payload(serde_json::json!({
/// #   "token": "t", "expiration": 1, "identity": {"type": "user", "uuid": "u", "organization": "acme"}})).unwrap();
/// assert_eq!(auth.identity.organization, "acme");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `user`, `device`, `consumerApp` or `pairing`.
    pub kind: String,
    /// The uuid of the user, device or app.
    pub uuid: String,
    /// The organization: the first part of every channel id.
    pub organization: String,
}

/// An auth payload: the bearer token, its absolute expiry, the identity
/// and the restricted token for delivery URLs.
///
/// ```
/// use thingstead::app::Auth;
/// let auth = Auth::from_payload(serde_json::json!({
///     "token": "abc", "expiration": 4102444800000i64, "restrictedToken": "r",
///     "identity": {"type": "device", "uuid": "d1", "organization": "acme"}})).unwrap();
/// assert_eq!(auth.identity.kind, "device");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    /// The bearer token.
    pub token: String,
    /// Absolute expiry, epoch milliseconds.
    pub expiration: i64,
    /// Who logged in.
    pub identity: Identity,
    /// The token appended as `_rt=` to layout and content delivery URLs.
    pub restricted_token: Option<String>,
    /// The whole payload as the server sent it.
    pub raw: Value,
    /// When it was received, epoch ms.
    received_at: i64,
}

impl Auth {
    /// Reads a payload; [`Error::Unexpected`] when `token`, `expiration`
    /// or `identity.organization` is missing.
    ///
    /// ```
    /// assert!(thingstead::app::Auth::from_payload(serde_json::json!({})).is_err());
    /// ```
    pub fn from_payload(raw: Value) -> Result<Self> {
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let bad = |what: &str| Error::Unexpected(format!("the auth payload has no {what}"));
        let token = s(&raw, "token").filter(|t| !t.is_empty()).ok_or_else(|| bad("token"))?;
        let expiration = raw
            .get("expiration")
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .ok_or_else(|| bad("expiration"))?;
        let id = raw.get("identity").ok_or_else(|| bad("identity"))?;
        let identity = Identity {
            kind: s(id, "type").unwrap_or_default(),
            uuid: s(id, "uuid").unwrap_or_default(),
            organization: s(id, "organization").ok_or_else(|| bad("identity.organization"))?,
        };
        Ok(Self {
            token,
            expiration,
            identity,
            restricted_token: s(&raw, "restrictedToken"),
            raw,
            received_at: now_ms(),
        })
    }

    /// When to refresh, in epoch ms: after about 75 % of the remaining
    /// lifetime (exp-sdk's `(now + 3 * expiration) / 4`).
    ///
    /// ```
    /// # let mut auth = thingstead::app::Auth::from_payload(serde_json::json!({
    /// #   "token": "t", "expiration": 1, "identity": {"organization": "acme"}})).unwrap();
    /// auth.expiration = 4_000;
    /// assert_eq!(auth.refresh_at(0), 3_000);
    /// ```
    pub fn refresh_at(&self, now_ms: i64) -> i64 {
        now_ms + (self.expiration - now_ms).max(0) * 3 / 4
    }

    /// Whether the token has expired.
    ///
    /// ```
    /// # let auth = thingstead::app::Auth::from_payload(serde_json::json!({
    /// #   "token": "t", "expiration": 1, "identity": {"organization": "acme"}})).unwrap();
    /// assert!(auth.is_expired());
    /// ```
    pub fn is_expired(&self) -> bool {
        now_ms() >= self.expiration
    }

    /// How long from now until the refresh time computed when the payload
    /// arrived.
    pub(crate) fn until_refresh(&self) -> Duration {
        let due = self.refresh_at(self.received_at) - now_ms();
        Duration::from_millis(u64::try_from(due).unwrap_or(0))
    }
}
