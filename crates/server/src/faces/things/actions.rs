//! `.../things/{t}/actions[/{a}[/{id}]]` (WIRE.md A.3, A.4), also under
//! `/categories/{c}/things/{t}`: the actions requested of a thing.
//!
//! * `GET .../actions` and `GET .../actions/{a}` (`limit`, `next_cursor`,
//!   `previous_cursor`): 200 ActionList, newest first;
//! * `POST .../actions/{a}` with `{"a": {"input": any}}` (`input`
//!   optional): 201 ActionResponse, status `pending`;
//! * `GET .../actions/{a}/{id}`: 200 ActionResponse;
//! * `PUT .../actions/{a}/{id}` with `{"a": {"status": str, "output": any}}`: 200 ActionResponse;
//! * `DELETE .../actions/{a}/{id}`: 204.
//!
//! An ActionResponse is `{"<a>": {"href", "input", "status",
//! "timeRequested", "timeCompleted"?, "output"?}}`; `href` is the URL of
//! the action (the thing's `id`, then `/actions/{a}/{id}`), whose last
//! segment is the action's id.
//!
//! Reads need scope `thing.read` or `thing`, writes `thing`. 404 for an
//! unknown thing (or one outside the path's category) and an unknown
//! action id; 400 for a body that is not `{"<a>": {...}}` with the name of
//! the path, for an action the thing's TD does not declare (on `POST`),
//! and for an `input` outside the action's `input` schema.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use thingstead_core::paging::{CursorPage, PageRequest};
use thingstead_core::records::rfc3339;
use thingstead_core::things::Thing;
use thingstead_core::things::schema::validate_value;
use thingstead_core::things_activity::{ThingAction, ThingActionUpdate};
use thingstead_core::{CoreError, Platform, Tenant};

use super::SpaceCaller;
use super::activity::{Activity, render};
use super::json::JsonBody;
use super::things::{Origin, ThingPath, WRITE, thing_of_path};
use crate::app::AppState;
use crate::http::error::ApiError;

/// The path parameters of the action and event routes.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivityPath {
    /// The space (already checked against the token).
    pub space: String,
    /// The category of a `/categories/{category}/things` path.
    pub category: Option<String>,
    /// The thing's uid.
    pub thing: String,
    /// The action or event name, on routes that have one.
    pub name: Option<String>,
    /// The action or event id, on routes that have one.
    pub id: Option<String>,
}

impl ActivityPath {
    /// The name of the path (empty on routes without one).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// The id of the path (empty on routes without one).
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }

    /// The thing of the path (404 when it is not there or, on a category
    /// path, not in that category).
    pub async fn thing(&self, state: &AppState, caller: &SpaceCaller) -> Result<Thing, CoreError> {
        let path = ThingPath {
            space: self.space.clone(),
            category: self.category.clone(),
            thing: Some(self.thing.clone()),
            property: None,
        };
        thing_of_path(state, caller.tenant(), &path).await
    }

    /// The URL of record `id` of `kind` (`actions`, `events`) `name` of the thing.
    pub fn href(&self, origin: &Origin, kind: &str, name: &str, id: &str) -> String {
        format!(
            "{}/{kind}/{}/{}",
            origin.thing_url(&self.space, &self.thing),
            segment(name),
            segment(id)
        )
    }
}

/// `s` as one URL path segment: unreserved bytes as they are, others
/// percent-encoded.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The list envelope with both cursors (WIRE.md A.4).
pub fn page_body<T>(page: &CursorPage<T>, render: impl Fn(&T) -> Value) -> Value {
    let data: Vec<Value> = page.items.iter().map(render).collect();
    json!({
        "data": data,
        "paging": { "next_cursor": page.next_cursor, "previous_cursor": page.previous_cursor }
    })
}

/// The member of `body` named `name`: the body must be an object whose
/// only key is `name` (`kind` names the record in the error), holding an
/// object or `null` (`None`).
pub fn named_body<'a>(body: &'a Value, kind: &str, name: &str) -> Result<Option<&'a Map<String, Value>>, CoreError> {
    let wrong = || {
        CoreError::Invalid(format!(
            "the body is {{\"{name}\": {{...}}}}: one key, the {kind} of the path"
        ))
    };
    let Some(obj) = body.as_object().filter(|o| o.len() == 1) else {
        return Err(wrong());
    };
    match obj.get(name) {
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(Value::Null) => Ok(None),
        Some(_) => Err(CoreError::Invalid(format!("\"{name}\" must be an object"))),
        None => Err(wrong()),
    }
}

