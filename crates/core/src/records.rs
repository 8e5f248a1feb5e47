//! Records as the platform stores and returns them.
//!
//! Times are kept as milliseconds since the epoch and serialized in one
//! format, RFC 3339 in UTC with milliseconds (`2026-11-28T10:00:00.123Z`):
//! see [`rfc3339`]. The Hologram-shaped message records of the device face
//! are built by that face in the format their wire dictates.

use serde::Serialize;

/// The one timestamp format of Thingstead's own outputs: RFC 3339, UTC,
/// milliseconds, e.g. `2026-11-28T10:00:00.123Z`. Use it as
/// `#[serde(serialize_with = "rfc3339::serialize")]` on an `i64` of
/// milliseconds (or `rfc3339::option::serialize` on an `Option<i64>`).
pub mod rfc3339 {
    use serde::Serializer;

    /// Milliseconds since the epoch as RFC 3339 (years outside 0000–9999
    /// are written as they come; they do not occur in practice).
    pub fn format(ms: i64) -> String {
        let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
        let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (day_secs / 3600, day_secs % 3600 / 60, day_secs % 60);
        std::format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z")
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01
    /// (Howard Hinnant's `civil_from_days`).
    fn civil_from_days(z: i64) -> (i64, i64, i64) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// Serializes milliseconds since the epoch as RFC 3339.
    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*ms))
    }

    /// For `Option<i64>`: `null` when absent.
    pub mod option {
        use serde::Serializer;

        /// Serializes an optional time as RFC 3339 or `null`.
        pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match ms {
                Some(ms) => s.serialize_str(&super::format(*ms)),
                None => s.serialize_none(),
            }
        }
    }
}

/// An organization (tenant; the "space" of the things face).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgRecord {
    /// Its unique name.
    pub name: String,
    /// Messages older than this many seconds are deleted; `None` keeps them forever.
    pub message_retention_secs: Option<i64>,
    /// When it was created (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
}

/// A user; the password hash never leaves the store through this record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserRecord {
    /// Organization name.
    pub org: String,
    /// Username, unique per organization.
    pub username: String,
    /// When it was created (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
}

/// A device with its credentials. Faces must not show `secret` or
/// `totp_seed` in listings. The device key is not here: it is stored only as
/// a keyed hash and shown once, at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Organization name.
    pub org: String,
    /// Its uuid.
    pub uuid: String,
    /// Display name.
    pub name: String,
    /// Key for HS256 device login tokens.
    pub secret: String,
    /// Base32 TOTP seed, when provisioned.
    pub totp_seed: Option<String>,
    /// The address a device last sent from (`ip:port`).
    pub last_seen_addr: Option<String>,
    /// When the device last sent a message (ms).
    pub last_seen_at: Option<i64>,
    /// When it was created (ms).
    pub created_at: i64,
}

/// A device as listings show it: no secrets.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeviceSummary {
    /// Organization name.
    pub org: String,
    /// Its uuid.
    pub uuid: String,
    /// Display name.
    pub name: String,
    /// Whether a TOTP seed is provisioned.
    pub totp: bool,
    /// Last address seen.
    pub last_seen_addr: Option<String>,
    /// Last time seen (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::option::serialize")]
    pub last_seen_at: Option<i64>,
    /// When it was created (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
}

impl From<&DeviceRecord> for DeviceSummary {
    fn from(d: &DeviceRecord) -> Self {
        Self {
            org: d.org.clone(),
            uuid: d.uuid.clone(),
            name: d.name.clone(),
            totp: d.totp_seed.is_some(),
            last_seen_addr: d.last_seen_addr.clone(),
            last_seen_at: d.last_seen_at,
            created_at: d.created_at,
        }
    }
}

/// A consumer app, listed without its api key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppRecord {
    /// Organization name.
    pub org: String,
    /// Its uuid.
    pub uuid: String,
    /// Display name.
    pub name: String,
    /// When it was created (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
}

/// An OAuth2 client, listed without its secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClientRecord {
    /// Organization name.
    pub org: String,
    /// The client id.
    pub client_id: String,
    /// Scopes it may be granted.
    pub scopes: Vec<String>,
    /// When it was created (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
}

/// An API key, listed by its id and a short prefix, never whole.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Organization name.
    pub org: String,
    /// Its id (for deletion).
    pub id: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    /// When it was created (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
}

/// A stored device message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Store-assigned id, increasing with insertion order.
    pub id: i64,
    /// Organization name.
    pub org: String,
    /// The sending device.
    pub device_uuid: String,
    /// Topics.
    pub topics: Vec<String>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// Server clock at receipt (ms).
    pub received_at: i64,
    /// The peer address (`ip:port`).
    pub peer: String,
    /// The SDK version from the metadata, e.g. `0.9.1`.
    pub sdk: Option<String>,
    /// The modem from the metadata: `agnostic` (none), or its type (and id).
    pub modem: Option<String>,
    /// The device's idempotency key for this message, if it sent one.
    pub idempotency_key: Option<String>,
}

/// What storing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The stored message (for a duplicate: the one stored before).
    pub record: MessageRecord,
    /// True when the device had already sent a message with this
    /// idempotency key: nothing new was stored.
    pub duplicate: bool,
}

