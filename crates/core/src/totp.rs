//! RFC 6238 TOTP for devices: SHA-1, 30 s steps, 6 digits, one step of
//! skew either side; each step is accepted once (see `Store::consume_totp_step`).

use totp_rs::{Algorithm, Secret, TOTP};

use crate::CoreError;

const STEP: u64 = 30;
const ISSUER: &str = "Thingstead";

/// A new base32 seed of 160 random bits from the OS CSPRNG.
pub(crate) fn new_seed() -> String {
    Secret::Raw(crate::secrets::random_bytes(20)).to_encoded().to_string()
}

fn totp(seed: &str, account: &str) -> Result<TOTP, CoreError> {
    let bytes = Secret::Encoded(seed.to_owned())
        .to_bytes()
        .map_err(|e| CoreError::Invalid(format!("bad TOTP seed: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| CoreError::Invalid(format!("bad TOTP seed: {e}")))
}

/// The `otpauth://` URI for provisioning an authenticator or a device.
pub(crate) fn otpauth_uri(seed: &str, device_uuid: &str) -> Result<String, CoreError> {
    Ok(totp(seed, device_uuid)?.get_url())
}

/// The time step whose code equals `code`, among the current step and one
/// either side of it.
pub(crate) fn matching_step(seed: &str, code: &str, now_secs: u64) -> Result<Option<i64>, CoreError> {
    let t = totp(seed, "device")?;
    let current = now_secs / STEP;
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = t.generate(step * STEP);
        if crate::secrets::secrets_equal(expected.as_bytes(), code.as_bytes()) {
            return Ok(Some(step as i64));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: seed "12345678901234567890", T = 59 s -> 94287082 (8 digits); 6 digits: 287082.
        let seed = Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string();
        assert_eq!(matching_step(&seed, "287082", 59).unwrap(), Some(1));
        assert_eq!(matching_step(&seed, "287082", 59 + 30).unwrap(), Some(1));
        assert_eq!(matching_step(&seed, "287082", 59 + 90).unwrap(), None);
    }
}
