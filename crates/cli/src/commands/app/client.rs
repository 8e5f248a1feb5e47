//! The credentials flags every app command takes, and the SDK instance
//! they start. Flags and `THINGSTEAD_CLIENT_*` variables win over the
//! saved profile; credentials are taken whole from one place.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use thingstead::app::{App, Options};

use super::profile::{Profile, default_path};

/// Where the server is and who logs in.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ClientArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_URL")]
    pub url: Option<String>,
    /// Log in as this user (with --password and --org).
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_USER")]
    pub user: Option<String>,
    /// The user's password (asked on a terminal when missing). Other users of
    /// this machine can see command lines: prefer --password-stdin or the prompt.
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Read the user's password from the first line of stdin.
    #[arg(long, global = true, conflicts_with = "password")]
    pub password_stdin: bool,
    /// The user's organization.
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_ORG")]
    pub org: Option<String>,
    /// Log in as this device (with --secret) or consumer app (with --api-key).
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_UUID")]
    pub uuid: Option<String>,
    /// The device's secret. (Not `THINGSTEAD_CLIENT_SECRET`: that is the
    /// OAuth2 client secret of the things commands, which often sits in the
    /// same shell.)
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_DEVICE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// The consumer app's api key.
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// The profile file (default: $XDG_CONFIG_HOME/thingstead/client.toml).
    #[arg(long, global = true, env = "THINGSTEAD_CLIENT_PROFILE")]
    pub profile: Option<PathBuf>,
}

impl ClientArgs {
    /// The profile path in effect.
    pub fn profile_path(&self) -> anyhow::Result<PathBuf> {
        match &self.profile {
            Some(p) => Ok(p.clone()),
            None => default_path(),
        }
    }

    fn has_credentials(&self) -> bool {
        self.user.is_some() || self.uuid.is_some() || self.secret.is_some() || self.api_key.is_some()
    }

    /// The profile these flags describe, the saved profile filling in
    /// what they leave out (credentials come whole from one of them).
    pub fn resolve(&self) -> anyhow::Result<Profile> {
        let saved = if self.url.is_some() && self.has_credentials() {
            None
        } else {
            Profile::load(&self.profile_path()?)?
        };
        let mut profile = if self.has_credentials() {
            Profile {
                url: String::new(),
                username: self.user.clone(),
                password: self.password.clone(),
                organization: self.org.clone(),
                uuid: self.uuid.clone(),
                secret: self.secret.clone(),
                api_key: self.api_key.clone(),
                things: None,
            }
        } else {
            match &saved {
                Some(p) => p.clone(),
                None => bail!(
                    "no credentials: pass --user/--password/--org (or --uuid with --secret or --api-key), \
                     set THINGSTEAD_CLIENT_*, or run `thingstead login` first"
                ),
            }
        };
        profile.url = match (&self.url, &saved) {
            (Some(url), _) => url.clone(),
            (None, Some(p)) if !p.url.is_empty() => p.url.clone(),
            _ => bail!("no server URL: pass --url, set THINGSTEAD_CLIENT_URL, or run `thingstead login`"),
        };
        if self.password_stdin {
            profile.password = Some(crate::admin::password::read_stdin_line()?);
        } else if profile.username.is_some() && profile.password.is_none() {
            profile.password = Some(ask_password()?);
        }
        Ok(profile)
    }
}

fn ask_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!("no password: pipe it with --password-stdin, pass --password or set THINGSTEAD_CLIENT_PASSWORD");
    }
    rpassword::prompt_password("password: ").context("reading the password")
}

/// SDK options from a profile.
pub fn options(profile: &Profile, network: bool) -> Options {
    let mut o = Options::new(profile.url.clone()).enable_network(network);
    let fields = [
        (&profile.username, Options::username as fn(Options, String) -> Options),
        (&profile.password, Options::password),
        (&profile.organization, Options::organization),
        (&profile.uuid, Options::uuid),
        (&profile.secret, Options::secret),
        (&profile.api_key, Options::api_key),
    ];
    for (value, set) in fields {
        if let Some(v) = value {
            o = set(o, v.clone());
        }
    }
    o
}

/// Logs in with `args` (realtime only when `network`).
pub async fn start(args: &ClientArgs, network: bool) -> anyhow::Result<App> {
    let profile = args.resolve()?;
    Ok(App::start(options(&profile, network)).await?)
}
