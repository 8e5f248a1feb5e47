//! `things action list|create|get|update|delete`: action requests of a
//! thing (`{"<action>": {"href", "input", "status", ...}}` each).

use serde_json::{Value, json};
use thingstead::things::Space;

use super::activity;
use super::output::{print, value_arg};
use super::session::answer;

/// What to do with actions.
#[derive(clap::Subcommand, Debug)]
pub enum ActionCommand {
    /// Action requests of a thing, or of one action, every page fetched as needed.
    List {
        /// The thing's uid.
        uid: String,
        /// Only this action.
        action: Option<String>,
        /// Print at most this many (default: all).
        #[arg(long)]
        limit: Option<u64>,
        /// Items asked for per request (1 to 1000).
        #[arg(long, default_value_t = 100)]
        page_size: u32,
    },
    /// Request an action (status `pending`), with an input (JSON, else a string; `-` for stdin).
    Create {
        /// The thing's uid.
        uid: String,
        /// The action's name.
        action: String,
        /// Its input.
        #[arg(allow_negative_numbers = true)]
        input: Option<String>,
    },
    /// One action request.
    Get {
        /// The thing's uid.
        uid: String,
        /// The action's name.
        action: String,
        /// The request's id (the last segment of its href).
        id: String,
    },
    /// Set an action request's status (and output).
    Update {
        /// The thing's uid.
        uid: String,
        /// The action's name.
        action: String,
        /// The request's id.
        id: String,
        /// The new status, e.g. running, completed, failed.
        #[arg(long)]
        status: String,
        /// Its output (JSON, else a string).
        #[arg(long, allow_negative_numbers = true)]
        output: Option<String>,
    },
    /// Delete an action request.
    Delete {
        /// The thing's uid.
        uid: String,
        /// The action's name.
        action: String,
        /// The request's id.
        id: String,
    },
}

/// Runs an action command.
pub async fn run(space: &Space, command: ActionCommand) -> anyhow::Result<()> {
    match command {
        ActionCommand::List {
            uid,
            action,
            limit,
            page_size,
        } => activity::list(space.thing(&uid).actions(), action.as_deref(), limit, page_size).await,
        ActionCommand::Create { uid, action, input } => {
            activity::create(space.thing(&uid).action(&action), input.as_deref()).await
        }
        ActionCommand::Get { uid, action, id } => activity::get(space.thing(&uid).action_instance(&action, &id)).await,
        ActionCommand::Update {
            uid,
            action,
            id,
            status,
            output,
        } => {
            let output: Option<Value> = output.as_deref().map(value_arg).transpose()?;
            let instance = space.thing(&uid).action_instance(&action, &id);
            print(&answer(instance.update(&status, output).await)?)
        }
        ActionCommand::Delete { uid, action, id } => {
            let instance = space.thing(&uid).action_instance(&action, &id);
            activity::delete(
                instance,
                json!({ "deleted": { "thing": uid, "action": action, "id": id } }),
            )
            .await
        }
    }
}
