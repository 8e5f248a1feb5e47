//! One command's connection to the things API: the SDK client with the
//! resolved credentials, the space, and the server's answers as JSON.
//!
//! Client credentials fetch a token for this one command, which is
//! revoked when the command ends ([`Session::close`]); a `--token` is used
//! as given. A refused request becomes an error line such as
//! `error: HTTP 404: thing "t-1" not found in space acme`.

use serde_json::Value;
use thingstead::things::{Response, ScopedApi, Space, ThingsApi, ThingsError};

use super::connection::{Connection, ConnectionArgs, Credentials};

/// The SDK client of one command.
pub struct Session {
    api: Api,
    space: String,
}

enum Api {
    /// A fixed token.
    Token(ThingsApi),
    /// Client credentials: the token is revoked at the end.
    Scoped(ScopedApi),
}

impl Session {
    /// Resolves the flags and authenticates (client credentials fetch a
    /// token now, so wrong ones fail here).
    pub async fn open(args: &ConnectionArgs) -> anyhow::Result<Self> {
        let Connection {
            url,
            space,
            credentials,
        } = args.resolve()?;
        let mut builder = ThingsApi::builder()
            .host(url)
            .timeout(args.timeout()?)
            .verify_tls(!args.insecure);
        if let Some(pem) = args.ca_pem()? {
            builder = builder.root_certificate_pem(pem);
        }
        let api = builder.build()?;
        let api = match credentials {
            Credentials::Token(token) => {
                api.set_token(token).await;
                Api::Token(api)
            }
            Credentials::Client { id, secret, scopes } => {
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                Api::Scoped(
                    api.scoped_credentials(&id, &secret, &scopes)
                        .await
                        .map_err(|e| anyhow::anyhow!("getting a token for client {id}: {e}"))?,
                )
            }
        };
        Ok(Self { api, space })
    }

    /// The space's resources.
    pub fn space(&self) -> Space {
        let api: &ThingsApi = match &self.api {
            Api::Token(api) => api,
            Api::Scoped(scoped) => scoped,
        };
        api.space(&self.space)
    }

    /// Ends the command: revokes a token fetched with client credentials
    /// (a failure to revoke is a warning; the token expires anyway).
    pub async fn close(self) {
        if let Api::Scoped(scoped) = self.api
            && let Err(e) = scoped.close().await
        {
            eprintln!("warning: revoking the command's token: {e}");
        }
    }
}

/// The server's answer as JSON: the body of a success (`null` when it has
/// none, e.g. 204), also when the SDK's model does not fit it (the CLI
/// prints what the server said); the error of a refusal.
pub fn answer<T>(result: Result<Response<T>, ThingsError>) -> anyhow::Result<Value> {
    match result {
        Ok(r) => Ok(json_of(&r.raw().body)),
        Err(ThingsError::Decode { raw, .. }) if raw.status.is_success() => Ok(json_of(&raw.body)),
        Err(e) => Err(e.into()),
    }
}

fn json_of(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}
