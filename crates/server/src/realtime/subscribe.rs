//! `42["subscribe",[ids]]` → `42["subscribed",[ids]]`: the socket joins
//! the rooms of the channels its caller may use (its organization's,
//! within the rights of [`thingstead_core::channels`]), up to
//! `realtime.max_subscriptions_per_socket`; ids that do not decode, name
//! another organization or are over the limit are left out of the answer.
//! The answer lists canonical ids, the same as every `broadcast`'s `channel`.

use std::sync::Arc;

use serde_json::Value;
use socketioxide::extract::{SocketRef, State, TryData};
use thingstead_proto::channel::{ChannelId, MAX_ENCODED_LEN};

use super::RealtimeState;
use super::connect::Session;

/// The ids of a `subscribe` event: its argument `[ids]` (or the ids
/// themselves, however socketioxide unpacked a single argument).
fn requested(args: Value) -> Vec<String> {
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

/// The `subscribe` handler.
pub(super) async fn subscribe(socket: SocketRef, TryData(args): TryData<Value>, State(state): State<RealtimeState>) {
    let Some(session) = socket.extensions.get::<Arc<Session>>() else {
        return;
    };
    let max = state.settings.max_subscriptions_per_socket;
    let mut joined = socket.rooms().len();
    let mut accepted: Vec<String> = Vec::new();
    for id in requested(args.unwrap_or(Value::Null)).into_iter().take(max) {
        let Ok(channel) = ChannelId::decode(&id) else { continue };
        if !state.platform.may_subscribe(&session.principal, &channel) {
            continue;
        }
        let room = channel.encode();
        if accepted.contains(&room) {
            continue;
        }
        let already = socket.rooms().iter().any(|r| *r == room);
        if !already {
            if joined >= max {
                continue;
            }
            socket.join(room.clone());
            joined += 1;
        }
        accepted.push(room);
    }
    if let Err(e) = socket.emit("subscribed", &accepted) {
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
