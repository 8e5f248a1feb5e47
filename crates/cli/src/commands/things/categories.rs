//! `thingstead categories list|get|create|update|delete`.

use serde_json::json;
use thingstead::things::{ModelRef, NewCategory, Query, Space};

use super::connection::ConnectionArgs;
use super::list::{page_size, print_all};
use super::output::print;
use super::session::{Session, answer};

/// A categories command.
#[derive(clap::Args, Debug)]
pub struct CategoriesArgs {
    #[command(subcommand)]
    pub command: CategoriesCommand,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// A category's fields as flags.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CategoryFields {
    /// The description.
    #[arg(long)]
    pub description: Option<String>,
    /// The model's name.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// The model's version (with --model).
    #[arg(long, value_name = "VERSION", requires = "model")]
    pub model_version: Option<String>,
}

/// What to do with categories.
#[derive(clap::Subcommand, Debug)]
pub enum CategoriesCommand {
    /// Categories of the space, one JSON document each (every page fetched as needed).
    List {
        /// Print at most this many (default: all).
        #[arg(long)]
        limit: Option<u64>,
        /// Categories asked for per request (1 to 1000).
        #[arg(long, default_value_t = 100)]
        page_size: u32,
    },
    /// One category.
    Get {
        /// The category's name.
        name: String,
    },
    /// Create a category.
    Create {
        /// The name: 1 to 26 characters of a-z A-Z 0-9 _ : -.
        name: String,
        #[command(flatten)]
        fields: CategoryFields,
    },
    /// Change a category's description or model (the fields not given are kept).
    Update {
        /// The category's name.
        name: String,
        #[command(flatten)]
        fields: CategoryFields,
    },
    /// Delete a category (its things stay, without it).
    Delete {
        /// The category's name.
        name: String,
    },
}

/// Runs a categories command.
pub async fn run(args: CategoriesArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.connection).await?;
    let result = dispatch(&session.space(), args.command).await;
    session.close().await;
    result
}

fn model(fields: &CategoryFields) -> Option<ModelRef> {
    fields.model.as_ref().map(|name| ModelRef {
        name: name.clone(),
        version: fields.model_version.clone(),
    })
}

async fn dispatch(space: &Space, command: CategoriesCommand) -> anyhow::Result<()> {
    match command {
        CategoriesCommand::List { limit, page_size: size } => {
            let size = page_size(size, limit)?;
            let pages = space.categories().list(Query::new().limit(size));
            print_all(pages.stream(), limit).await
        }
        CategoriesCommand::Get { name } => print(&answer(space.category(&name).get().await)?),
        CategoriesCommand::Create { name, fields } => {
            let new = NewCategory {
                name,
                description: fields.description.clone(),
                model: model(&fields),
            };
            print(&answer(space.categories().create(&new).await)?)
        }
        CategoriesCommand::Update { name, fields } => {
            let current = space.category(&name).get().await?.into_inner();
            let new = NewCategory {
                name: current.name,
                description: fields.description.clone().or(current.description),
                model: model(&fields).or(current.model),
            };
            print(&answer(space.category(&name).update(&new).await)?)
        }
        CategoriesCommand::Delete { name } => {
            answer(space.category(&name).delete().await)?;
            print(&json!({ "deleted": name }))
        }
    }
}
