//! The Thingstead platform core.
//!
//! Faces (device TCP, HTTP APIs, CLI) call into [`Platform`]; the platform
//! is the only code that talks to the [`store::Store`] and the
//! [`bus::Bus`]. Every tenant-scoped call takes a [`Tenant`] first, and a
//! `Tenant` can only be obtained by looking an organization up, so no query
//! can forget its tenant filter.

pub mod bus;
pub mod channels;
pub mod content;
pub mod documents;
mod error;
pub mod identity;
pub mod ids;
pub mod master_key;
pub mod paging;
mod platform;
pub mod records;
pub mod scopes;
pub mod secrets;
pub mod store;
pub mod things;
pub mod things_activity;
mod totp;

pub use error::{CoreError, ErrorKind};
pub use identity::{Actor, Login, Principal, RESTRICTED_SCOPE, Session};
pub use ids::{OrgName, Tenant};
pub use platform::{CLIENT_TOKEN_TTL, ClientToken, MAX_CLIENT_ID, MAX_CLIENT_SECRET, MAX_REQUESTED_SCOPES, OAuthError};
pub use platform::{CategoryPage, MAX_DELETE, MAX_PATCH_ITEMS, ThingPage};
pub use platform::{ContentDraft, Download, Upload};
pub use platform::{
    CreatedApiKey, CreatedApp, CreatedClient, CreatedDevice, DeviceAuth, IncomingMessage, IngestOutcome,
    TotpProvisioned,
};
pub use platform::{DEFAULT_MESSAGES, FEED_HTTP, FEED_MESSAGES, Feed, FeedSource, Found, MAX_MESSAGES};
pub use platform::{IssuedToken, MAX_TOKEN_LEN, Page, Platform, Responses, TokenClaims, TokenGrant};
pub use platform::{MAX_LOGIN_JWT_AHEAD_MS, PAIRING_OFFER_TTL, PAIRING_SESSION_TTL, SESSION_TTL};
pub use platform::{RETENTION_BATCH, RetentionSweep};

/// Milliseconds since the Unix epoch, by the server clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
