//! The device that owns a thing (issue 9, item 4): it may write the
//! thing's properties with its own device credentials, without any scope
//! ([`crate::Principal::may_write_properties_of`]).
//!
//! Ownership is a relation of the thing's document, recorded the way the
//! application platform relates its resources (a device's `location`,
//! `experience`): a member [`OWNER_FIELD`] holding the device's uuid,
//! `"device": {"uuid": "<device uuid>"}`. It is set and cleared through
//! `/api/things` (`POST`, or `PATCH /api/things/{uuid}` with
//! `{"device": {"uuid": ...}}` / `{"device": null}`), is kept when the
//! things API replaces or patches the TD (it is no TD member), and is not
//! shown by the things API. One device per thing; a device may own many
//! things. Nothing else of the thing is the device's: it may not read or
//! change the TD, nor write another thing's properties.

use super::Thing;

/// The document member naming the owning device: `{"uuid": "..."}`.
pub const OWNER_FIELD: &str = "device";

impl Thing {
    /// The uuid of the device that owns this thing, if any.
    pub fn owner_device(&self) -> Option<&str> {
        self.body
            .get(OWNER_FIELD)?
            .get("uuid")?
            .as_str()
            .filter(|uuid| !uuid.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn thing(body: Value) -> Thing {
        let Value::Object(body) = body else { panic!("an object") };
        Thing {
            uid: "t".into(),
            created_ms: 0,
            modified_ms: 0,
            body,
            status: Default::default(),
        }
    }

    #[test]
    fn the_owner_is_the_uuid_of_the_device_member() {
        assert_eq!(thing(json!({"device": {"uuid": "d1"}})).owner_device(), Some("d1"));
        for body in [
            json!({}),
            json!({"device": null}),
            json!({"device": "d1"}),
            json!({"device": {"uuid": ""}}),
            json!({"device": {"uuid": 7}}),
        ] {
            assert_eq!(thing(body.clone()).owner_device(), None, "{body}");
        }
    }
}
