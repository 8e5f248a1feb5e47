//! The identity service every face asks: logins (user password, device and
//! consumer-app JWTs, pairing), sessions, and turning a bearer token back
//! into a [`Principal`].
//!
//! Login JWTs are the EXP SDK's (WIRE.md B.2): HS256 over the received
//! `header.payload` bytes, `exp` in epoch MILLISECONDS, no `iat`. They are
//! checked here with HMAC-SHA256 and a constant-time comparison, not with
//! `jsonwebtoken` (whose `exp` is in seconds). A login JWT must not have
//! expired and must not expire more than [`MAX_LOGIN_JWT_AHEAD_MS`] from now.
//!
//! Every failure is `Unauthorized` with one message, whatever was wrong, so
//! a caller cannot learn which users, organizations, devices or apps exist.
//! A user login with an unknown organization or username still runs one
//! argon2 verification, so timing does not tell either.
//!
//! [`Platform::authenticate`] caches nothing: it reads the actor's record on
//! every call (one read for devices, apps and clients; tenant + record for
//! users; none for pairing), so deleting an actor revokes its tokens at once.
//! A token carrying an id (`jti`: OAuth2 client tokens) is also checked
//! against the revoked tokens (`oauth2.rs`).

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::Platform;
use super::tokens::{MAX_TOKEN_LEN, TokenClaims, TokenGrant};
use crate::identity::{Actor, Login, Principal, RESTRICTED_SCOPE, Session};
use crate::ids::{OrgName, Tenant};
use crate::store::OAuthClientCredentials;
use crate::{CoreError, secrets};

/// How long a session's tokens are valid.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);
/// The farthest in the future a login JWT's `exp` may be (1 day; the EXP
/// SDK sends 30 s).
pub const MAX_LOGIN_JWT_AHEAD_MS: i64 = 24 * 3600 * 1000;
/// Longest username, password and organization name looked at.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 1024;
const MAX_ORG: usize = 63;
/// Longest device or app uuid in a login JWT.
const MAX_UUID: usize = 64;
/// The uuid and secret of a device asking to be paired.
const PAIRING: &str = "_";

fn denied() -> CoreError {
    CoreError::Unauthorized("invalid credentials".into())
}

fn invalid_token() -> CoreError {
    CoreError::Unauthorized("invalid token".into())
}

/// The claims of an EXP login JWT.
#[derive(Deserialize)]
struct LoginClaims {
    #[serde(rename = "type")]
    kind: String,
    uuid: String,
    #[serde(rename = "allowPairing", default)]
    allow_pairing: Option<bool>,
    /// Epoch milliseconds (a float is accepted and truncated).
    exp: serde_json::Number,
}

#[derive(Deserialize)]
struct LoginHeader {
    alg: String,
}

/// A compact JWT split and decoded, not yet verified.
struct LoginJwt<'a> {
    signed: &'a str,
    signature: Vec<u8>,
    claims: LoginClaims,
}

fn parse_login_jwt(token: &str) -> Option<LoginJwt<'_>> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (signed, sig) = token.rsplit_once('.')?;
    let (head, body) = signed.split_once('.')?;
    if body.contains('.') {
        return None;
    }
    let header: LoginHeader = serde_json::from_slice(&b64.decode(head).ok()?).ok()?;
    if header.alg != "HS256" {
        return None;
    }
    let claims: LoginClaims = serde_json::from_slice(&b64.decode(body).ok()?).ok()?;
    if claims.uuid.is_empty() || claims.uuid.len() > MAX_UUID {
        return None;
    }
    Some(LoginJwt {
        signed,
        signature: b64.decode(sig).ok()?,
        claims,
    })
}

impl LoginJwt<'_> {
    /// Whether `key` signed it (constant-time).
    fn signed_with(&self, key: &[u8]) -> bool {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
            return false;
        };
        mac.update(self.signed.as_bytes());
        mac.verify_slice(&self.signature).is_ok()
    }

    /// Whether `exp` (ms) is in the future, and not too far.
    fn current(&self, now_ms: i64) -> bool {
        let exp = self
            .claims
            .exp
            .as_i64()
            .or_else(|| self.claims.exp.as_f64().filter(|f| f.is_finite()).map(|f| f as i64));
        exp.is_some_and(|exp| exp >= now_ms && exp - now_ms <= MAX_LOGIN_JWT_AHEAD_MS)
    }
}

/// An argon2 hash of a random password, verified against when the user or
/// organization is unknown so a refusal takes as long as a wrong password.
fn decoy_hash() -> Option<&'static str> {
    static DECOY: OnceLock<Option<String>> = OnceLock::new();
    DECOY
        .get_or_init(|| secrets::hash_password(&secrets::random_hex(16)).ok())
        .as_deref()
}

