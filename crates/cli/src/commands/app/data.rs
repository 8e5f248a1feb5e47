//! `thingstead data list|get|create|update|delete`: data items by group
//! and key.

use serde_json::{Value, json};

use super::client::{ClientArgs, start};
use super::output;

/// A data command.
#[derive(clap::Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub action: DataAction,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// What to do.
#[derive(clap::Subcommand, Debug)]
pub enum DataAction {
    /// Find items (`--group G`, or any `--filter KEY=VALUE`).
    List {
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
        /// A filter KEY=VALUE (repeatable).
        #[arg(long = "filter", value_name = "KEY=VALUE")]
        filters: Vec<String>,
    },
    /// One item.
    Get { group: String, key: String },
    /// Create or overwrite an item with a JSON object (or `-` for stdin).
    Create { group: String, key: String, value: String },
    /// Same as create: overwrite the value.
    Update { group: String, key: String, value: String },
    /// Delete an item.
    Delete { group: String, key: String },
}

fn item(group: &str, key: &str, value: &Value) -> Value {
    json!({"group": group, "key": key, "value": value})
}

/// Runs a data command.
pub async fn run(args: DataArgs) -> anyhow::Result<()> {
    let app = start(&args.client, false).await?;
    let data = app.data();
    let result = match args.action {
        DataAction::List { group, filters } => {
            let mut owned = output::filters(&filters)?;
            if let Some(g) = group {
                owned.push(("group".into(), g));
            }
            let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let found = data.find(&pairs).await?;
            let docs: Vec<Value> = found.iter().map(|d| item(&d.group, &d.key, &d.value)).collect();
            output::list(&docs, found.total, &["group", "key", "value"])
        }
        DataAction::Get { group, key } => match data.get(&group, &key).await? {
            Some(d) => output::one(&item(&d.group, &d.key, &d.value)),
            None => Err(anyhow::anyhow!("no data item {group}/{key}")),
        },
        DataAction::Create { group, key, value } | DataAction::Update { group, key, value } => {
            let d = data.create(&group, &key, output::json_arg(&value)?).await?;
            output::one(&item(&d.group, &d.key, &d.value))
        }
        DataAction::Delete { group, key } => {
            data.delete(&group, &key).await?;
            output::one(&json!({"deleted": {"group": group, "key": key}}))
        }
    };
    app.stop();
    result
}
