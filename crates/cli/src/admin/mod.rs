//! `thingstead admin`: the registry from the command line. Works on the
//! store in `--data-dir` whether or not a server runs on it; each command
//! prints one JSON value on stdout.

mod apikey;
mod app;
mod client;
mod device;
mod master_key;
mod migrate;
mod org;
pub(crate) mod password;
mod space;
mod token_key;
mod totp;
mod user;

use std::future::Future;

use serde::Serialize;
use serde_json::Value;
use thingstead_core::{Platform, Tenant};
use thingstead_server::FlagOverrides;

use crate::commands::GlobalArgs;

/// `admin` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AdminCommand {
    /// Organizations (tenants; the "spaces" of the things API).
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Devices.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Consumer apps.
    #[command(subcommand)]
    App(app::AppCommand),
    /// OAuth2 clients.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// API keys for the messaging REST API.
    #[command(subcommand)]
    Apikey(apikey::ApikeyCommand),
    /// The master key that seals credentials at rest.
    #[command(subcommand)]
    MasterKey(master_key::MasterKeyCommand),
    /// The key that signs tokens (kept in the store, shared by every node).
    #[command(subcommand)]
    TokenKey(token_key::TokenKeyCommand),
    /// Copy the embedded store of --data-dir into an empty PostgreSQL database.
    Migrate(migrate::MigrateArgs),
    /// Spaces (organizations as the things API calls them): retention.
    #[command(subcommand)]
    Space(space::SpaceCommand),
}

/// Runs an admin command and prints its JSON result.
pub async fn run(global: &GlobalArgs, cmd: AdminCommand) -> anyhow::Result<()> {
    // Needs no store: it makes the key a store is opened with.
    if let AdminCommand::MasterKey(c) = cmd {
        println!("{}", serde_json::to_string_pretty(&master_key::run(c)?)?);
        return Ok(());
    }
    // Opens its stores itself: the source under the serve lock, and the target.
    if let AdminCommand::Migrate(args) = cmd {
        println!("{}", serde_json::to_string_pretty(&migrate::run(global, args).await?)?);
        return Ok(());
    }
    let settings = global.settings(FlagOverrides::default())?;
    crate::logging::init(settings.log_format, "warn");
    // Only `org create` may make a store: anything else on a directory
    // without one is a mistyped --data-dir, not an empty registry.
    let creates = matches!(cmd, AdminCommand::Org(org::OrgCommand::Create { .. }));
    let dir = thingstead_server::data_dir::absolute(&settings.data_dir);
    let new_store = creates
        && settings.store.backend == thingstead_server::settings::StoreBackend::Sqlite
        && !thingstead_server::data_dir::has_store(&settings.data_dir);
    let mode = if creates {
        thingstead_server::OpenMode::CreateIfMissing
    } else {
        thingstead_server::OpenMode::Existing
    };
    let platform = thingstead_server::open_platform(&settings, mode).await?;
    if new_store {
        eprintln!("created a new store in {}", dir.display());
    }
    let result = match cmd {
        AdminCommand::Org(c) => org::run(&platform, c).await,
        AdminCommand::User(c) => user::run(&platform, c).await,
        AdminCommand::Device(c) => device::run(&platform, &settings, c).await,
        AdminCommand::App(c) => app::run(&platform, c).await,
        AdminCommand::Client(c) => client::run(&platform, c).await,
        AdminCommand::Apikey(c) => apikey::run(&platform, c).await,
        AdminCommand::MasterKey(c) => master_key::run(c),
        AdminCommand::TokenKey(c) => token_key::run(&platform, c).await,
        AdminCommand::Migrate(args) => migrate::run(global, args).await,
        AdminCommand::Space(c) => space::run(&platform, c).await,
    };
    platform.close().await;
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

/// `--org` of the listings: one organization, or all when absent.
#[derive(clap::Args, Debug)]
pub struct OrgFilter {
    /// Only this organization (default: every organization).
    #[arg(long)]
    pub org: Option<String>,
}

/// JSON of a serializable value.
pub(crate) fn json(v: impl Serialize) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(v)?)
}

/// The tenants a listing covers: one organization, or all.
async fn tenants(platform: &Platform, org: Option<&str>) -> anyhow::Result<Vec<Tenant>> {
    match org {
        Some(org) => Ok(vec![platform.tenant(org).await?]),
        None => {
            let mut all = Vec::new();
            for o in platform.list_orgs().await? {
                all.push(platform.tenant(&o.name).await?);
            }
            Ok(all)
        }
    }
}

/// A listing over one organization (`--org`) or all of them, as one JSON array.
pub(crate) async fn list_each<T, F, Fut>(platform: &Platform, org: Option<&str>, list: F) -> anyhow::Result<Value>
where
    T: Serialize,
    F: Fn(Tenant) -> Fut,
    Fut: Future<Output = Result<Vec<T>, thingstead_core::CoreError>>,
{
    let mut all = Vec::new();
    for t in tenants(platform, org).await? {
        all.extend(list(t).await?);
    }
    json(all)
}
