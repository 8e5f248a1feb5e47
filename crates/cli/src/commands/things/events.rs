//! `things event list|create|get|delete`: events of a thing
//! (`{"<event>": {"href", "data", "timestamp"}}` each).

use serde_json::json;
use thingstead::things::Space;

use super::activity;

/// What to do with events.
#[derive(clap::Subcommand, Debug)]
pub enum EventCommand {
    /// Events of a thing, or of one event, every page fetched as needed.
    List {
        /// The thing's uid.
        uid: String,
        /// Only this event.
        event: Option<String>,
        /// Print at most this many (default: all).
        #[arg(long)]
        limit: Option<u64>,
        /// Items asked for per request (1 to 1000).
        #[arg(long, default_value_t = 100)]
        page_size: u32,
    },
    /// Record an event with its data (JSON, else a string; `-` for stdin).
    Create {
        /// The thing's uid.
        uid: String,
        /// The event's name.
        event: String,
        /// Its data.
        #[arg(allow_negative_numbers = true)]
        data: Option<String>,
    },
    /// One event.
    Get {
        /// The thing's uid.
        uid: String,
        /// The event's name.
        event: String,
        /// The event's id (the last segment of its href).
        id: String,
    },
    /// Delete an event.
    Delete {
        /// The thing's uid.
        uid: String,
        /// The event's name.
        event: String,
        /// The event's id.
        id: String,
    },
}

/// Runs an event command.
pub async fn run(space: &Space, command: EventCommand) -> anyhow::Result<()> {
    match command {
        EventCommand::List {
            uid,
            event,
            limit,
            page_size,
        } => activity::list(space.thing(&uid).events(), event.as_deref(), limit, page_size).await,
        EventCommand::Create { uid, event, data } => {
            activity::create(space.thing(&uid).event(&event), data.as_deref()).await
        }
        EventCommand::Get { uid, event, id } => activity::get(space.thing(&uid).event_instance(&event, &id)).await,
        EventCommand::Delete { uid, event, id } => {
            let instance = space.thing(&uid).event_instance(&event, &id);
            activity::delete(
                instance,
                json!({ "deleted": { "thing": uid, "event": event, "id": id } }),
            )
            .await
        }
    }
}
