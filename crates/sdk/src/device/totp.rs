//! TOTP codes for the device's frames (RFC 6238: SHA-1, 30 s, 6 digits),
//! never the same code twice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use totp_rs::{Algorithm, Secret, TOTP};

use super::DeviceError;

/// The length of one TOTP step, in seconds.
pub const TOTP_STEP_SECS: u64 = 30;

/// Generates a device's TOTP codes.
///
/// The server accepts each code once, so the signer hands out at most one
/// code per 30-second step: a second call in the same step waits until the
/// next step begins (up to 30 s). Calls are serialized.
///
/// ```
/// use thingstead::device::TotpSigner;
/// let signer = TotpSigner::from_seed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
/// assert_eq!(signer.code_at(59).len(), 6);
/// assert!(TotpSigner::from_seed("not base32!").is_err());
/// ```
#[derive(Debug)]
pub struct TotpSigner {
    totp: TOTP,
    last_step: tokio::sync::Mutex<Option<u64>>,
}

impl TotpSigner {
    /// A signer from a base32 secret or an `otpauth://totp/...` URI. The
    /// algorithm, digits and period of a URI are used as given.
    ///
    /// ```
    /// use thingstead::device::TotpSigner;
    /// let uri = "otpauth://totp/Thingstead:dev?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Thingstead";
    /// assert!(TotpSigner::from_seed(uri).is_ok());
    /// ```
    pub fn from_seed(seed: &str) -> Result<Self, DeviceError> {
        let seed = seed.trim();
        let totp = if seed.starts_with("otpauth://") {
            TOTP::from_url_unchecked(seed).map_err(|e| DeviceError::InvalidTotpSeed(format!("{e:?}")))?
        } else {
            let cleaned: String = seed
                .chars()
                .filter(|c| *c != ' ' && *c != '=')
                .collect::<String>()
                .to_uppercase();
            let bytes = Secret::Encoded(cleaned)
                .to_bytes()
                .map_err(|_| DeviceError::InvalidTotpSeed("not a base32 secret".into()))?;
            if bytes.is_empty() {
                return Err(DeviceError::InvalidTotpSeed("empty secret".into()));
            }
            TOTP::new_unchecked(Algorithm::SHA1, 6, 1, TOTP_STEP_SECS, bytes, None, String::new())
        };
        if totp.step == 0 {
            return Err(DeviceError::InvalidTotpSeed("period 0".into()));
        }
        Ok(Self {
            totp,
            last_step: tokio::sync::Mutex::new(None),
        })
    }

    /// The code for a Unix time in seconds (no reuse check).
    ///
    /// ```
    /// use thingstead::device::TotpSigner;
    /// // RFC 6238 appendix B, SHA-1, truncated to 6 digits.
    /// let signer = TotpSigner::from_seed("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    /// assert_eq!(signer.code_at(59), "287082");
    /// ```
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp.generate(unix_secs)
    }

    /// The next unused code: the current step's, or, when this signer already
    /// used the current step, the next step's once it begins.
    ///
    /// ```
    /// # async fn demo() {
    /// let signer = thingstead::device::TotpSigner::from_seed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    /// let code = signer.next_code().await.unwrap();
    /// assert_eq!(code.len(), 6);
    /// # }
    /// ```
    pub async fn next_code(&self) -> Result<String, DeviceError> {
        let mut last = self.last_step.lock().await;
        let step_len = self.totp.step;
        let mut now = unix_now()?;
        let mut step = now.as_secs() / step_len;
        if let Some(used) = *last
            && step <= used
        {
            let next_start = Duration::from_secs((used + 1).saturating_mul(step_len));
            let wait = next_start.saturating_sub(now);
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "TOTP code of this step already used; waiting"
            );
            tokio::time::sleep(wait).await;
            now = unix_now()?.max(next_start);
            step = now.as_secs() / step_len;
        }
        *last = Some(step);
        Ok(self.totp.generate(step * step_len))
    }
}

fn unix_now() -> Result<Duration, DeviceError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| DeviceError::Clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_and_secret_agree() {
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let a = TotpSigner::from_seed(secret).unwrap();
        let b = TotpSigner::from_seed(&format!("otpauth://totp/T:d?secret={secret}&issuer=T")).unwrap();
        let lower = TotpSigner::from_seed(&secret.to_lowercase()).unwrap();
        for t in [0, 29, 30, 1_700_000_000] {
            assert_eq!(a.code_at(t), b.code_at(t));
            assert_eq!(a.code_at(t), lower.code_at(t));
        }
        assert!(TotpSigner::from_seed("otpauth://hotp/x?secret=AAAA").is_err());
        assert!(TotpSigner::from_seed("").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn second_code_in_a_step_waits_for_the_next_step() {
        let signer = TotpSigner::from_seed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
        let first = signer.next_code().await.unwrap();
        let first_step = signer.last_step.lock().await.unwrap();
        // Pretend the first code was used in the step that is current now, then
        // ask again: the sleep (paused clock, auto-advanced) ends at the next step
        // boundary, which the wall clock has not reached, so `now.max(next_start)`
        // carries the signer into the next step.
        let second = signer.next_code().await.unwrap();
        let used = signer.last_step.lock().await.unwrap();
        assert!(used > first_step, "second code must come from a later step");
        assert_ne!(first, second);
    }
}
