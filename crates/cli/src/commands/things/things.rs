//! `thingstead things list|get|create|update|patch|delete|delete-matching`,
//! and the dispatch of its nested groups (`props`, `history`, `action`,
//! `event`, `import`).

use serde_json::json;

use super::connection::ConnectionArgs;
use super::list::ListArgs;
use super::output::{json_arg, print};
use super::session::{Session, answer};
use super::{actions, events, history, import, props};

/// A things command.
#[derive(clap::Args, Debug)]
pub struct ThingsArgs {
    #[command(subcommand)]
    pub command: ThingsCommand,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// What to do with things.
#[derive(clap::Subcommand, Debug)]
pub enum ThingsCommand {
    /// Things of the space, one JSON document each, every page fetched as it is needed.
    List(ListArgs),
    /// One thing.
    Get {
        /// The thing's uid.
        uid: String,
    },
    /// Create a thing from a Thing Description (JSON, or `-` for stdin).
    Create {
        /// The thing as JSON, or `-` to read it from stdin.
        document: String,
    },
    /// Replace a thing with a full Thing Description (JSON, or `-`).
    Update {
        /// The thing's uid.
        uid: String,
        /// The new description as JSON, or `-` to read it from stdin.
        document: String,
    },
    /// Apply an RFC 6902 JSON Patch (a JSON array of operations, or `-`).
    Patch {
        /// The thing's uid.
        uid: String,
        /// The operations, e.g. '[{"op":"replace","path":"/title","value":"Pump 2"}]'.
        operations: String,
    },
    /// Delete a thing.
    Delete {
        /// The thing's uid.
        uid: String,
    },
    /// Delete every thing that matches the filters (at least one); prints their uids.
    DeleteMatching(super::list::FilterArgs),
    /// Current property values: `props get UID [PROPERTY]`, `props set UID PROPERTY VALUE`.
    #[command(subcommand)]
    Props(props::PropsCommand),
    /// Property history: list, add, delete.
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Actions of a thing: list, create, get, update, delete.
    #[command(subcommand)]
    Action(actions::ActionCommand),
    /// Events of a thing: list, create, get, delete.
    #[command(subcommand)]
    Event(events::EventCommand),
    /// Create many things from a JSON Lines file (one thing per line; `-` for stdin).
    Import(import::ImportArgs),
}

/// Runs a things command.
pub async fn run(args: ThingsArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.connection).await?;
    let result = dispatch(&session, args.command).await;
    session.close().await;
    result
}

async fn dispatch(session: &Session, command: ThingsCommand) -> anyhow::Result<()> {
    let space = session.space();
    match command {
        ThingsCommand::List(list) => super::list::things(&space, &list).await,
        ThingsCommand::Get { uid } => print(&answer(space.thing(&uid).get().await)?),
        ThingsCommand::Create { document } => {
            let doc = json_arg(&document)?;
            print(&answer(space.things().create(&doc).await)?)
        }
        ThingsCommand::Update { uid, document } => {
            let doc = json_arg(&document)?;
            print(&answer(space.thing(&uid).update(&doc).await)?)
        }
        ThingsCommand::Patch { uid, operations } => {
            let ops = json_arg(&operations)?;
            if !ops.is_array() {
                anyhow::bail!("a JSON Patch is a JSON array of operations");
            }
            print(&answer(space.thing(&uid).patch(&ops).await)?)
        }
        ThingsCommand::Delete { uid } => {
            answer(space.thing(&uid).delete().await)?;
            print(&json!({ "deleted": uid }))
        }
        ThingsCommand::DeleteMatching(filters) => super::list::delete_matching(&space, &filters).await,
        ThingsCommand::Props(cmd) => props::run(&space, cmd).await,
        ThingsCommand::History(cmd) => history::run(&space, cmd).await,
        ThingsCommand::Action(cmd) => actions::run(&space, cmd).await,
        ThingsCommand::Event(cmd) => events::run(&space, cmd).await,
        ThingsCommand::Import(import) => import::run(&space, import).await,
    }
}
