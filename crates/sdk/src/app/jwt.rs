//! The login JWT of devices and consumer apps (WIRE.md B.2): compact
//! HS256, base64url without padding, `exp` in milliseconds 30 s ahead.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::error::{Error, Result};
use super::options::Login;

/// How far ahead the login JWT expires.
const LOGIN_JWT_LIFETIME_MS: i64 = 30_000;

/// The body of `POST /api/auth/login` for `login`.
pub(crate) fn login_body(login: &Login) -> Result<Value> {
    let now = now_ms();
    Ok(match login {
        Login::User {
            username,
            password,
            organization,
        } => json!({"username": username, "password": password, "organization": organization}),
        Login::Device {
            uuid,
            secret,
            allow_pairing,
        } => {
            let claims = json!({"uuid": uuid, "type": "device", "allowPairing": allow_pairing, "exp": now + LOGIN_JWT_LIFETIME_MS});
            json!({ "token": sign(&claims, secret)? })
        }
        Login::Pairing => {
            let claims =
                json!({"uuid": "_", "type": "device", "allowPairing": true, "exp": now + LOGIN_JWT_LIFETIME_MS});
            json!({ "token": sign(&claims, "_")? })
        }
        Login::ConsumerApp { uuid, api_key } => {
            let claims = json!({"type": "consumerApp", "uuid": uuid, "exp": now + LOGIN_JWT_LIFETIME_MS});
            json!({ "token": sign(&claims, api_key)? })
        }
    })
}

/// `b64url(header).b64url(claims).b64url(HMAC-SHA256(secret, first two parts))`.
pub(crate) fn sign(claims: &Value, secret: &str) -> Result<String> {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|e| Error::Runtime(e.to_string()))?);
    let signed = format!("{head}.{body}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|e| Error::Runtime(format!("cannot sign the login token: {e}")))?;
    mac.update(signed.as_bytes());
    Ok(format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    ))
}

/// Milliseconds since the Unix epoch (0 when the clock is before it).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_jwt_is_compact_hs256_with_ms_exp() {
        let body = login_body(&Login::Device {
            uuid: "d1".into(),
            secret: "s".into(),
            allow_pairing: false,
        })
        .unwrap();
        let token = body["token"].as_str().unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(!token.contains('='));
        let head: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(head, json!({"alg": "HS256", "typ": "JWT"}));
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["uuid"], "d1");
        assert_eq!(claims["type"], "device");
        assert_eq!(claims["allowPairing"], false);
        let exp = claims["exp"].as_i64().unwrap();
        assert!(exp > now_ms() + 20_000 && exp <= now_ms() + 30_000, "ms, 30 s ahead");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"s").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert_eq!(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()), parts[2]);
    }
}
