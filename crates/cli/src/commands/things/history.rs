//! `things history list|add|delete`: the property history of a thing, or
//! of one of its properties (`--property`).

use serde_json::{Value, json};
use thingstead::things::{HistoryItem, HistoryQuery, Space};

use super::list::{page_size, print_all};
use super::output::{json_arg, print};
use super::session::answer;

/// What to do with property history.
#[derive(clap::Subcommand, Debug)]
pub enum HistoryCommand {
    /// Recorded values, `{"at": ..., "properties": {...}}` each, every page fetched as needed.
    List {
        /// The thing's uid.
        uid: String,
        /// Only this property.
        #[arg(long)]
        property: Option<String>,
        /// A time or a range `START|END` (RFC 3339, or short forms such as `2026-11|2026-12`).
        #[arg(long)]
        at: Option<String>,
        /// Group values recorded at the same time.
        #[arg(long)]
        group: bool,
        /// Print at most this many (default: all).
        #[arg(long)]
        limit: Option<u64>,
        /// Items asked for per request (1 to 1000).
        #[arg(long, default_value_t = 100)]
        page_size: u32,
    },
    /// Record values: one `{"at": ..., "properties": {...}}` or a JSON array of them (or `-`).
    Add {
        /// The thing's uid.
        uid: String,
        /// The item(s) as JSON, or `-` to read stdin.
        items: String,
        /// Record under this property only.
        #[arg(long)]
        property: Option<String>,
    },
    /// Delete recorded values: all, or those `--at` a time or range.
    Delete {
        /// The thing's uid.
        uid: String,
        /// Only this property's.
        #[arg(long)]
        property: Option<String>,
        /// A time or a range `START|END`.
        #[arg(long)]
        at: Option<String>,
    },
}

/// Runs a history command.
pub async fn run(space: &Space, command: HistoryCommand) -> anyhow::Result<()> {
    match command {
        HistoryCommand::List {
            uid,
            property,
            at,
            group,
            limit,
            page_size: size,
        } => {
            let size = page_size(size, limit)?;
            let query = match at {
                Some(at) => HistoryQuery::at(at),
                None => HistoryQuery::new(),
            }
            .limit(size)
            .group(group);
            let thing = space.thing(&uid);
            let history = match &property {
                Some(p) => thing.history_of(p),
                None => thing.history(),
            };
            let pages = history.list(query);
            print_all(pages.stream(), limit).await
        }
        HistoryCommand::Add { uid, items, property } => {
            let items: Vec<HistoryItem> = match json_arg(&items)? {
                Value::Array(list) => serde_json::from_value(Value::Array(list))?,
                one => vec![serde_json::from_value(one)?],
            };
            let thing = space.thing(&uid);
            let history = match &property {
                Some(p) => thing.history_of(p),
                None => thing.history(),
            };
            print(&answer(history.create(&items).await)?)
        }
        HistoryCommand::Delete { uid, property, at } => {
            let thing = space.thing(&uid);
            let history = match &property {
                Some(p) => thing.history_of(p),
                None => thing.history(),
            };
            let query = match &at {
                Some(at) => HistoryQuery::at(at.clone()),
                None => HistoryQuery::new(),
            };
            answer(history.delete(query).await)?;
            print(&json!({ "deleted": { "thing": uid, "property": property, "at": at } }))
        }
    }
}
