//! Load errors worded for the user: TOML errors with line, column and the
//! caret diagram; keys spelled as the file spells them (`sms.provider`, not
//! figment's `default.sms.provider`).

use std::path::Path;

use super::SettingsError;
use super::env_vars::PREFIX;

/// A config file that does not parse or does not fit the settings.
pub(super) fn file_error(path: &Path, e: &toml::de::Error) -> SettingsError {
    SettingsError::File {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    }
}

/// An error from layering the environment and flags over the file.
pub(super) fn layered_error(e: figment::Error) -> SettingsError {
    let lines: Vec<String> = e.into_iter().map(|one| describe(&one)).collect();
    SettingsError::Invalid(lines.join("; "))
}

fn describe(e: &figment::Error) -> String {
    let mut out = e.kind.to_string();
    if !e.path.is_empty() {
        let key = e.path.join(".");
        out.push_str(&format!(" for key {key}"));
        let from_env = e.metadata.as_ref().is_some_and(|m| m.name.contains("environment"));
        if from_env {
            out.push_str(&format!(" (from {PREFIX}{})", e.path.join("__").to_ascii_uppercase()));
            return out;
        }
    }
    if let Some(md) = &e.metadata {
        match &md.source {
            Some(source) => out.push_str(&format!(" (from {source})")),
            None => out.push_str(&format!(" (from {})", md.name)),
        }
    }
    out
}
