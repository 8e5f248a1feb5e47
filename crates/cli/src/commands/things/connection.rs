//! Where the things commands connect and who they are: the server URL, the
//! space and the credentials, each from a flag, else its environment
//! variable, else the `[things]` section of the profile ([`super::config`]).
//!
//! Credentials are a bearer token (`--token`) or OAuth2 client credentials
//! (`--client-id`, `--client-secret`, `--scopes`). When both kinds are
//! given, the one from the nearer place wins (a flag over a variable over
//! the profile); both from the same place is an error.

use std::path::PathBuf;

use anyhow::{Context, bail};

use super::config::ThingsProfile;
use crate::commands::app::profile_default_path;

/// The variables these commands read (each also a flag).
pub const ENV_URL: &str = "THINGSTEAD_CLIENT_URL";
/// `--space`.
pub const ENV_SPACE: &str = "THINGSTEAD_SPACE";
/// `--client-id`.
pub const ENV_CLIENT_ID: &str = "THINGSTEAD_CLIENT_ID";
/// `--client-secret`.
pub const ENV_CLIENT_SECRET: &str = "THINGSTEAD_CLIENT_SECRET";
/// `--scopes`.
pub const ENV_SCOPES: &str = "THINGSTEAD_SCOPES";
/// `--token`.
pub const ENV_TOKEN: &str = "THINGSTEAD_TOKEN";
/// `--profile`.
pub const ENV_PROFILE: &str = "THINGSTEAD_CLIENT_PROFILE";

/// The connection flags every things and categories command takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080 [env: THINGSTEAD_CLIENT_URL].
    #[arg(long, global = true, visible_alias = "host")]
    pub url: Option<String>,
    /// The space (organization) [env: THINGSTEAD_SPACE].
    #[arg(long, global = true)]
    pub space: Option<String>,
    /// An OAuth2 client's id (with --client-secret) [env: THINGSTEAD_CLIENT_ID].
    #[arg(long, global = true)]
    pub client_id: Option<String>,
    /// The OAuth2 client's secret [env: THINGSTEAD_CLIENT_SECRET].
    #[arg(long, global = true)]
    pub client_secret: Option<String>,
    /// Scopes to request, comma or space separated (default: all the client's) [env: THINGSTEAD_SCOPES].
    #[arg(long, global = true)]
    pub scopes: Option<String>,
    /// A bearer token instead of client credentials [env: THINGSTEAD_TOKEN].
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// The profile file with a [things] section (default: $XDG_CONFIG_HOME/thingstead/client.toml)
    /// [env: THINGSTEAD_CLIENT_PROFILE].
    #[arg(long, global = true)]
    pub profile: Option<PathBuf>,
    /// Accept any TLS certificate (testing only).
    #[arg(long, global = true)]
    pub insecure: bool,
    /// A PEM file of a private CA to trust.
    #[arg(long, global = true, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Seconds one request may take.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub timeout: f64,
}

/// Who calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A fixed bearer token.
    Token(String),
    /// OAuth2 client credentials; the token is fetched (and revoked at the end).
    Client {
        /// The client's id.
        id: String,
        /// Its secret.
        secret: String,
        /// The scopes to request (empty: all the client may have).
        scopes: Vec<String>,
    },
}

/// Everything resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The server's URL.
    pub url: String,
    /// The space.
    pub space: String,
    /// The credentials.
    pub credentials: Credentials,
}

/// Where a value came from, nearest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Flag,
    Env,
    Profile,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Flag => "flags",
            Place::Env => "environment variables",
            Place::Profile => "the profile's [things] section",
        }
    }
}

/// The first of flag, variable, profile value that is set (and not empty).
fn pick(
    flag: &Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
    var: &str,
    profile: &Option<String>,
) -> Option<(String, Place)> {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    nonempty(flag)
        .map(|v| (v, Place::Flag))
        .or_else(|| env(var).filter(|s| !s.is_empty()).map(|v| (v, Place::Env)))
        .or_else(|| nonempty(profile).map(|v| (v, Place::Profile)))
}

