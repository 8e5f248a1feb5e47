//! `thingstead admin master-key generate --out PATH`: a fresh master key
//! file (mode 0600) for PostgreSQL nodes, which all read the same one.

use std::path::PathBuf;

use serde_json::{Value, json};
use thingstead_core::master_key::MasterKey;

/// `admin master-key` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum MasterKeyCommand {
    /// Writes a new random master key to a file of mode 0600; never
    /// replaces an existing file (losing a key loses every sealed credential).
    Generate {
        /// Where to write it (point `secrets.master_key_file` of every node at a copy).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: MasterKeyCommand) -> anyhow::Result<Value> {
    match cmd {
        MasterKeyCommand::Generate { out } => {
            MasterKey::generate(&out)?;
            let path = std::path::absolute(&out).unwrap_or(out);
            Ok(json!({ "master_key_file": path }))
        }
    }
}
