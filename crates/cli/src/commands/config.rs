//! `thingstead config print | example`.

use thingstead_server::FlagOverrides;
use thingstead_server::settings::EXAMPLE_TOML;

use super::GlobalArgs;

/// `config` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective settings (secrets masked) as TOML.
    Print,
    /// Print a commented default configuration file.
    Example,
}

/// Runs a `config` subcommand.
pub fn run(global: &GlobalArgs, cmd: ConfigCommand) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Print => print!("{}", global.settings(FlagOverrides::default())?.to_masked_toml()),
        ConfigCommand::Example => print!("{EXAMPLE_TOML}"),
    }
    Ok(())
}
