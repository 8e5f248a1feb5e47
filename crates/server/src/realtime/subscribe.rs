//! `42["subscribe",[ids]]` → `42["subscribed",[ids]]`: the socket joins
//! the rooms of the channels its caller may use (its organization's,
//! within the rights of [`thingstead_core::channels`]), up to
//! `realtime.max_subscriptions_per_socket`; ids that do not decode, name
//! another organization or are over the limit are left out of the answer.
//! The answer lists canonical ids, the same as every `broadcast`'s `channel`.

use std::sync::Arc;

use serde_json::Value;
use socketioxide::extract::{SocketRef, State, TryData};
use thingstead_core::Principal;
use thingstead_proto::channel::{ChannelId, MAX_ENCODED_LEN};

use super::RealtimeState;
use super::connect::Session;

/// The ids of a `subscribe` event: its argument `[ids]` (or the ids
/// themselves, however socketioxide unpacked a single argument).
pub(super) fn requested(args: Value) -> Vec<String> {
    let list = match args {
        Value::Array(items) if items.len() == 1 && items[0].is_array() => match items.into_iter().next() {
            Some(Value::Array(inner)) => inner,
            _ => Vec::new(),
        },
        Value::Array(items) => items,
        Value::String(one) => vec![Value::String(one)],
        _ => Vec::new(),
    };
    list.into_iter()
        .filter_map(|v| match v {
            Value::String(s) if s.len() <= MAX_ENCODED_LEN => Some(s),
            _ => None,
        })
        .collect()
}

/// What one `subscribe` grants: `accepted` (the answer, canonical ids) and
/// `join` (those of them the connection is not in yet).
pub(super) struct Granted {
    pub(super) accepted: Vec<String>,
    pub(super) join: Vec<String>,
}

/// Decides a `subscribe` of `principal` with arguments `args` for a
/// connection already in `current` rooms: ids that do not decode, that the
/// caller may not use, or that would take it past
/// `realtime.max_subscriptions_per_socket` are left out.
pub(super) fn grant(state: &RealtimeState, principal: &Principal, args: Value, current: &[String]) -> Granted {
    let max = state.settings.max_subscriptions_per_socket;
    let mut joined = current.len();
    let mut granted = Granted {
        accepted: Vec::new(),
        join: Vec::new(),
    };
    for id in requested(args).into_iter().take(max) {
        let Ok(channel) = ChannelId::decode(&id) else { continue };
        if !state.platform.may_subscribe(principal, &channel) {
            continue;
        }
        let room = channel.encode();
        if granted.accepted.contains(&room) {
            continue;
        }
        if !current.contains(&room) {
            if joined >= max {
                continue;
            }
            granted.join.push(room.clone());
            joined += 1;
        }
        granted.accepted.push(room);
    }
    granted
}

/// The `subscribe` handler.
pub(super) async fn subscribe(socket: SocketRef, TryData(args): TryData<Value>, State(state): State<RealtimeState>) {
    let Some(session) = socket.extensions.get::<Arc<Session>>() else {
        return;
    };
    let current: Vec<String> = socket.rooms().into_iter().map(|r| r.to_string()).collect();
    let granted = grant(&state, &session.principal, args.unwrap_or(Value::Null), &current);
    for room in granted.join {
        socket.join(room);
    }
    if let Err(e) = socket.emit("subscribed", &granted.accepted) {
        tracing::debug!(error = %e, "could not answer subscribe");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_are_read_however_the_argument_was_unpacked() {
        assert_eq!(requested(json!([["a", "b"]])), ["a", "b"]);
        assert_eq!(requested(json!(["a", "b"])), ["a", "b"]);
        assert_eq!(requested(json!("a")), ["a"]);
        assert_eq!(requested(json!([1, "a", null])), ["a"]);
        assert!(requested(json!({"a": 1})).is_empty());
        assert!(requested(json!(["x".repeat(MAX_ENCODED_LEN + 1)])).is_empty());
    }
}
