//! Realtime channels (WIRE.md B.4–B.7): who may use which channel, and
//! what reaches a channel's subscribers.
//!
//! # Rights
//!
//! A channel belongs to the organization named in its id. A caller may
//! subscribe to, broadcast on and respond on channels of its own
//! organization only; another organization's channel is refused (and
//! left out of `subscribed`), never delivered. Besides:
//!
//! - nobody broadcasts (or responds) on a **system** channel: only the
//!   platform announces there (`update` after a resource changed);
//! - a **consumer app** may only use consumer channels (subscribe,
//!   broadcast, respond);
//! - a **restricted** token (delivery URLs only) and a device waiting to be
//!   **paired** may use no channel.
//!
//! # What subscribers receive
//!
//! Every [`Delivery`] becomes the socket.io event
//! `42["broadcast",{"id","channel","name","payload"}]` on the sockets
//! subscribed to `channel` ([`delivery`] turns bus events into deliveries):
//!
//! | bus event | channel | name | payload |
//! |---|---|---|---|
//! | [`BusEvent::Broadcast`] | as broadcast | as broadcast | as broadcast |
//! | [`BusEvent::MessageStored`] | `[org, device uuid, 0, 0]` | `message` | `{"topics": [..], "data": <text>, "received_at": <epoch ms>}` |
//! | [`BusEvent::Registry`] with a [channel name](RegistryChange::channel_name) | `[org, name, 1, 0]` (system) | `update` | `{"id": <record id>, "kind": "device"\|"thing"\|..., "change": "created"\|"updated"\|"deleted"}` |
//! | [`BusEvent::ThingAction`] | `[org, thing uid, 1, 0]` (system) | `update` | `{"id": <action id>, "kind": "action", "change", "thing", "name", "status", "input", "output", "timeRequested", "timeCompleted"}` |
//! | [`BusEvent::ThingEvent`] | `[org, thing uid, 1, 0]` (system) | `update` | `{"id": <event id>, "kind": "event", "change", "thing", "name", "data", "timestamp"}` |
//!
//! A device message's `data` is its payload as text when the bytes are
//! UTF-8, else their standard base64 (with `=` padding) — the same bytes a
//! device sent, readable by any listener.

use base64::Engine as _;
use serde_json::{Value, json};
use thingstead_proto::channel::ChannelId;

use crate::CoreError;
use crate::bus::{BusEvent, RegistryChange};
use crate::identity::{Actor, Principal};
use crate::records::{MessageRecord, rfc3339};

/// The longest broadcast name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// The longest broadcast id a response may name, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Bounds on what a broadcast or a response may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BroadcastLimits {
    /// The largest payload (its compact JSON), in bytes.
    pub max_payload_bytes: usize,
}

impl Default for BroadcastLimits {
    /// 64 KiB payloads.
    fn default() -> Self {
        Self {
            max_payload_bytes: 64 * 1024,
        }
    }
}

/// What a caller wants to do on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelUse {
    /// Receive its broadcasts.
    Subscribe,
    /// Broadcast on it, or respond to a broadcast made on it.
    Send,
}

/// Whether `principal` may `use_` `channel`; `Forbidden` with the reason if not.
pub(crate) fn check(principal: &Principal, channel: &ChannelId, use_: ChannelUse) -> Result<(), CoreError> {
    let forbidden = |why: &str| Err(CoreError::Forbidden(why.to_owned()));
    let tenant = principal.tenant()?;
    if principal.is_restricted() {
        return forbidden("a restricted token may not use channels");
    }
    if channel.organization != tenant.name().as_str() {
        return forbidden("the channel belongs to another organization");
    }
    if matches!(principal.actor(), Actor::ConsumerApp { .. }) && !channel.consumer {
        return forbidden("consumer apps may only use consumer channels");
    }
    if use_ == ChannelUse::Send && channel.system {
        return forbidden("only the platform broadcasts on system channels");
    }
    Ok(())
}

