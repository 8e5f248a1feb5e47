//! `thingstead serve`.

use std::path::PathBuf;

use anyhow::Context;
use thingstead_server::{FlagOverrides, LogFormat};

use super::GlobalArgs;

/// Flags of `serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// HTTP listen address (default 127.0.0.1:8080; port 0 = ephemeral).
    #[arg(long)]
    http: Option<String>,
    /// Device TCP listen address (default 127.0.0.1:9999; port 0 = ephemeral).
    #[arg(long)]
    device_tcp: Option<String>,
    /// Write the bound addresses here as JSON once ready.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum)]
    log_format: Option<LogFormatArg>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormatArg {
    Text,
    Json,
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let flags = FlagOverrides {
        http: args.http,
        device_tcp: args.device_tcp,
        ready_file: args.ready_file,
        log_format: args.log_format.map(|f| match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }),
        ..Default::default()
    };
    let (settings, warnings) = global.settings_with_warnings(flags)?;
    crate::logging::init(settings.log_format, "info");
    for w in warnings {
        tracing::warn!("{w}");
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
    };
    thingstead_server::run(settings, shutdown).await?;
    Ok(())
}