impl Platform {
    /// Logs a caller in; `Unauthorized` (one message for every reason) when
    /// the credentials are not good.
    pub async fn login(&self, login: Login) -> Result<Session, CoreError> {
        let principal = match login {
            Login::User {
                username,
                password,
                organization,
            } => self.login_user(&username, &password, &organization).await?,
            Login::Token(token) => self.login_jwt(&token).await?,
        };
        self.session_for(principal).await
    }

    /// The principal a bearer token stands for, if the token verifies and
    /// its actor still exists in the token's organization.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, CoreError> {
        let claims = self.verify_token(token).await?;
        if claims.kind == "client" {
            // Revocation and client in one store read: every request of
            // the things face asks this.
            return self.client_principal(claims).await;
        }
        self.check_not_revoked(&claims).await?;
        self.principal_of(claims).await
    }

    /// A new session for the principal of a valid, unrestricted token. A
    /// pairing session that a user has paired since becomes the session of
    /// the device it was paired to.
    pub async fn refresh(&self, token: &str) -> Result<Session, CoreError> {
        let principal = self.authenticate(token).await?;
        if principal.is_restricted() {
            return Err(invalid_token());
        }
        if let Actor::Pairing { id } = principal.actor()
            && let Some(device) = self.paired_principal(id).await?
        {
            return self.session_for(device).await;
        }
        self.session_for(principal).await
    }

    async fn login_user(&self, username: &str, password: &str, organization: &str) -> Result<Principal, CoreError> {
        if username.is_empty()
            || username.len() > MAX_USERNAME
            || password.len() > MAX_PASSWORD
            || organization.len() > MAX_ORG
        {
            return Err(denied());
        }
        let tenant = match OrgName::parse(organization) {
            Ok(name) => self.store.tenant(&name).await?,
            Err(_) => None,
        };
        let hash = match &tenant {
            Some(t) => self.store.user_password_hash(t, username).await?,
            None => None,
        };
        let known = hash.is_some();
        let Some(hash) = hash.or_else(|| decoy_hash().map(str::to_owned)) else {
            return Err(CoreError::Internal("no decoy password hash".into()));
        };
        let pw = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || secrets::verify_password(&pw, &hash))
            .await
            .map_err(|e| CoreError::Internal(format!("password check task: {e}")))?;
        match tenant {
            Some(tenant) if known && matches => Ok(Principal::of_tenant(
                tenant,
                Actor::User {
                    username: username.to_owned(),
                },
                Vec::new(),
            )),
            _ => Err(denied()),
        }
    }

    async fn login_jwt(&self, token: &str) -> Result<Principal, CoreError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(denied());
        }
        let jwt = parse_login_jwt(token).ok_or_else(denied)?;
        if !jwt.current(crate::now_ms()) {
            return Err(denied());
        }
        let uuid = jwt.claims.uuid.clone();
        match jwt.claims.kind.as_str() {
            "device" if uuid == PAIRING => {
                if jwt.claims.allow_pairing != Some(true) || !jwt.signed_with(PAIRING.as_bytes()) {
                    return Err(denied());
                }
                Ok(Principal::pairing(uuid::Uuid::new_v4().to_string(), Vec::new()))
            }
            "device" => match self.store.device_by_uuid(&uuid).await? {
                Some((tenant, device)) if jwt.signed_with(device.secret.as_bytes()) => {
                    Ok(Principal::of_tenant(tenant, Actor::Device { uuid }, Vec::new()))
                }
                // A device that allows pairing and has no valid credentials
                // waits to be paired (the issue's rule; anyone can get a
                // pairing identity with "_", so this reveals nothing).
                _ if jwt.claims.allow_pairing == Some(true) => {
                    Ok(Principal::pairing(uuid::Uuid::new_v4().to_string(), Vec::new()))
                }
                _ => Err(denied()),
            },
            "consumerApp" => {
                let (tenant, key) = self.store.app_api_key(&uuid).await?.ok_or_else(denied)?;
                let key = zeroize::Zeroizing::new(key);
                if !jwt.signed_with(key.as_bytes()) {
                    return Err(denied());
                }
                Ok(Principal::of_tenant(tenant, Actor::ConsumerApp { uuid }, Vec::new()))
            }
            _ => Err(denied()),
        }
    }

    /// Checks that the actor a token names still exists, in the token's
    /// organization.
    async fn principal_of(&self, claims: TokenClaims) -> Result<Principal, CoreError> {
        let TokenClaims {
            org,
            tid,
            sub,
            kind,
            scopes,
            ..
        } = claims;
        let same_org = |t: &Tenant| t.name().as_str() == org && tid == Some(t.id());
        match kind.as_str() {
            "pairing" if org.is_empty() => Ok(Principal::pairing(sub, scopes)),
            "device" => match self.store.device_by_uuid(&sub).await? {
                Some((tenant, _)) if same_org(&tenant) => {
                    Ok(Principal::of_tenant(tenant, Actor::Device { uuid: sub }, scopes))
                }
                _ => Err(invalid_token()),
            },
            "consumerApp" => match self.store.app_api_key(&sub).await? {
                Some((tenant, _)) if same_org(&tenant) => {
                    Ok(Principal::of_tenant(tenant, Actor::ConsumerApp { uuid: sub }, scopes))
                }
                _ => Err(invalid_token()),
            },
            "user" => {
                let tenant = self.token_tenant(&org, tid).await?;
                if self.store.user_password_hash(&tenant, &sub).await?.is_none() {
                    return Err(invalid_token());
                }
                Ok(Principal::of_tenant(tenant, Actor::User { username: sub }, scopes))
            }
            "client" => {
                let client = self.store.oauth_client(&sub).await?;
                client_of(client, &org, tid, sub, scopes)
            }
            _ => Err(invalid_token()),
        }
    }

    /// The organization a token names, if it is still the one the token
    /// was issued in (same name and same id: not deleted and re-created).
    async fn token_tenant(&self, org: &str, tid: Option<i64>) -> Result<Tenant, CoreError> {
        let name = OrgName::parse(org).map_err(|_| invalid_token())?;
        match self.store.tenant(&name).await? {
            Some(tenant) if tid == Some(tenant.id()) => Ok(tenant),
            _ => Err(invalid_token()),
        }
    }

    /// Signs the session token and its restricted companion.
    async fn session_for(&self, principal: Principal) -> Result<Session, CoreError> {
        let tenant_id = principal.tenant().ok().map(Tenant::id);
        let grant = |scopes: Vec<String>| TokenGrant {
            org: principal.org().to_owned(),
            tenant_id,
            sub: principal.actor().id().to_owned(),
            kind: principal.actor().kind().to_owned(),
            scopes,
        };
        let ttl = match principal.actor() {
            Actor::Pairing { .. } => super::PAIRING_SESSION_TTL,
            _ => SESSION_TTL,
        };
        let full = self.issue_token(grant(principal.scopes().to_vec()), ttl).await?;
        let restricted = self.issue_token(grant(vec![RESTRICTED_SCOPE.to_owned()]), ttl).await?;
        Ok(Session {
            token: full.token,
            expires_at_ms: full.expires_at_ms,
            restricted_token: restricted.token,
            principal,
        })
    }
}

