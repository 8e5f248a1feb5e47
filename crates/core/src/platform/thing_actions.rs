//! Actions of things (WIRE.md A.3): request, list, read, update, delete,
//! each change published on the bus after it committed.
//!
//! The caller (the things face) has resolved the space to a [`Tenant`],
//! checked the token's scopes, and checked that the thing exists and that
//! `name` is one of the actions of its Thing Description: these calls do
//! not look at things (see [`crate::things_activity`]).

use serde_json::Value;

use super::Platform;
use crate::CoreError;
use crate::bus::{BusEvent, Change};
use crate::ids::Tenant;
use crate::paging::{CursorPage, Direction, PageRequest};
use crate::things::KeyValue;
use crate::things_activity::{NewThingAction, ThingAction, ThingActionUpdate};

/// The cursor scope of action lists.
const SCOPE: &str = "thing-actions";

fn not_found(thing: &str, name: &str, id: &str) -> CoreError {
    CoreError::NotFound(format!("action {name}/{id} of thing {thing}"))
}

impl Platform {
    /// Requests action `name` of thing `thing` with `input` (`None` or
    /// `null`: none): stored `pending` with the time of the request, then
    /// published ([`BusEvent::ThingAction`], created).
    pub async fn create_thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        input: Option<Value>,
    ) -> Result<ThingAction, CoreError> {
        let action = self
            .store
            .create_thing_action(tenant, NewThingAction::new(thing, name, input)?)
            .await?;
        self.action_changed(tenant, Change::Created, &action).await;
        Ok(action)
    }

    /// One page of the actions of `thing` (of action `name` only, when
    /// given), newest first, with the cursors of the next and previous pages.
    /// [`CoreError::Invalid`] for a cursor this list did not hand out.
    pub async fn list_thing_actions(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: Option<&str>,
        page: &PageRequest,
    ) -> Result<CursorPage<ThingAction>, CoreError> {
        let key = page.int_key(SCOPE)?;
        let rows = match (page.direction(), key) {
            (Some(Direction::Previous), Some(seq)) => {
                self.store
                    .list_thing_actions_after(tenant, thing, name, seq, page.limit() + 1)
                    .await?
            }
            (_, before) => {
                self.store
                    .list_thing_actions(tenant, thing, name, before, page.limit() + 1)
                    .await?
            }
        };
        Ok(CursorPage::from_rows(rows, page, SCOPE, |a| vec![KeyValue::Int(a.seq)]))
    }

    /// Reads action `id` of action `name` of thing `thing`; `NotFound`
    /// when there is none (of that thing and name, in this space).
    pub async fn thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<ThingAction, CoreError> {
        self.store
            .thing_action(tenant, thing, name, id)
            .await?
            .ok_or_else(|| not_found(thing, name, id))
    }

    /// Sets the status and/or output of an action, atomically (see
    /// [`crate::things_activity`] for `time_completed`), then publishes
    /// it (updated). `NotFound` when there is no such action.
    pub async fn update_thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
        update: ThingActionUpdate,
    ) -> Result<ThingAction, CoreError> {
        let action = self
            .store
            .update_thing_action(tenant, thing, name, id, update, crate::now_ms())
            .await?
            .ok_or_else(|| not_found(thing, name, id))?;
        self.action_changed(tenant, Change::Updated, &action).await;
        Ok(action)
    }

    /// Deletes an action, then publishes it (deleted). `NotFound` when
    /// there is no such action.
    pub async fn delete_thing_action(
        &self,
        tenant: &Tenant,
        thing: &str,
        name: &str,
        id: &str,
    ) -> Result<(), CoreError> {
        let action = self
            .store
            .delete_thing_action(tenant, thing, name, id)
            .await?
            .ok_or_else(|| not_found(thing, name, id))?;
        self.action_changed(tenant, Change::Deleted, &action).await;
        Ok(())
    }

    /// Deletes every action and event of `thing`, for when the thing is
    /// deleted; returns how many records went. Nothing is published per
    /// record (the thing's own deletion is).
    pub async fn delete_thing_activity(&self, tenant: &Tenant, thing: &str) -> Result<u64, CoreError> {
        let actions = self.store.delete_thing_actions(tenant, thing).await?;
        let events = self.store.delete_thing_events(tenant, thing).await?;
        Ok(actions + events)
    }

    async fn action_changed(&self, tenant: &Tenant, change: Change, action: &ThingAction) {
        let event = BusEvent::ThingAction {
            org: tenant.name().to_string(),
            change,
            action: action.clone(),
        };
        self.bus.publish(event).await;
    }
}
