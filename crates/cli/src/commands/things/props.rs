//! `things props get UID [PROPERTY]` and `things props set UID PROPERTY
//! VALUE` (or `set UID '{"a": 1, "b": 2}'` for several at once).

use anyhow::bail;
use serde_json::{Map, Value};
use thingstead::things::{Space, UpdateHistory};

use super::output::{json_arg, print, value_arg};
use super::session::answer;

/// What to do with property values.
#[derive(clap::Subcommand, Debug)]
pub enum PropsCommand {
    /// Current values: all of them, or one property's (`{"name": value}`).
    Get {
        /// The thing's uid.
        uid: String,
        /// Only this property.
        property: Option<String>,
    },
    /// Set values: `set UID NAME VALUE` (VALUE is JSON, else a string) or
    /// `set UID '{"name": value, ...}'` (or `-` for stdin).
    Set {
        /// The thing's uid.
        uid: String,
        /// A property's name, or a JSON object of name → value.
        property: String,
        /// The property's value (JSON such as 21.5, true, "text"; bare text is a string).
        #[arg(allow_negative_numbers = true)]
        value: Option<String>,
        /// Change the current value only; record no history.
        #[arg(long)]
        no_history: bool,
    },
}

/// Runs a props command.
pub async fn run(space: &Space, command: PropsCommand) -> anyhow::Result<()> {
    match command {
        PropsCommand::Get { uid, property: None } => print(&answer(space.thing(&uid).properties().get().await)?),
        PropsCommand::Get { uid, property: Some(p) } => print(&answer(space.thing(&uid).property(&p).get().await)?),
        PropsCommand::Set {
            uid,
            property,
            value,
            no_history,
        } => {
            let values = values(&property, value.as_deref())?;
            let history = if no_history {
                UpdateHistory::No
            } else {
                UpdateHistory::Yes
            };
            print(&answer(space.thing(&uid).properties().update(values, history).await)?)
        }
    }
}

/// The values to write.
fn values(property: &str, value: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    match value {
        Some(v) => {
            let mut map = Map::new();
            map.insert(property.to_owned(), value_arg(v)?);
            Ok(map)
        }
        None => match json_arg(property) {
            Ok(Value::Object(map)) if !map.is_empty() => Ok(map),
            _ => bail!("set takes PROPERTY VALUE, or one JSON object of property values"),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_property_or_an_object_of_them() {
        assert_eq!(Value::Object(values("t", Some("21.5")).unwrap()), json!({"t": 21.5}));
        assert_eq!(Value::Object(values("on", Some("yes")).unwrap()), json!({"on": "yes"}));
        assert_eq!(
            Value::Object(values("{\"a\":1,\"b\":[2]}", None).unwrap()),
            json!({"a": 1, "b": [2]})
        );
        assert!(values("temperature", None).is_err());
        assert!(values("{}", None).is_err());
    }
}
