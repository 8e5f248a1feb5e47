//! Events of things (WIRE.md A.3): record, list, read, delete, each
//! change published on the bus after it committed.
//!
//! The caller (the things face) has resolved the space to a [`Tenant`],
//! checked the token's scopes, and checked that the thing exists and that
//! `name` is one of the events of its Thing Description: these calls do
//! not look at things (see [`crate::things_activity`]).

use serde_json::Value;

use super::Platform;
use crate::CoreError;
use crate::bus::{BusEvent, Change};
use crate::ids::Tenant;
use crate::paging::{CursorPage, Direction, PageRequest};
use crate::things::KeyValue;
use crate::things_activity::{NewThingEvent, ThingEvent};

/// The cursor scope of event lists.
const SCOPE: &str = "thing-events";

fn not_found(thing: &str, name: &str, id: &str) -> CoreError {
    CoreError::NotFound(format!("event {name}/{id} of thing {thing}"))
}

impl Platform {
    /// Records event `name` of thing `thing` with `data` (`None`: `null`),
    /// happening now, then publishes it ([`BusEvent::ThingEvent`], created).
    pub async fn create_thing_event(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        data: Option<Value>,
    ) -> Result<ThingEvent, CoreError> {
        self.record_thing_event(tenant, NewThingEvent::new(thing, name, data)?)
            .await
    }

    /// Records an event made with [`NewThingEvent`] (which may carry the
    /// time it happened: an event reported late, an import), then publishes it.
    pub async fn record_thing_event(&self, tenant: &Tenant, event: NewThingEvent) -> Result<ThingEvent, CoreError> {
        let event = self.store.create_thing_event(tenant, event).await?;
        self.event_changed(tenant, Change::Created, &event).await;
        Ok(event)
    }

    /// One page of the events of `thing` (of event `name` only, when
    /// given), newest first, with the cursors of the next and previous pages.
    /// [`CoreError::Invalid`] for a cursor this list did not hand out.
    pub async fn list_thing_events(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: Option<&str>,
        page: &PageRequest,
    ) -> Result<CursorPage<ThingEvent>, CoreError> {
        let key = page.int_key(SCOPE)?;
        let rows = match (page.direction(), key) {
            (Some(Direction::Previous), Some(seq)) => {
                self.store
                    .list_thing_events_after(tenant, thing, name, seq, page.limit() + 1)
                    .await?
            }
            (_, before) => {
                self.store
                    .list_thing_events(tenant, thing, name, before, page.limit() + 1)
                    .await?
            }
        };
        Ok(CursorPage::from_rows(rows, page, SCOPE, |e| vec![KeyValue::Int(e.seq)]))
    }

    /// Reads event `id` of event `name` of thing `thing`; `NotFound` when
    /// there is none (of that thing and name, in this space).
    pub async fn thing_event(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<ThingEvent, CoreError> {
        self.store
            .thing_event(tenant, thing, name, id)
            .await?
            .ok_or_else(|| not_found(thing, name, id))
    }

    /// Deletes an event, then publishes it (deleted). `NotFound` when
    /// there is no such event.
    pub async fn delete_thing_event(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<(), CoreError> {
        let event = self
            .store
            .delete_thing_event(tenant, thing, name, id)
            .await?
            .ok_or_else(|| not_found(thing, name, id))?;
        self.event_changed(tenant, Change::Deleted, &event).await;
        Ok(())
    }

    async fn event_changed(&self, tenant: &Tenant, change: Change, event: &ThingEvent) {
        let e = BusEvent::ThingEvent {
            org: tenant.name().to_string(),
            change,
            event: event.clone(),
        };
        self.bus.publish(e).await;
    }
}
