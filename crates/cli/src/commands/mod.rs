//! Subcommands other than `admin`.

pub mod app;
pub mod config;
pub mod device_args;
pub mod messages;
pub mod network;
pub mod receive;
pub mod send;
pub mod serve;
pub mod sms;
pub mod tables;
pub mod things;

use std::path::PathBuf;

use thingstead_server::{FlagOverrides, Settings};

/// Flags every command shares.
#[derive(Debug, Clone, Default)]
pub struct GlobalArgs {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

impl GlobalArgs {
    /// Effective settings with these flags (and `extra`) on top; warnings
    /// (e.g. a mistyped `THINGSTEAD_*` variable) go to stderr.
    pub fn settings(&self, extra: FlagOverrides) -> anyhow::Result<Settings> {
        let (settings, warnings) = self.settings_with_warnings(extra)?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        Ok(settings)
    }

    /// Effective settings and the warnings loading them gave, for a caller
    /// that logs them itself.
    pub fn settings_with_warnings(&self, extra: FlagOverrides) -> anyhow::Result<(Settings, Vec<String>)> {
        let flags = FlagOverrides {
            data_dir: self.data_dir.clone().or(extra.data_dir.clone()),
            ..extra
        };
        Ok(Settings::load_with_warnings(self.config.as_deref(), &flags)?)
    }
}
