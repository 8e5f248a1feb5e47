//! `thingstead`: the server, its admin CLI and the device tools.

mod admin;
mod commands;
mod logging;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: under load the server's many small
/// per-request allocations, freed on other threads, made glibc's malloc
/// and free (with its consolidation) about 12% of the server's CPU
/// (BENCHMARKS.md section 6).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Thingstead: a self-hosted IoT platform.
#[derive(Parser, Debug)]
#[command(name = "thingstead", version, about)]
struct Cli {
    /// TOML settings file (default: ./thingstead.toml when present).
    #[arg(long, global = true, env = "THINGSTEAD_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory of the embedded store (default ./thingstead-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve(commands::serve::ServeArgs),
    /// Show settings.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Manage organizations, users, devices, apps, clients and API keys.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Send messages as a device.
    Send(commands::send::SendArgs),
    /// Queue an SMS in the cloud's outbox as a device (the server's SMS provider sends it).
    Sms(commands::sms::SmsArgs),
    /// Listen for cloud-to-device messages.
    Receive(commands::receive::ReceiveArgs),
    /// The device's network: `network status` (interface, state, signal, the modem's identity).
    #[command(subcommand)]
    Network(commands::network::NetworkCommand),
    /// Read stored messages through the REST API (list, or tail to follow).
    #[command(subcommand)]
    Messages(commands::messages::MessagesCommand),
    /// Things of a space through the things API: list, get, create, update, patch, delete, props, history, action, event, import.
    Things(commands::things::ThingsArgs),
    /// Categories of a space through the things API: list, get, create, update, delete.
    Categories(commands::things::CategoriesArgs),
    #[command(flatten)]
    App(commands::app::AppCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let global = commands::GlobalArgs {
        config: cli.config,
        data_dir: cli.data_dir,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => commands::serve::run(&global, args).await,
            Command::Config(cmd) => commands::config::run(&global, cmd),
            Command::Admin(cmd) => admin::run(&global, cmd).await,
            Command::Send(args) => commands::send::run(args).await,
            Command::Sms(args) => commands::sms::run(args).await,
            Command::Receive(args) => commands::receive::run(args).await,
            Command::Network(cmd) => commands::network::run(cmd).await,
            Command::Messages(cmd) => commands::messages::run(cmd).await,
            Command::Things(args) => commands::things::run_things(args).await,
            Command::Categories(args) => commands::things::run_categories(args).await,
            Command::App(cmd) => commands::app::run(cmd).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if is_multi_line(&e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Errors whose lines mean something: a config file's TOML error with its
/// line, column and caret diagram.
fn is_multi_line(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<thingstead_server::settings::SettingsError>(),
        Some(thingstead_server::settings::SettingsError::File { .. })
    )
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}