/// The principal of a client token whose client is `client` (as read now).
pub(super) fn client_of(
    client: Option<OAuthClientCredentials>,
    org: &str,
    tid: Option<i64>,
    sub: String,
    scopes: Vec<String>,
) -> Result<Principal, CoreError> {
    match client {
        Some(client) if client.tenant.name().as_str() == org && tid == Some(client.tenant.id()) => Ok(
            Principal::of_tenant(client.tenant, Actor::Client { client_id: sub }, scopes),
        ),
        _ => Err(invalid_token()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, claims: &str, key: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signed = format!("{}.{}", b64.encode(header), b64.encode(claims));
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[test]
    fn a_login_jwt_verifies_over_the_received_bytes_with_ms_expiry() {
        let now = 1_700_000_000_000i64;
        let claims = format!(
            r#"{{"uuid":"d1","type":"device","allowPairing":false,"exp":{}}}"#,
            now + 30_000
        );
        let token = jwt(HS256, &claims, b"k");
        let parsed = parse_login_jwt(&token).unwrap();
        assert!(parsed.signed_with(b"k"));
        assert!(!parsed.signed_with(b"other"));
        assert!(parsed.current(now));
        assert!(!parsed.current(now + 30_001), "expired");
        assert!(!parsed.current(now - MAX_LOGIN_JWT_AHEAD_MS), "too far ahead");
        // A float exp, as some clients send.
        let float = jwt(
            HS256,
            &format!(r#"{{"uuid":"d","type":"device","exp":{}.5}}"#, now + 1),
            b"k",
        );
        assert!(parse_login_jwt(&float).unwrap().current(now));
    }

    #[test]
    fn malformed_login_jwts_do_not_parse() {
        let good = r#"{"uuid":"d1","type":"device","exp":1}"#;
        assert!(parse_login_jwt(&jwt(r#"{"alg":"none"}"#, good, b"k")).is_none());
        assert!(parse_login_jwt(&jwt(HS256, r#"{"type":"device","exp":1}"#, b"k")).is_none());
        let long = format!(r#"{{"uuid":"{}","type":"device","exp":1}}"#, "u".repeat(65));
        assert!(parse_login_jwt(&jwt(HS256, &long, b"k")).is_none());
        assert!(parse_login_jwt("a.b").is_none());
        assert!(parse_login_jwt("a.b.c.d").is_none());
        assert!(parse_login_jwt("").is_none());
    }
}
