//! Subcommands other than `admin`.

pub mod config;
pub mod device_args;
pub mod receive;
pub mod send;
pub mod serve;
pub mod sms;

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
    /// Effective settings with these flags (and `extra`) on top.
    pub fn settings(&self, extra: FlagOverrides) -> anyhow::Result<Settings> {
        let flags = FlagOverrides {
            data_dir: self.data_dir.clone().or(extra.data_dir.clone()),
            ..extra
        };
        Ok(Settings::load(self.config.as_deref(), &flags)?)
    }
}