/// A message about to be stored (the sending device is named beside it).
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Topics.
    pub topics: Vec<String>,
    /// Payload.
    pub payload: Vec<u8>,
    /// Server clock at receipt (ms).
    pub received_at: i64,
    /// Peer address.
    pub peer: String,
    /// SDK from metadata.
    pub sdk: Option<String>,
    /// Modem from metadata.
    pub modem: Option<String>,
    /// Makes a resend harmless: one message per device and key.
    pub idempotency_key: Option<String>,
}

/// A filter over stored messages, newest first, with a cursor.
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    /// Only this device.
    pub device_uuid: Option<String>,
    /// Only messages carrying this topic.
    pub topic: Option<String>,
    /// Received at or after (ms).
    pub time_start: Option<i64>,
    /// Received at or before (ms).
    pub time_end: Option<i64>,
    /// Only ids below this one (the cursor of the previous page).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// State of an SMS in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsState {
    /// Waiting for the dispatcher.
    Queued,
    /// Accepted by the provider.
    Sent,
    /// Given up.
    Failed,
}

impl SmsState {
    /// The state as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored state.
    pub fn parse(s: &str) -> Self {
        match s {
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => Self::Queued,
        }
    }
}

/// An SMS in the outbox.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SmsRecord {
    /// Outbox id.
    pub id: i64,
    /// Organization name.
    pub org: String,
    /// The device that asked, if any.
    pub device_uuid: Option<String>,
    /// E.164 destination.
    pub destination: String,
    /// Text.
    pub text: String,
    /// Current state.
    pub state: SmsState,
    /// Send attempts so far.
    pub attempts: i64,
    /// The provider's message id once sent.
    pub provider_id: Option<String>,
    /// Why the last attempt failed.
    pub reason: Option<String>,
    /// When it was queued (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: i64,
    /// Last state change (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub updated_at: i64,
    /// Not before this time is it tried again (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub next_attempt_at: i64,
}

impl SmsRecord {
    /// An SMS just queued in `tenant`'s outbox at `now` (ms).
    pub(crate) fn queued(
        id: i64,
        tenant: &crate::Tenant,
        device_uuid: Option<&str>,
        destination: &str,
        text: &str,
        now: i64,
    ) -> Self {
        Self {
            id,
            org: tenant.name().to_string(),
            device_uuid: device_uuid.map(str::to_owned),
            destination: destination.into(),
            text: text.into(),
            state: SmsState::Queued,
            attempts: 0,
            provider_id: None,
            reason: None,
            created_at: now,
            updated_at: now,
            next_attempt_at: now,
        }
    }
}

/// One recorded state change of an SMS.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SmsEvent {
    /// The state entered.
    pub state: SmsState,
    /// Which attempt (0 when queued).
    pub attempt: i64,
    /// The provider's message id, when sent.
    pub provider_id: Option<String>,
    /// Why an attempt failed, if it did.
    pub detail: Option<String>,
    /// When (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub at: i64,
}

/// A change to an SMS's state.
#[derive(Debug, Clone)]
pub struct SmsUpdate {
    /// New state.
    pub state: SmsState,
    /// Attempts so far.
    pub attempts: i64,
    /// Provider message id.
    pub provider_id: Option<String>,
    /// Failure reason.
    pub reason: Option<String>,
    /// Next attempt (ms).
    pub next_attempt_at: i64,
}

/// Result of one cloud-to-device push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryResult {
    /// Written and closed.
    Delivered,
    /// Connection refused (or no address known).
    Refused,
    /// No connection or write within the time limit.
    Timeout,
}

impl DeliveryResult {
    /// Parses a stored result.
    pub fn parse(s: &str) -> Self {
        match s {
            "delivered" => Self::Delivered,
            "timeout" => Self::Timeout,
            _ => Self::Refused,
        }
    }

    /// The result as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
        }
    }
}

/// A recorded cloud-to-device push.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    /// Record id.
    pub id: i64,
    /// Target device.
    pub device_uuid: String,
    /// `host:port` it went to.
    pub target: String,
    /// Outcome.
    pub result: DeliveryResult,
    /// Error detail, if any.
    pub detail: Option<String>,
    /// When (ms; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339::serialize")]
    pub at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_serialize_as_rfc3339_utc_with_milliseconds() {
        let at = 1_795_860_000_123; // 2026-11-28T10:00:00.123Z
        let d = DeviceSummary {
            org: "acme".into(),
            uuid: "u".into(),
            name: "n".into(),
            totp: false,
            last_seen_addr: None,
            last_seen_at: Some(at),
            created_at: at,
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["created_at"], "2026-11-28T10:00:00.123Z");
        assert_eq!(v["last_seen_at"], "2026-11-28T10:00:00.123Z");
        let never = DeviceSummary {
            last_seen_at: None,
            ..d
        };
        assert_eq!(
            serde_json::to_value(&never).unwrap()["last_seen_at"],
            serde_json::Value::Null
        );

        let e = SmsEvent {
            state: SmsState::Sent,
            attempt: 1,
            provider_id: None,
            detail: None,
            at: 0,
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["at"], "1970-01-01T00:00:00.000Z");
        // Leap days, year ends and times before the epoch.
        assert_eq!(rfc3339::format(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339::format(1_767_225_599_999), "2025-12-31T23:59:59.999Z");
        assert_eq!(rfc3339::format(-1), "1969-12-31T23:59:59.999Z");
    }
}