/// Scopes as typed: `thing,category` or `thing category`.
pub fn split_scopes(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ConnectionArgs {
    /// The profile path in effect.
    fn profile_path(&self) -> anyhow::Result<PathBuf> {
        match (&self.profile, std::env::var_os(ENV_PROFILE).filter(|v| !v.is_empty())) {
            (Some(p), _) => Ok(p.clone()),
            (None, Some(p)) => Ok(PathBuf::from(p)),
            (None, None) => profile_default_path(),
        }
    }

    /// Resolves against the process environment and the profile file.
    pub fn resolve(&self) -> anyhow::Result<Connection> {
        let profile = ThingsProfile::load(&self.profile_path()?)?;
        self.resolve_with(&|k| std::env::var(k).ok(), &profile)
    }

    /// Resolves against `env` and `profile`.
    fn resolve_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        profile: &ThingsProfile,
    ) -> anyhow::Result<Connection> {
        let Some((url, _)) = pick(&self.url, env, ENV_URL, &profile.url) else {
            bail!("no server URL: pass --url, set {ENV_URL}, or put url in the profile's [things] section");
        };
        let Some((space, _)) = pick(&self.space, env, ENV_SPACE, &profile.space) else {
            bail!("no space: pass --space, set {ENV_SPACE}, or put space in the profile's [things] section");
        };
        let token = pick(&self.token, env, ENV_TOKEN, &profile.token);
        let id = pick(&self.client_id, env, ENV_CLIENT_ID, &profile.client_id);
        let credentials = match (token, id) {
            (None, None) => bail!(
                "no credentials: pass --token, or --client-id with --client-secret \
                 (or set {ENV_TOKEN}, or {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, or use the profile's [things] section)"
            ),
            (Some((_, tp)), Some((_, ip))) if tp == ip => {
                bail!("both a token and a client id in {}: use one of them", tp.describe())
            }
            (Some((token, tp)), Some((_, ip))) if tp < ip => Credentials::Token(token),
            (Some((token, _)), None) => Credentials::Token(token),
            (_, Some((id, _))) => {
                let Some((secret, _)) = pick(&self.client_secret, env, ENV_CLIENT_SECRET, &profile.client_secret)
                else {
                    bail!("--client-id needs --client-secret (or {ENV_CLIENT_SECRET})");
                };
                let scopes = match pick(&self.scopes, env, ENV_SCOPES, &None) {
                    Some((text, _)) => split_scopes(&text),
                    None => profile.scopes.clone().unwrap_or_default(),
                };
                Credentials::Client { id, secret, scopes }
            }
        };
        Ok(Connection {
            url: url.trim_end_matches('/').to_owned(),
            space,
            credentials,
        })
    }

    /// The PEM of `--ca-cert`, if any.
    pub fn ca_pem(&self) -> anyhow::Result<Option<Vec<u8>>> {
        self.ca_cert
            .as_ref()
            .map(|p| std::fs::read(p).with_context(|| format!("reading --ca-cert {}", p.display())))
            .transpose()
    }

    /// `--timeout`, checked.
    pub fn timeout(&self) -> anyhow::Result<std::time::Duration> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 300.0) {
            bail!("--timeout is more than 0 and at most 300 seconds");
        }
        Ok(std::time::Duration::from_secs_f64(self.timeout))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn flags() -> ConnectionArgs {
        ConnectionArgs {
            url: Some("http://flag/".into()),
            space: Some("flag-space".into()),
            ..Default::default()
        }
    }

    #[test]
    fn flags_beat_variables_beat_the_profile() {
        let profile = ThingsProfile {
            url: Some("http://profile".into()),
            space: Some("profile-space".into()),
            client_id: Some("pid".into()),
            client_secret: Some("psecret".into()),
            scopes: Some(vec!["thing".into()]),
            token: None,
        };
        let none = ConnectionArgs::default();
        let c = none.resolve_with(&env(&[]), &profile).unwrap();
        assert_eq!(c.url, "http://profile");
        assert_eq!(c.space, "profile-space");
        assert_eq!(
            c.credentials,
            Credentials::Client {
                id: "pid".into(),
                secret: "psecret".into(),
                scopes: vec!["thing".into()]
            }
        );
        let e = env(&[
            (ENV_SPACE, "env-space"),
            (ENV_TOKEN, "env-token"),
            (ENV_URL, "http://env"),
        ]);
        let c = none.resolve_with(&e, &profile).unwrap();
        assert_eq!((c.url.as_str(), c.space.as_str()), ("http://env", "env-space"));
        assert_eq!(c.credentials, Credentials::Token("env-token".into()));
        let mut f = flags();
        f.client_id = Some("fid".into());
        f.scopes = Some("thing, category".into());
        let c = f.resolve_with(&e, &profile).unwrap();
        assert_eq!((c.url.as_str(), c.space.as_str()), ("http://flag", "flag-space"));
        assert_eq!(
            c.credentials,
            Credentials::Client {
                id: "fid".into(),
                secret: "psecret".into(),
                scopes: vec!["thing".into(), "category".into()]
            }
        );
    }

    #[test]
    fn missing_or_ambiguous_credentials_are_clear_errors() {
        let p = ThingsProfile::default();
        let e = flags().resolve_with(&env(&[]), &p).unwrap_err().to_string();
        assert!(e.contains("no credentials"), "{e}");
        let e = ConnectionArgs::default()
            .resolve_with(&env(&[]), &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no server URL"), "{e}");
        let e = env(&[(ENV_TOKEN, "t"), (ENV_CLIENT_ID, "id"), (ENV_CLIENT_SECRET, "s")]);
        let err = flags().resolve_with(&e, &p).unwrap_err().to_string();
        assert!(err.contains("both a token and a client id"), "{err}");
        let mut f = flags();
        f.client_id = Some("id".into());
        let err = f.resolve_with(&env(&[]), &p).unwrap_err().to_string();
        assert!(err.contains("--client-secret"), "{err}");
    }
}
