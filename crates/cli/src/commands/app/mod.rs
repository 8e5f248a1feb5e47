//! The application platform from the command line, through the app SDK
//! (`thingstead::app`): `login`, `listen`, `broadcast`, and the resource
//! commands `devices | things | experiences | locations | feeds | data |
//! content`.
//!
//! Credentials come from flags, from `THINGSTEAD_CLIENT_*` variables
//! (names no server setting can have), or from the profile `login`
//! saved ([`profile`]).

mod broadcast;
mod client;
mod data;
mod listen;
mod login;
mod output;
mod profile;
mod resources;

pub(crate) use profile::default_path as profile_default_path;

use thingstead::app::{Content, Device, Experience, Feed, Location, Thing};

/// The app commands, flattened into the top-level command list.
#[derive(clap::Subcommand, Debug)]
pub enum AppCommand {
    /// Log in to a server's application API and save the profile the app commands use.
    Login(login::LoginArgs),
    /// Print one JSON line per broadcast on a channel until interrupted.
    Listen(listen::ListenArgs),
    /// Broadcast on a channel and print the responses (a JSON array).
    Broadcast(broadcast::BroadcastArgs),
    /// Devices of the application API: list, get, create, update, delete.
    Devices(resources::ResourceArgs),
    /// Things of the application API (`/api/things`; `thingstead things` is the things API).
    #[command(name = "app-things")]
    Things(resources::ResourceArgs),
    /// Experiences.
    Experiences(resources::ResourceArgs),
    /// Locations (with their zones).
    Locations(resources::ResourceArgs),
    /// Feeds.
    Feeds(resources::ResourceArgs),
    /// Data items, by group and key.
    Data(data::DataArgs),
    /// Content items.
    Content(resources::ResourceArgs),
}

/// Runs an app command.
pub async fn run(cmd: AppCommand) -> anyhow::Result<()> {
    match cmd {
        AppCommand::Login(args) => login::run(args).await,
        AppCommand::Listen(args) => listen::run(args).await,
        AppCommand::Broadcast(args) => broadcast::run(args).await,
        AppCommand::Devices(args) => resources::run::<Device>(args).await,
        AppCommand::Things(args) => resources::run::<Thing>(args).await,
        AppCommand::Experiences(args) => resources::run::<Experience>(args).await,
        AppCommand::Locations(args) => resources::run::<Location>(args).await,
        AppCommand::Feeds(args) => resources::run::<Feed>(args).await,
        AppCommand::Data(args) => data::run(args).await,
        AppCommand::Content(args) => resources::run::<Content>(args).await,
    }
}
