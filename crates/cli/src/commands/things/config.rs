//! The `[things]` section of the client profile (`client.toml`, the file
//! `thingstead login` writes): defaults for the things commands.
//!
//! ```toml
//! url = "http://127.0.0.1:8080"   # the app commands' server, used when [things] has none
//!
//! [things]
//! url = "https://things.example.com"
//! space = "acme"
//! client_id = "..."
//! client_secret = "..."
//! scopes = ["thing", "category"]
//! # or a fixed bearer token instead of client credentials:
//! # token = "..."
//! ```

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// What the profile says for the things commands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThingsProfile {
    /// The server's URL: `[things].url`, else the profile's `url`.
    pub url: Option<String>,
    /// `[things].space`.
    pub space: Option<String>,
    /// `[things].client_id`.
    pub client_id: Option<String>,
    /// `[things].client_secret`.
    pub client_secret: Option<String>,
    /// `[things].scopes`.
    pub scopes: Option<Vec<String>>,
    /// `[things].token`.
    pub token: Option<String>,
}

/// The file as far as these commands read it; the app's keys are the
/// app commands' business.
#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    things: Option<Section>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    space: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    token: Option<String>,
}

impl ThingsProfile {
    /// Reads the profile at `path`; all `None` when there is no file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("reading profile {}", path.display())),
        };
        Self::parse(&text).with_context(|| format!("reading profile {}", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        let s = file.things.unwrap_or_default();
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        Ok(Self {
            url: nonempty(s.url).or(nonempty(file.url)),
            space: nonempty(s.space),
            client_id: nonempty(s.client_id),
            client_secret: nonempty(s.client_secret),
            scopes: s.scopes,
            token: nonempty(s.token),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_things_section_wins_over_the_profile_url_and_is_optional() {
        let p = ThingsProfile::parse(
            "url = \"http://app\"\nusername = \"alice\"\n[things]\nspace = \"acme\"\nscopes = [\"thing\"]\ntoken = \"t\"\n",
        )
        .unwrap();
        assert_eq!(p.url.as_deref(), Some("http://app"));
        assert_eq!(p.space.as_deref(), Some("acme"));
        assert_eq!(p.scopes, Some(vec!["thing".to_string()]));
        assert_eq!(p.token.as_deref(), Some("t"));
        let p = ThingsProfile::parse("url = \"http://app\"\n[things]\nurl = \"http://things\"\n").unwrap();
        assert_eq!(p.url.as_deref(), Some("http://things"));
        assert_eq!(ThingsProfile::parse("").unwrap(), ThingsProfile::default());
    }

    #[test]
    fn a_mistyped_key_in_the_section_is_an_error() {
        let e = ThingsProfile::parse("[things]\nspcae = \"acme\"\n").unwrap_err();
        assert!(e.to_string().contains("spcae"), "{e}");
    }
}
