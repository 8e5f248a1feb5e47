//! What happens to a thing besides its properties: the **actions**
//! requested of it and the **events** it emits (WIRE.md A.3, A.4), and the
//! **retention** of a space (how long events and property history are kept).
//!
//! Pure rules, no I/O: the records, their size bounds and the checks on
//! input. The platform calls (`Platform::create_thing_action`,
//! `Platform::list_thing_events`, ...) store them and publish them on the
//! bus.
//!
//! Records are keyed by organization and thing uid (text). This layer does
//! **not** check that the thing exists or that the action or event name is
//! one of its Thing Description's affordances: the face does that before
//! calling (it holds the thing), so these records stay independent of how
//! things are stored. Deleting a thing should call
//! `Platform::delete_thing_activity` to drop its records; a trigger on
//! `documents` does the same whenever a thing is deleted, by any face.
//!
//! Bounds (every one checked before the store is touched):
//! - thing uid and action/event name: 1 to [`MAX_KEY_BYTES`] bytes, no
//!   control characters;
//! - `input`, `output`, `data`: any JSON, at most [`MAX_VALUE_BYTES`] as
//!   compact JSON;
//! - an action status: 1 to [`MAX_STATUS_BYTES`] bytes, no control characters.
//!
//! Times are milliseconds since the epoch (serialized with
//! [`crate::records::rfc3339`] as RFC 3339).

mod action;
mod event;
mod retention;

pub use action::{COMPLETED, FAILED, NewThingAction, PENDING, ThingAction, ThingActionUpdate, is_final};
pub use event::{NewThingEvent, ThingEvent};
pub use retention::{MAX_RETENTION_DAYS, SpaceRetention, SpaceRetentionChange};

use serde_json::Value;

use crate::CoreError;

/// Longest thing uid, action name or event name, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Largest `input`, `output` or event `data`, as compact JSON, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Longest action status, in bytes.
pub const MAX_STATUS_BYTES: usize = 64;

/// Checks a thing uid, an action or event name, or a status: 1 to `max`
/// bytes, no control characters.
pub(crate) fn check_text(what: &str, s: &str, max: usize) -> Result<(), CoreError> {
    if s.is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(CoreError::Invalid(format!(
            "{what} must be 1 to {max} bytes without control characters"
        )));
    }
    Ok(())
}

/// A value as the compact JSON the store keeps, within [`MAX_VALUE_BYTES`].
pub(crate) fn value_json(what: &str, v: &Value) -> Result<String, CoreError> {
    let json = serde_json::to_string(v).map_err(|e| CoreError::Invalid(format!("{what}: {e}")))?;
    if json.len() > MAX_VALUE_BYTES {
        return Err(CoreError::Invalid(format!(
            "{what} is larger than {MAX_VALUE_BYTES} bytes of JSON"
        )));
    }
    Ok(json)
}

/// A stored `input`, `output` or `data` (compact JSON) as a value.
pub(crate) fn stored_value(json: &str) -> Result<Value, crate::store::StoreError> {
    serde_json::from_str(json)
        .map_err(|e| crate::store::StoreError::Backend(format!("a stored JSON value does not parse: {e}")))
}

/// The identity of a record about to be stored, checked: a fresh id, the
/// thing's uid and the name of the `kind` (`action`, `event`).
pub(crate) fn new_key(kind: &str, thing: &str, name: &str) -> Result<(String, String, String), CoreError> {
    check_text("a thing uid", thing, MAX_KEY_BYTES)?;
    check_text(&format!("an {kind} name"), name, MAX_KEY_BYTES)?;
    Ok((new_id(), thing.to_owned(), name.to_owned()))
}

/// A new record id: a random uuid (the last segment of the record's `href`).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_bounded() {
        assert!(check_text("name", "turnOn", MAX_KEY_BYTES).is_ok());
        assert!(check_text("name", "ü:x y", MAX_KEY_BYTES).is_ok());
        for bad in ["", "a\nb", "\u{0}"] {
            assert!(check_text("name", bad, MAX_KEY_BYTES).is_err(), "{bad:?}");
        }
        assert!(check_text("name", &"n".repeat(MAX_KEY_BYTES + 1), MAX_KEY_BYTES).is_err());
        let big = Value::String("x".repeat(MAX_VALUE_BYTES));
        assert!(value_json("data", &big).is_err());
        assert_eq!(
            value_json("data", &serde_json::json!({"a": [1, null]})).unwrap(),
            r#"{"a":[1,null]}"#
        );
    }
}
