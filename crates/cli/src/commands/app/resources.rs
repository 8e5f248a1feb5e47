//! `thingstead devices|things|experiences|locations|feeds|content
//! list|get|create|update|delete`.

use serde_json::{Value, json};
use thingstead::app::{Content, Document, Kind};

use super::client::{ClientArgs, start};
use super::output;

/// A resource command.
#[derive(clap::Args, Debug)]
pub struct ResourceArgs {
    #[command(subcommand)]
    pub action: ResourceAction,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// What to do.
#[derive(clap::Subcommand, Debug)]
pub enum ResourceAction {
    /// Find: equality filters on document paths (`--filter location.uuid=...`); the page and
    /// order are filters too: `--filter limit=10 --filter skip=20 --filter sort=-name`.
    List {
        /// A filter KEY=VALUE (repeatable).
        #[arg(long = "filter", value_name = "KEY=VALUE")]
        filters: Vec<String>,
    },
    /// One document by uuid.
    Get {
        #[arg(value_name = "UUID")]
        id: String,
    },
    /// Create from a JSON document (or `-` for stdin; none for an empty one).
    Create { document: Option<String> },
    /// Merge the JSON object's fields into the document and save it (not content items: the
    /// API keeps them as uploaded).
    Update {
        #[arg(value_name = "UUID")]
        id: String,
        fields: String,
    },
    /// Delete by uuid.
    Delete {
        #[arg(value_name = "UUID")]
        id: String,
    },
}

/// Runs a resource command on kind `K`.
pub async fn run<K: Kind>(args: ResourceArgs) -> anyhow::Result<()> {
    let app = start(&args.client, false).await?;
    let collection = app.collection::<K>();
    let result = match args.action {
        ResourceAction::List { filters } => {
            let owned = output::filters(&filters)?;
            let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let found = collection.find(&pairs).await?;
            let docs: Vec<Value> = found.iter().map(|d| d.document().clone()).collect();
            output::list(&docs, found.total, &["uuid", "name", "subtype"])
        }
        ResourceAction::Get { id: uuid } => match collection.get(&uuid).await? {
            Some(doc) => output::one(doc.document()),
            None => Err(anyhow::anyhow!("no {} {uuid}", K::LABEL)),
        },
        ResourceAction::Create { document } => {
            let body = document.as_deref().map(output::json_arg).transpose()?;
            output::one(collection.create(body).await?.document())
        }
        ResourceAction::Update { id: uuid, fields } => {
            if K::BASE == Content::BASE {
                anyhow::bail!(
                    "content items cannot be updated (the API has no PATCH /api/content/{{uuid}}); \
                     replace a file's bytes with PUT /api/content/{{uuid}}/data"
                );
            }
            let Value::Object(fields) = output::json_arg(&fields)? else {
                anyhow::bail!("update takes a JSON object of fields");
            };
            let mut doc: Document<K> = collection
                .get(&uuid)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no {} {uuid}", K::LABEL))?;
            if let Some(obj) = doc.document_mut().as_object_mut() {
                obj.extend(fields);
            }
            doc.save().await?;
            output::one(doc.document())
        }
        ResourceAction::Delete { id: uuid } => {
            collection.delete(&uuid).await?;
            output::one(&json!({ "deleted": uuid }))
        }
    };
    app.stop();
    result
}
