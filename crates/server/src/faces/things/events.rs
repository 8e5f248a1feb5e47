//! `.../things/{t}/events[/{e}[/{id}]]` (WIRE.md A.3, A.4), also under
//! `/categories/{c}/things/{t}`: the events a thing emitted.
//!
//! * `GET .../events` and `GET .../events/{e}` (`limit`, `next_cursor`,
//!   `previous_cursor`): 200 EventList, newest first;
//! * `POST .../events/{e}` with `{"e": {"data": any}}` (`data` optional):
//!   201 EventResponse, happening now;
//! * `GET .../events/{e}/{id}`: 200 EventResponse;
//! * `DELETE .../events/{e}/{id}`: 204.
//!
//! An EventResponse is `{"<e>": {"href", "data", "timestamp"}}`; `href`
//! is the URL of the event (the thing's `id`, then `/events/{e}/{id}`).
//!
//! Reads need scope `thing.read` or `thing`, writes `thing`. 404 for an
//! unknown thing (or one outside the path's category) and an unknown
//! event id; 400 for a body that is not `{"<e>": {...}}` with the name of
//! the path, for an event the thing's TD does not declare (on `POST`), and
//! for `data` outside the event's `data` schema.

use serde_json::{Map, Value};
use thingstead_core::paging::{CursorPage, PageRequest};
use thingstead_core::records::rfc3339;
use thingstead_core::things_activity::ThingEvent;
use thingstead_core::{CoreError, Platform, Tenant};

use super::actions::ActivityPath;
use super::activity::Activity;

/// Events as the face shows them: EventResponse.
impl Activity for ThingEvent {
    const KIND: &'static str = "events";
    const SINGULAR: &'static str = "event";
    const PAYLOAD: &'static str = "data";

    fn key(&self) -> (&str, &str) {
        (&self.name, &self.id)
    }

    fn members(&self, out: &mut Map<String, Value>) {
        out.insert("data".into(), self.data.clone());
        out.insert("timestamp".into(), Value::String(rfc3339::format(self.timestamp)));
    }

    async fn create(p: &Platform, t: &Tenant, thing: &str, name: &str, data: Option<Value>) -> Result<Self, CoreError> {
        p.create_thing_event(t, thing, name, data).await
    }

    async fn list(
        p: &Platform,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        page: &PageRequest,
    ) -> Result<CursorPage<Self>, CoreError> {
        p.list_thing_events(t, thing, name, page).await
    }

    async fn one(p: &Platform, t: &Tenant, thing: &str, name: &str, id: &str) -> Result<Self, CoreError> {
        p.thing_event(t, thing, name, id).await
    }

    async fn delete(p: &Platform, t: &Tenant, thing: &str, name: &str, id: &str) -> Result<(), CoreError> {
        p.delete_thing_event(t, thing, name, id).await
    }
}

super::activity::activity_handlers!(ThingEvent);
