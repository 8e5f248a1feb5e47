//! Actions requested of a thing (WIRE.md A.3: `.../things/{t}/actions/{a}/{id}`).
//!
//! An action is created `pending` with the time it was requested and its
//! optional `input`. Whoever carries it out (the device owning the thing,
//! an app) updates its `status` and `output`. `time_completed` follows the
//! status: an update that changes the status to [`COMPLETED`] or [`FAILED`]
//! sets it to the time of that update; an update that changes it to
//! anything else clears it (the action runs again); an update that leaves
//! the status as it is (only `output`, or the same status again) keeps it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MAX_STATUS_BYTES, check_text, new_key, value_json};
use crate::CoreError;

/// The status of a newly requested action.
pub const PENDING: &str = "pending";
/// A status that completes an action (sets `time_completed`).
pub const COMPLETED: &str = "completed";
/// A status that completes an action as failed (sets `time_completed`).
pub const FAILED: &str = "failed";

/// An action of a thing, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThingAction {
    /// Its id (a uuid): the last segment of its `href`.
    pub id: String,
    /// Its position in the store's order (lists run newest first, by
    /// descending `seq`); the key of list cursors.
    pub seq: i64,
    /// The uid of the thing.
    pub thing: String,
    /// The action's name (an affordance of the thing's TD).
    pub name: String,
    /// What was asked, if anything (any JSON but `null`).
    pub input: Option<Value>,
    /// `pending` at first, then whatever updates set (`running`,
    /// `completed`, `failed`, ...).
    pub status: String,
    /// The result, once an update set one.
    pub output: Option<Value>,
    /// When it was requested (epoch ms): `timeRequested`.
    pub time_requested: i64,
    /// When it completed or failed (epoch ms): `timeCompleted`.
    pub time_completed: Option<i64>,
}

/// An action about to be stored: checked, with a fresh id.
#[derive(Debug, Clone)]
pub struct NewThingAction {
    pub(crate) id: String,
    pub(crate) thing: String,
    pub(crate) name: String,
    /// `input` as compact JSON.
    pub(crate) input: Option<String>,
    pub(crate) requested_at: i64,
}

impl NewThingAction {
    /// Action `name` of thing `thing`, requested now with `input` (`null`
    /// counts as none). Checks the bounds of the [module](super).
    pub fn new(thing: &str, name: &str, input: Option<Value>) -> Result<Self, CoreError> {
        let (id, thing, name) = new_key("action", thing, name)?;
        let input = match input {
            None | Some(Value::Null) => None,
            Some(v) => Some(value_json("input", &v)?),
        };
        Ok(Self {
            id,
            thing,
            name,
            input,
            requested_at: crate::now_ms(),
        })
    }

    /// The same action, requested at `ms` (epoch milliseconds) instead of now.
    pub fn at(mut self, ms: i64) -> Self {
        self.requested_at = ms;
        self
    }

    /// The id it will be stored under.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A change of an action's status, output or both (checked).
#[derive(Debug, Clone)]
pub struct ThingActionUpdate {
    pub(crate) status: Option<String>,
    /// `output` as compact JSON.
    pub(crate) output: Option<String>,
}

impl ThingActionUpdate {
    /// Sets `status` and/or `output` (`None` or `null`: unchanged). At least
    /// one must be given; the status is 1 to [`MAX_STATUS_BYTES`] bytes.
    pub fn new(status: Option<&str>, output: Option<Value>) -> Result<Self, CoreError> {
        if let Some(s) = status {
            check_text("an action status", s, MAX_STATUS_BYTES)?;
        }
        let output = match output {
            None | Some(Value::Null) => None,
            Some(v) => Some(value_json("output", &v)?),
        };
        if status.is_none() && output.is_none() {
            return Err(CoreError::Invalid(
                "an action update sets its status, its output or both".into(),
            ));
        }
        Ok(Self {
            status: status.map(str::to_owned),
            output,
        })
    }

    /// The new status, if the update sets one.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
}

/// Whether `status` completes an action (sets `time_completed`).
pub fn is_final(status: &str) -> bool {
    status == COMPLETED || status == FAILED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_actions_and_updates_are_checked() {
        let a = NewThingAction::new("t1", "fade", Some(serde_json::json!({"level": 3}))).unwrap();
        assert_eq!(a.input.as_deref(), Some(r#"{"level":3}"#));
        assert_eq!(
            NewThingAction::new("t1", "fade", Some(Value::Null)).unwrap().input,
            None
        );
        assert_ne!(a.id, NewThingAction::new("t1", "fade", None).unwrap().id);
        assert!(NewThingAction::new("", "fade", None).is_err());
        assert!(NewThingAction::new("t1", "", None).is_err());
        assert!(ThingActionUpdate::new(None, None).is_err());
        assert!(ThingActionUpdate::new(None, Some(Value::Null)).is_err());
        assert!(ThingActionUpdate::new(Some(""), None).is_err());
        assert!(ThingActionUpdate::new(Some(&"s".repeat(MAX_STATUS_BYTES + 1)), None).is_err());
        let u = ThingActionUpdate::new(Some(COMPLETED), Some(serde_json::json!(1))).unwrap();
        assert_eq!((u.status(), u.output.as_deref()), (Some(COMPLETED), Some("1")));
        assert!(is_final(COMPLETED) && is_final(FAILED) && !is_final(PENDING) && !is_final("Completed"));
    }
}
