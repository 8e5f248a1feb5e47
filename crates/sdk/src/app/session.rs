//! The state every part of one [`App`](super::App) shares: the HTTP
//! client, the credentials, the current auth payload, and whether the
//! instance is stopped. API calls go through [`Session::call`], which
//! adds the token and stops the instance on 401.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::{Mutex, watch};

use super::auth::Auth;
use super::error::{Error, Result};
use super::http::{Call, Http};
use super::jwt::login_body;
use super::options::Login;

/// The time limit of a login (exp-sdk has none; every wait here is bounded).
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest pause between two failed refresh attempts.
const MAX_REFRESH_RETRY: Duration = Duration::from_secs(30);

pub(crate) struct Session {
    pub(crate) http: Http,
    login: Login,
    pub(crate) api_timeout: Duration,
    auth: watch::Sender<Option<Arc<Auth>>>,
    refreshing: Mutex<()>,
    stopped: watch::Sender<bool>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.http.host())
            .field("login", &self.login)
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(http: Http, login: Login, api_timeout: Duration) -> Self {
        Self {
            http,
            login,
            api_timeout,
            auth: watch::channel(None).0,
            refreshing: Mutex::new(()),
            stopped: watch::channel(false).0,
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    /// Stops the instance: every later call fails, background tasks end.
    pub(crate) fn stop(&self) {
        self.stopped.send_replace(true);
    }

    /// A receiver that sees `true` once the instance stops.
    pub(crate) fn stopped_signal(&self) -> watch::Receiver<bool> {
        self.stopped.subscribe()
    }

    /// A receiver of auth payload changes.
    pub(crate) fn auth_changes(&self) -> watch::Receiver<Option<Arc<Auth>>> {
        self.auth.subscribe()
    }

    fn check(&self) -> Result<()> {
        if self.is_stopped() {
            Err(Error::stopped())
        } else {
            Ok(())
        }
    }

    /// The current payload without any network call.
    pub(crate) fn auth_now(&self) -> Result<Arc<Auth>> {
        self.check()?;
        self.auth
            .borrow()
            .clone()
            .ok_or_else(|| Error::Runtime("not logged in".into()))
    }

    /// The current payload, refreshed first when it has expired.
    pub(crate) async fn auth(&self) -> Result<Arc<Auth>> {
        let auth = self.auth_now()?;
        if auth.is_expired() {
            return self.refresh(&auth.token).await;
        }
        Ok(auth)
    }

    /// `POST /api/auth/login` with the start credentials. 401 stops the
    /// instance with [`Error::Authentication`]; other errors are
    /// [`Error::Unexpected`] (or [`Error::Network`]).
    pub(crate) async fn login(&self) -> Result<Arc<Auth>> {
        self.check()?;
        let body = login_body(&self.login)?;
        let answer = self
            .http
            .send(Call {
                method: Method::POST,
                path: "/api/auth/login",
                body: Some(&body),
                params: &[],
                token: None,
                timeout: LOGIN_TIMEOUT,
            })
            .await;
        self.accept(answer, "login")
    }

    /// Trades the token for a new one (`POST /api/auth/token`); on 401
    /// logs in again. Concurrent callers share one refresh: a caller whose
    /// `stale` token was already replaced gets the new payload.
    pub(crate) async fn refresh(&self, stale: &str) -> Result<Arc<Auth>> {
        let _one = self.refreshing.lock().await;
        let current = self.auth_now()?;
        if current.token != stale {
            return Ok(current);
        }
        let answer = self
            .http
            .send(Call {
                method: Method::POST,
                path: "/api/auth/token",
                body: None,
                params: &[],
                token: Some(&current.token),
                timeout: self.api_timeout,
            })
            .await;
        match answer {
            Err(Error::Authentication(_)) => self.login().await,
            other => self.accept(other, "token refresh"),
        }
    }

    fn accept(&self, answer: Result<Option<Value>>, what: &str) -> Result<Arc<Auth>> {
        let payload = match answer {
            Ok(Some(payload)) => payload,
            Ok(None) => return Err(Error::Unexpected(format!("the {what} answer is not JSON"))),
            Err(e @ Error::Authentication(_)) => {
                self.stop();
                return Err(e);
            }
            Err(Error::Api { status, message, .. }) => {
                return Err(Error::Unexpected(format!("{what} answered HTTP {status}: {message}")));
            }
            Err(e) => return Err(e),
        };
        let auth = Arc::new(Auth::from_payload(payload)?);
        self.auth.send_if_modified(|old| {
            let changed = old.as_ref().is_none_or(|o| o.raw != auth.raw);
            if changed {
                *old = Some(auth.clone());
            }
            changed
        });
        Ok(auth)
    }

    /// One API call with the current token. A 401 stops the instance.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        params: &[(String, String)],
        timeout: Option<Duration>,
    ) -> Result<Option<Value>> {
        let auth = self.auth().await?;
        let answer = self
            .http
            .send(Call {
                method,
                path,
                body,
                params,
                token: Some(&auth.token),
                timeout: timeout.unwrap_or(self.api_timeout),
            })
            .await;
        if let Err(Error::Authentication(_)) = &answer {
            self.stop();
        }
        answer
    }

    /// [`Session::call`] where 404 is `Ok(None)`.
    pub(crate) async fn get_or_none(&self, path: &str) -> Result<Option<Value>> {
        match self.call(Method::GET, path, None, &[], None).await {
            Err(Error::Api { status: 404, .. }) => Ok(None),
            Ok(None) => Err(Error::Unexpected(format!("GET {path}: the answer is not JSON"))),
            other => other,
        }
    }

    /// Keeps the token fresh until the instance stops: refreshes after
    /// ~75 % of the remaining lifetime, retries failures with backoff.
    pub(crate) async fn keep_fresh(self: Arc<Self>) {
        let mut stopped = self.stopped_signal();
        let mut retry = Duration::from_secs(1);
        loop {
            let Ok(auth) = self.auth_now() else { return };
            let wait = if auth.is_expired() {
                Duration::ZERO
            } else {
                auth.until_refresh()
            };
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => return,
                () = tokio::time::sleep(wait) => {}
            }
            match self.refresh(&auth.token).await {
                Ok(_) => retry = Duration::from_secs(1),
                Err(Error::Authentication(e)) => {
                    tracing::warn!("app SDK: the server refused the credentials on refresh: {e}");
                    return;
                }
                Err(e) => {
                    tracing::debug!("app SDK: token refresh failed, retrying in {retry:?}: {e}");
                    tokio::select! {
                        _ = stopped.wait_for(|s| *s) => return,
                        () = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(MAX_REFRESH_RETRY);
                }
            }
        }
    }
}
