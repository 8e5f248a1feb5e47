//! Tokens (WIRE.md A.2): a fixed bearer token, or OAuth2 client
//! credentials whose token is fetched at once and fetched again before it
//! expires; revocation (RFC 7009).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::client::ThingsApi;
use super::error::{OAuthError, Result, ThingsError};
use super::response::RawResponse;
use super::scoped::ScopedApi;

/// The `expires_in` assumed when the token endpoint sends none.
const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(3600);

/// Client credentials as given to [`ThingsApi::set_credentials`].
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) scopes: Vec<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, scopes={:?})", self.client_id, self.scopes)
    }
}

/// The token in use and where it comes from.
#[derive(Default)]
pub(crate) struct TokenState {
    pub(crate) token: Option<String>,
    pub(crate) credentials: Option<Credentials>,
    /// When the token expires (client credentials only).
    pub(crate) expires_at: Option<Instant>,
}

impl std::fmt::Debug for TokenState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenState")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("credentials", &self.credentials)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl ThingsApi {
    /// Uses `token` as the bearer token from now on (no refresh; forgets
    /// any client credentials).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) {
    /// api.set_token("eyJ...").await;
    /// # }
    /// ```
    pub async fn set_token(&self, token: impl Into<String>) {
        let mut state = self.inner.token.lock().await;
        *state = TokenState {
            token: Some(token.into()),
            credentials: None,
            expires_at: None,
        };
    }

    /// Authenticates as OAuth2 client `client_id` with `scopes`: fetches a
    /// token now (an error if refused: [`ThingsError::Auth`]) and a new one
    /// before each call made within the refresh threshold of its expiry.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.set_credentials("client-id", "secret", &["thing.read"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_credentials(&self, client_id: &str, client_secret: &str, scopes: &[&str]) -> Result<()> {
        let credentials = Credentials {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut state = self.inner.token.lock().await;
        let (token, expires_at) = self.fetch_token(&credentials).await?;
        *state = TokenState {
            token: Some(token),
            credentials: Some(credentials),
            expires_at: Some(expires_at),
        };
        Ok(())
    }

    /// Revokes the current token at the server (`POST /oauth2/revoke`,
    /// needs client credentials) and stops refreshing it: later calls send
    /// the revoked token and get 401 until a new token or credentials are
    /// set.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.revoke_token().await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke_token(&self) -> Result<()> {
        let mut state = self.inner.token.lock().await;
        let Some(credentials) = state.credentials.clone() else {
            return Err(ThingsError::Config(
                "revoking a token needs client credentials (set_credentials)".into(),
            ));
        };
        let Some(token) = state.token.clone() else {
            return Ok(());
        };
        self.post_revoke(&credentials, &token).await?;
        state.credentials = None;
        state.expires_at = None;
        Ok(())
    }

    /// A client of its own authenticated with these credentials, sharing
    /// this one's settings and connections; its token is revoked by
    /// [`ScopedApi::close`], or best-effort when it is dropped.
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// let scoped = api.scoped_credentials("client-id", "secret", &["thing"]).await?;
    /// scoped.space("acme").things().list(Default::default()).first().await?;
    /// scoped.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn scoped_credentials(&self, client_id: &str, client_secret: &str, scopes: &[&str]) -> Result<ScopedApi> {
        let api = self.fresh();
        api.set_credentials(client_id, client_secret, scopes).await?;
        Ok(ScopedApi::new(api))
    }

    /// The bearer token in use now, if any (refreshed first if due).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// if let Some(token) = api.token().await? { println!("{token}"); }
    /// # Ok(()) }
    /// ```
    pub async fn token(&self) -> Result<Option<String>> {
        self.bearer().await
    }

    /// The token for the next call, fetching a new one first when client
    /// credentials are set and the token expires within the threshold.
    pub(crate) async fn bearer(&self) -> Result<Option<String>> {
        let mut state = self.inner.token.lock().await;
        if let (Some(credentials), Some(expires_at)) = (&state.credentials, state.expires_at)
            && Instant::now() + self.inner.refresh_threshold >= expires_at
        {
            let credentials = credentials.clone();
            let (token, expires_at) = self.fetch_token(&credentials).await?;
            state.token = Some(token);
            state.expires_at = Some(expires_at);
        }
        Ok(state.token.clone())
    }

    /// `POST /oauth2/token` with the client credentials grant.
    async fn fetch_token(&self, credentials: &Credentials) -> Result<(String, Instant)> {
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", credentials.client_id.clone()),
            ("client_secret", credentials.client_secret.clone()),
        ];
        if !credentials.scopes.is_empty() {
            form.push(("scope", credentials.scopes.join(" ")));
        }
        let requested = Instant::now();
        let builder = self
            .inner
            .client
            .request(Method::POST, format!("{}/oauth2/token", self.inner.host))
            .timeout(self.inner.timeout)
            .form(&form);
        let raw = self.receive("POST /oauth2/token", builder).await?;
        let Some(body) = raw.json() else {
            return Err(ThingsError::decode("the token endpoint did not answer JSON", raw));
        };
        let Some(token) = body.get("access_token").and_then(Value::as_str) else {
            return Err(oauth_error(&body, raw));
        };
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_EXPIRES_IN);
        Ok((token.to_owned(), requested + expires_in))
    }

    /// `POST /oauth2/revoke`; success is 200.
    pub(crate) async fn post_revoke(&self, credentials: &Credentials, token: &str) -> Result<()> {
        let form = [
            ("token", token),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.as_str()),
        ];
        let builder = self
            .inner
            .client
            .request(Method::POST, format!("{}/oauth2/revoke", self.inner.host))
            .timeout(self.inner.timeout)
            .form(&form);
        let raw = self.receive("POST /oauth2/revoke", builder).await?;
        if raw.status.is_success() {
            return Ok(());
        }
        let body = raw.json().unwrap_or(Value::Null);
        Err(oauth_error(&body, raw))
    }
}

/// The OAuth2 error of a refused token or revocation request.
fn oauth_error(body: &Value, raw: RawResponse) -> ThingsError {
    let error = serde_json::from_value::<OAuthError>(body.clone()).unwrap_or_else(|_| OAuthError {
        error: "invalid_response".into(),
        error_description: Some(format!(
            "HTTP {} without an access token: {}",
            raw.status,
            raw.text().chars().take(200).collect::<String>()
        )),
    });
    ThingsError::Auth {
        error,
        raw: Some(Box::new(raw)),
    }
}
