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

/// A server signing key (`purpose`, `generation`).
pub(crate) fn signing_key_context(purpose: &str, generation: i64) -> String {
    format!("signing_key:{purpose}:{generation}")
}

/// Opens a stored signing key (sealed as hex).
pub(crate) fn unsealed_signing_key(
    key: &MasterKey,
    purpose: String,
    generation: i64,
    sealed: &[u8],
    created_at: i64,
) -> Result<crate::store::SigningKey, StoreError> {
    let hex_secret = zeroize::Zeroizing::new(unsealed(key, &signing_key_context(&purpose, generation), sealed)?);
    let secret = hex::decode(hex_secret.as_str()).map_err(|e| StoreError::Backend(format!("signing key: {e}")))?;
    Ok(crate::store::SigningKey {
        purpose,
        generation,
        secret: zeroize::Zeroizing::new(secret),
        created_at,
    })
}

/// Seals a signing key for storage.
pub(crate) fn sealed_signing_key(key: &MasterKey, purpose: &str, generation: i64, secret: &[u8]) -> Vec<u8> {
    let hex_secret = zeroize::Zeroizing::new(hex::encode(secret));
    key.seal(&signing_key_context(purpose, generation), &hex_secret)
}
