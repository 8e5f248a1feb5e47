//! Communications: `POST /spaces/{s}/communications/email`.

use reqwest::Method;

use super::client::{Body, Request, ThingsApi};
use super::error::Result;
use super::models::Email;
use super::response::Response;

/// The communications of a space.
///
/// ```no_run
/// # fn demo(api: thingstead::things::ThingsApi) {
/// let email = api.space("acme").communications().email();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Communications {
    api: ThingsApi,
    path: String,
}

impl Communications {
    pub(crate) fn new(api: ThingsApi, path: String) -> Self {
        Self { api, path }
    }

    /// E-mail through the server's SMTP relay.
    ///
    /// ```no_run
    /// # fn demo(api: thingstead::things::ThingsApi) {
    /// let email = api.space("acme").communications().email();
    /// # }
    /// ```
    pub fn email(&self) -> EmailApi {
        EmailApi {
            api: self.api.clone(),
            path: format!("{}/email", self.path),
        }
    }
}

/// Sends e-mail through the server's SMTP relay.
///
/// ```no_run
/// use thingstead::things::Email;
/// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
/// let mail = Email::to(["ops@example.com"]).subject("Overheat").text("Boiler 3 is at 97 °C");
/// api.space("acme").communications().email().send(&mail).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct EmailApi {
    api: ThingsApi,
    path: String,
}

impl EmailApi {
    /// Sends `email` (202: accepted by the server).
    ///
    /// ```no_run
    /// # async fn demo(api: thingstead::things::ThingsApi) -> thingstead::things::Result<()> {
    /// api.space("acme").communications().email().send(&thingstead::things::Email::to(["a@example.com"]).text("hi")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, email: &Email) -> Result<Response<()>> {
        let request = Request::new(Method::POST, &self.path).body(Body::json(email)?);
        self.api.call_empty(&request).await
    }
}