/// One broadcast as the sockets of a channel receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The organization of the channel.
    pub org: String,
    /// The broadcast id (what listeners respond with).
    pub id: String,
    /// The encoded channel id (the canonical form, as subscribed).
    pub channel: String,
    /// The event name.
    pub name: String,
    /// The payload.
    pub payload: Value,
}

impl Delivery {
    /// The socket.io `broadcast` event's argument: `{"id","channel","name","payload"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "channel": self.channel,
            "name": self.name,
            "payload": self.payload,
        })
    }
}

/// What a bus event delivers to realtime channels, if anything (see the
/// module docs). A broadcast whose channel does not decode, or belongs to
/// another organization than the event's, delivers nothing.
pub fn delivery(event: &BusEvent) -> Option<Delivery> {
    delivery_to(event, |_| true)
}

/// [`delivery`], built only when `listened(channel)` says somebody
/// listens on its channel: the channel is worked out first, and the id
/// and payload (a UUID, JSON) only for a channel with listeners. Every
/// write on the platform is a bus event; most have nobody listening.
pub fn delivery_to(event: &BusEvent, listened: impl FnOnce(&str) -> bool) -> Option<Delivery> {
    let (org, channel) = match event {
        BusEvent::Broadcast { org, channel, .. } => {
            let decoded = ChannelId::decode(channel).ok()?;
            (decoded.organization == *org).then_some(())?;
            (org.as_str(), decoded.encode())
        }
        BusEvent::MessageStored(m) => (
            m.org.as_str(),
            ChannelId::new(m.org.as_str(), m.device_uuid.as_str(), false, false).encode(),
        ),
        BusEvent::Registry(change) => (
            change.org.as_str(),
            ChannelId::new(change.org.as_str(), change.channel_name()?, true, false).encode(),
        ),
        BusEvent::ThingAction { org, action, .. } => {
            (org.as_str(), ChannelId::new(org, &action.thing, true, false).encode())
        }
        BusEvent::ThingEvent { org, event, .. } => {
            (org.as_str(), ChannelId::new(org, &event.thing, true, false).encode())
        }
        _ => return None,
    };
    if !listened(&channel) {
        return None;
    }
    let (id, name, payload) = match event {
        BusEvent::Broadcast { id, name, payload, .. } => (id.clone(), name.clone(), payload.clone()),
        BusEvent::MessageStored(m) => (new_id(), "message".to_owned(), message_payload(m)),
        BusEvent::Registry(change) => (new_id(), "update".to_owned(), update_payload(change)?),
        BusEvent::ThingAction { change, action, .. } => (
            new_id(),
            "update".to_owned(),
            json!({
                "id": action.id,
                "kind": "action",
                "change": change,
                "thing": action.thing,
                "name": action.name,
                "status": action.status,
                "input": action.input,
                "output": action.output,
                "timeRequested": rfc3339::format(action.time_requested),
                "timeCompleted": action.time_completed.map(rfc3339::format),
            }),
        ),
        BusEvent::ThingEvent { change, event, .. } => (
            new_id(),
            "update".to_owned(),
            json!({
                "id": event.id,
                "kind": "event",
                "change": change,
                "thing": event.thing,
                "name": event.name,
                "data": event.data,
                "timestamp": rfc3339::format(event.timestamp),
            }),
        ),
        _ => return None,
    };
    Some(Delivery {
        org: org.to_owned(),
        id,
        channel,
        name,
        payload,
    })
}

/// A stored device message's `message` payload.
fn message_payload(m: &MessageRecord) -> Value {
    let data = match std::str::from_utf8(&m.payload) {
        Ok(text) => text.to_owned(),
        Err(_) => base64::engine::general_purpose::STANDARD.encode(&m.payload),
    };
    json!({ "topics": m.topics, "data": data, "received_at": m.received_at })
}

/// A registry change's `update` payload.
fn update_payload(change: &RegistryChange) -> Option<Value> {
    let payload = serde_json::to_value(change).ok()?;
    Some(json!({ "id": change.id, "kind": payload["kind"], "change": payload["change"] }))
}