/// The affordance `name` of `kind` (`actions`, `events`) of `thing`'s TD;
/// 400 when it declares none of that name.
pub fn affordance<'a>(thing: &'a Thing, kind: &str, name: &str) -> Result<&'a Map<String, Value>, CoreError> {
    thing
        .body
        .get(kind)
        .and_then(Value::as_object)
        .and_then(|a| a.get(name))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            CoreError::Invalid(format!(
                "thing {} declares no {} named {name:?}",
                thing.uid,
                kind.trim_end_matches('s')
            ))
        })
}

/// Checks `value` (when given) against the data schema `schema_key` of
/// `affordance` (when it has one).
pub fn check_against(
    affordance: &Map<String, Value>,
    schema_key: &str,
    value: Option<&Value>,
    at: &str,
) -> Result<(), CoreError> {
    match (affordance.get(schema_key).filter(|s| s.is_object()), value) {
        (Some(schema), Some(v)) if !v.is_null() => validate_value(schema, v, at),
        _ => Ok(()),
    }
}

/// Actions as the face shows them: ActionResponse.
impl Activity for ThingAction {
    const KIND: &'static str = "actions";
    const SINGULAR: &'static str = "action";
    const PAYLOAD: &'static str = "input";

    fn key(&self) -> (&str, &str) {
        (&self.name, &self.id)
    }

    fn members(&self, out: &mut Map<String, Value>) {
        out.insert("input".into(), self.input.clone().unwrap_or(Value::Null));
        out.insert("status".into(), Value::String(self.status.clone()));
        out.insert(
            "timeRequested".into(),
            Value::String(rfc3339::format(self.time_requested)),
        );
        if let Some(t) = self.time_completed {
            out.insert("timeCompleted".into(), Value::String(rfc3339::format(t)));
        }
        if let Some(o) = &self.output {
            out.insert("output".into(), o.clone());
        }
    }

    async fn create(
        p: &Platform,
        t: &Tenant,
        thing: &str,
        name: &str,
        input: Option<Value>,
    ) -> Result<Self, CoreError> {
        p.create_thing_action(t, thing, name, input).await
    }

    async fn list(
        p: &Platform,
        t: &Tenant,
        thing: &str,
        name: Option<&str>,
        page: &PageRequest,
    ) -> Result<CursorPage<Self>, CoreError> {
        p.list_thing_actions(t, thing, name, page).await
    }

    async fn one(p: &Platform, t: &Tenant, thing: &str, name: &str, id: &str) -> Result<Self, CoreError> {
        p.thing_action(t, thing, name, id).await
    }

    async fn delete(p: &Platform, t: &Tenant, thing: &str, name: &str, id: &str) -> Result<(), CoreError> {
        p.delete_thing_action(t, thing, name, id).await
    }
}

super::activity::activity_handlers!(ThingAction);

/// `PUT .../actions/{a}/{id}` with `{"a": {"status", "output"}}`: 200 ActionResponse.
pub async fn update(
    State(state): State<AppState>,
    caller: SpaceCaller,
    Path(path): Path<ActivityPath>,
    origin: Origin,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    caller.require(WRITE)?;
    let name = path.name();
    let inner = named_body(&body, "action", name)?;
    let status = match inner.and_then(|b| b.get("status")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(CoreError::Invalid("status must be a string".into()).into()),
    };
    let output = inner.and_then(|b| b.get("output")).cloned();
    let update = ThingActionUpdate::new(status, output)?;
    let thing = path.thing(&state, &caller).await?;
    let action = state
        .platform
        .update_thing_action(caller.tenant(), &thing.uid, name, path.id(), update)
        .await?;
    Ok(Json(render(&path, &origin, &action)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_the_action_of_the_path() {
        let body = json!({"fade": {"input": 3}});
        assert_eq!(
            named_body(&body, "action", "fade")
                .unwrap()
                .and_then(|b| b.get("input")),
            Some(&json!(3))
        );
        assert_eq!(named_body(&json!({"fade": null}), "action", "fade").unwrap(), None);
        for bad in [
            json!({"other": {"input": 3}}),
            json!({"fade": {}, "x": 1}),
            json!({"fade": 3}),
            json!([]),
            json!({}),
        ] {
            assert!(named_body(&bad, "action", "fade").is_err(), "{bad}");
        }
    }

    #[test]
    fn hrefs_are_urls_of_the_record() {
        let path = ActivityPath {
            space: "acme".into(),
            category: Some("c".into()),
            thing: "t1".into(),
            name: None,
            id: None,
        };
        let origin = Origin("http://h:1".into());
        assert_eq!(
            path.href(&origin, "actions", "turn on/off", "u-1"),
            "http://h:1/spaces/acme/things/t1/actions/turn%20on%2Foff/u-1"
        );
    }
}
