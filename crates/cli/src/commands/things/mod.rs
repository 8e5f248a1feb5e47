//! `thingstead things ...` and `thingstead categories ...`: the things API
//! (`/spaces/{space}/...`, the IoT Studio resources) from the command
//! line, through the SDK's [`thingstead::things`].
//!
//! Every command takes the connection flags of [`connection`] (`--space`,
//! `--token` or `--client-id/--client-secret/--scopes`, each also from the
//! environment or the profile's `[things]` section) and prints JSON
//! ([`output`]). A refused request exits non-zero with one line naming
//! the server's status and message ([`session`]).

mod actions;
mod activity;
mod categories;
mod config;
mod connection;
mod events;
mod history;
mod import;
mod jsonl;
mod list;
mod output;
mod props;
mod session;
// The things group itself (its CRUD and dispatch), beside its nested groups.
#[allow(clippy::module_inception)]
mod things;

pub use categories::CategoriesArgs;
pub use things::ThingsArgs;

/// Runs a `things` command.
pub async fn run_things(args: ThingsArgs) -> anyhow::Result<()> {
    things::run(args).await
}

/// Runs a `categories` command.
pub async fn run_categories(args: CategoriesArgs) -> anyhow::Result<()> {
    categories::run(args).await
}
