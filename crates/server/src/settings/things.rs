//! `[things]`: the things API (`/oauth2/...`, `/spaces/...`, WIRE.md A).

use serde::{Deserialize, Serialize};

/// The things API: OAuth2 tokens and request limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThingsSettings {
    /// How long a token from `POST /oauth2/token` is valid, in seconds
    /// (its `expires_in`).
    pub token_ttl_secs: u64,
    /// Every request under `/oauth2` and `/spaces` is answered within this
    /// many ms (408 after that): the IoT Studio client gives up after 3 s.
    pub request_timeout_ms: u64,
}

impl Default for ThingsSettings {
    fn default() -> Self {
        Self {
            token_ttl_secs: 3600,
            request_timeout_ms: 2500,
        }
    }
}

impl ThingsSettings {
    /// Checks values the types cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.token_ttl_secs == 0 || self.token_ttl_secs > 24 * 3600 {
            return Err("things.token_ttl_secs must be from 1 to 86400".into());
        }
        if self.request_timeout_ms == 0 {
            return Err("things.request_timeout_ms must be at least 1".into());
        }
        Ok(())
    }
}
