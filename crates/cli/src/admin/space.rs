//! `admin space`: settings of a space (an organization, as the things API
//! calls it).

use serde_json::{Value, json};
use thingstead_core::Platform;
use thingstead_core::things_activity::{SpaceRetention, SpaceRetentionChange};

/// `admin space` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SpaceCommand {
    /// Show or set how long the space keeps property history and events
    /// (unlimited by default; without a flag, shows the current limits).
    Retention {
        /// The space (organization).
        #[arg(long)]
        org: String,
        /// Days property history is kept, or `none` for unlimited.
        #[arg(long, value_name = "N|none", value_parser = parse_days)]
        history_days: Option<Days>,
        /// Days events are kept, or `none` for unlimited.
        #[arg(long, value_name = "N|none", value_parser = parse_days)]
        events_days: Option<Days>,
    },
}

/// A retention limit from the command line: days, or `None` for unlimited.
#[derive(Debug, Clone, Copy)]
pub struct Days(Option<u32>);

fn parse_days(s: &str) -> Result<Days, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(Days(None));
    }
    match s.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Days(Some(n))),
        _ => Err(format!("{s:?}: a positive number of days, or none")),
    }
}

fn shown(org: &str, r: SpaceRetention) -> Value {
    json!({ "space": org, "history_days": r.history_days, "events_days": r.events_days })
}

pub(super) async fn run(p: &Platform, cmd: SpaceCommand) -> anyhow::Result<Value> {
    match cmd {
        SpaceCommand::Retention {
            org,
            history_days,
            events_days,
        } => {
            let t = p.tenant(&org).await?;
            let retention = if history_days.is_none() && events_days.is_none() {
                p.space_retention(&t).await?
            } else {
                let change = SpaceRetentionChange {
                    history_days: history_days.map(|d| d.0),
                    events_days: events_days.map(|d| d.0),
                };
                p.set_space_retention(&t, change).await?
            };
            Ok(shown(&org, retention))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_days;

    #[test]
    fn days_are_positive_numbers_or_none() {
        assert_eq!(parse_days("30").unwrap().0, Some(30));
        assert_eq!(parse_days("none").unwrap().0, None);
        assert_eq!(parse_days("None").unwrap().0, None);
        for bad in ["0", "-1", "x", "", "1.5"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
    }
}