/// A new broadcast id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::bus::{Change, RegistryKind};

    #[test]
    fn device_messages_become_message_broadcasts_on_the_device_channel() {
        let mut m = MessageRecord {
            id: 1,
            org: "acme".into(),
            device_uuid: "d1".into(),
            topics: vec!["t".into()],
            payload: b"h\xc3\xa9".to_vec(),
            received_at: 5,
            peer: "p".into(),
            sdk: None,
            modem: None,
            idempotency_key: None,
        };
        let d = delivery(&BusEvent::MessageStored(Arc::new(m.clone()))).unwrap();
        assert_eq!(d.channel, ChannelId::new("acme", "d1", false, false).encode());
        assert_eq!(d.name, "message");
        assert_eq!(d.payload, json!({"topics": ["t"], "data": "hé", "received_at": 5}));
        m.payload = vec![0xff, 0];
        let d = delivery(&BusEvent::MessageStored(Arc::new(m))).unwrap();
        assert_eq!(d.payload["data"], "/wA=");
    }

    #[test]
    fn registry_changes_become_updates_on_system_channels() {
        let change = |kind, id: &str| {
            BusEvent::Registry(RegistryChange {
                org: "acme".into(),
                kind,
                id: id.into(),
                change: Change::Updated,
            })
        };
        let d = delivery(&change(RegistryKind::Data, "g:k")).unwrap();
        assert_eq!(d.channel, ChannelId::new("acme", "data:g:k", true, false).encode());
        assert_eq!(d.name, "update");
        assert_eq!(d.payload, json!({"id": "g:k", "kind": "data", "change": "updated"}));
        assert!(delivery(&change(RegistryKind::User, "ann")).is_none());
    }

    #[test]
    fn thing_actions_and_events_become_updates_on_the_things_system_channel() {
        use crate::things_activity::{ThingAction, ThingEvent};
        let action = ThingAction {
            id: "a1".into(),
            seq: 1,
            thing: "lamp".into(),
            name: "fade".into(),
            input: Some(json!(3)),
            status: "completed".into(),
            output: None,
            time_requested: 0,
            time_completed: Some(1_000),
        };
        let d = delivery(&BusEvent::ThingAction {
            org: "acme".into(),
            change: Change::Updated,
            action,
        })
        .unwrap();
        assert_eq!(d.channel, ChannelId::new("acme", "lamp", true, false).encode());
        assert_eq!(d.name, "update");
        assert_eq!(
            d.payload,
            json!({"id": "a1", "kind": "action", "change": "updated", "thing": "lamp", "name": "fade",
                   "status": "completed", "input": 3, "output": null,
                   "timeRequested": "1970-01-01T00:00:00.000Z", "timeCompleted": "1970-01-01T00:00:01.000Z"})
        );
        let event = ThingEvent {
            id: "e1".into(),
            seq: 2,
            thing: "lamp".into(),
            name: "clicked".into(),
            data: json!({"n": 1}),
            timestamp: 0,
        };
        let d = delivery(&BusEvent::ThingEvent {
            org: "acme".into(),
            change: Change::Created,
            event,
        })
        .unwrap();
        assert_eq!(d.channel, ChannelId::new("acme", "lamp", true, false).encode());
        assert_eq!(
            d.payload,
            json!({"id": "e1", "kind": "event", "change": "created", "thing": "lamp", "name": "clicked",
                   "data": {"n": 1}, "timestamp": "1970-01-01T00:00:00.000Z"})
        );
    }

    #[test]
    fn a_broadcast_naming_another_organizations_channel_delivers_nothing() {
        let b = |org: &str, channel: String| BusEvent::Broadcast {
            org: org.into(),
            id: "i".into(),
            channel,
            name: "n".into(),
            payload: Value::Null,
        };
        let acme = ChannelId::new("acme", "c", false, false).encode();
        assert!(delivery(&b("acme", acme.clone())).is_some());
        assert!(delivery(&b("other", acme)).is_none());
        assert!(delivery(&b("acme", "not base64".into())).is_none());
    }
}
