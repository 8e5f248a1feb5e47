//! Credentials sealed at rest, the same way on every backend: the context
//! each sealed value is bound to (it opens only on the record it was made
//! for), and the opening of a stored value.

use crate::master_key::MasterKey;
use crate::store::StoreError;

/// A device's HS256 login secret.
pub(crate) fn device_secret_context(uuid: &str) -> String {
    format!("device.secret:{uuid}")
}

/// A device's TOTP seed.
pub(crate) fn totp_seed_context(uuid: &str) -> String {
    format!("device.totp_seed:{uuid}")
}

/// A consumer app's api key.
pub(crate) fn app_key_context(uuid: &str) -> String {
    format!("app.api_key:{uuid}")
}

/// Opens a stored value; failing to is a backend error (wrong key, tampering).
pub(crate) fn unsealed(key: &MasterKey, context: &str, sealed: &[u8]) -> Result<String, StoreError> {
    key.open(context, sealed)
        .map_err(|e| StoreError::Backend(e.to_string()))
}
