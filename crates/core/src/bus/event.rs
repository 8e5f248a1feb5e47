//! Bus events: serde types, each with a tenant and a subject.

use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::subject::{ROOT, token};
use crate::ids::OrgName;
use crate::records::MessageRecord;
use crate::things_activity::{ThingAction, ThingEvent};

/// An event on the bus. On the wire (NATS, `bus.sock`) it is JSON:
/// `{"type": "sms_queued", "data": {"org": "acme", "id": 7}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
#[non_exhaustive]
pub enum BusEvent {
    /// A device message was committed.
    MessageStored(Arc<MessageRecord>),
    /// An SMS was queued in the outbox of `org`.
    SmsQueued {
        /// Organization name.
        org: String,
        /// Outbox id.
        id: i64,
    },
    /// A registry record was created, deleted or changed.
    Registry(RegistryChange),
    /// A message broadcast on a realtime channel (ephemeral: never stored).
    Broadcast {
        /// Organization name (the channel's organization).
        org: String,
        /// The broadcast's id (a uuid), which responses name.
        id: String,
        /// The channel id, encoded as WIRE.md B.5 says (canonical form).
        channel: String,
        /// The event name listeners route on.
        name: String,
        /// Any JSON.
        payload: serde_json::Value,
    },
    /// A response to broadcast `id`, for the request collecting them.
    BroadcastResponse {
        /// Organization name.
        org: String,
        /// The id of the broadcast answered.
        id: String,
        /// Any JSON.
        payload: serde_json::Value,
    },
    /// An action of a thing was requested (created), updated or deleted.
    ThingAction {
        /// Organization name (the space).
        org: String,
        /// What happened.
        change: Change,
        /// The action as stored after the change (as it was, for a delete).
        action: ThingAction,
    },
    /// An event of a thing was recorded (created) or deleted.
    ThingEvent {
        /// Organization name (the space).
        org: String,
        /// What happened.
        change: Change,
        /// The event.
        event: ThingEvent,
    },
}

/// What kind of registry record changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    /// An organization (its id is its name).
    Org,
    /// A device (by uuid).
    Device,
    /// A consumer app (by uuid).
    App,
    /// An OAuth2 client (by client id).
    Client,
    /// An API key (by its id).
    Apikey,
    /// A user (by username).
    User,
    /// An application-platform thing (by uuid).
    Thing,
    /// An experience (by uuid).
    Experience,
    /// A location with its zones (by uuid).
    Location,
    /// A feed (by uuid).
    Feed,
    /// A content item (by uuid).
    Content,
    /// A data item (by `<group>:<key>`).
    Data,
}

/// How a registry record changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Created.
    Created,
    /// Deleted.
    Deleted,
    /// Changed (a device's TOTP seed rotated, an organization's retention set).
    Updated,
}

/// A registry change, published after the store committed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryChange {
    /// Organization name.
    pub org: String,
    /// The kind of record.
    pub kind: RegistryKind,
    /// Its id (uuid, client id, key id, username; the name for an organization).
    pub id: String,
    /// What happened.
    pub change: Change,
}

impl RegistryKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Org => "org",
            Self::Device => "device",
            Self::App => "app",
            Self::Client => "client",
            Self::Apikey => "apikey",
            Self::User => "user",
            Self::Thing => "thing",
            Self::Experience => "experience",
            Self::Location => "location",
            Self::Feed => "feed",
            Self::Content => "content",
            Self::Data => "data",
        }
    }
}

impl RegistryChange {
    /// The name of the application-platform channel this change is
    /// announced on (as an `update` on its system channel, WIRE.md B.5):
    /// the uuid for devices, things, experiences, locations, feeds and
    /// content; `data:<group>:<key>` for a data item. `None` for records
    /// that have no channel (organizations, users, apps, clients, keys).
    pub fn channel_name(&self) -> Option<String> {
        match self.kind {
            RegistryKind::Device
            | RegistryKind::Thing
            | RegistryKind::Experience
            | RegistryKind::Location
            | RegistryKind::Feed
            | RegistryKind::Content => Some(self.id.clone()),
            RegistryKind::Data => Some(format!("data:{}", self.id)),
            RegistryKind::Org
            | RegistryKind::App
            | RegistryKind::Client
            | RegistryKind::Apikey
            | RegistryKind::User => None,
        }
    }
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Deleted => "deleted",
            Self::Updated => "updated",
        }
    }
}

impl BusEvent {
    /// The tenant (organization name) the event belongs to.
    pub fn tenant(&self) -> &str {
        match self {
            Self::MessageStored(m) => &m.org,
            Self::SmsQueued { org, .. } => org,
            Self::Registry(r) => &r.org,
            Self::Broadcast { org, .. } | Self::BroadcastResponse { org, .. } => org,
            Self::ThingAction { org, .. } | Self::ThingEvent { org, .. } => org,
        }
    }

    /// The subject: `thingstead.<tenant>.message.<device_uuid>`,
    /// `thingstead.<tenant>.sms.<id>.queued`,
    /// `thingstead.<tenant>.registry.<kind>.<id>.<created|deleted|updated>`,
    /// `thingstead.<tenant>.broadcast.<id>` or
    /// `thingstead.<tenant>.broadcast.<id>.response`,
    /// `thingstead.<tenant>.thing.<uid>.action.<name>.<id>.<created|updated|deleted>` or
    /// `thingstead.<tenant>.thing.<uid>.event.<name>.<id>.<created|deleted>`.
    /// Tokens that come from input are escaped with [`token`].
    pub fn subject(&self) -> String {
        let tenant = token(self.tenant());
        match self {
            Self::MessageStored(m) => format!("{ROOT}.{tenant}.message.{}", token(&m.device_uuid)),
            Self::SmsQueued { id, .. } => format!("{ROOT}.{tenant}.sms.{id}.queued"),
            Self::Registry(r) => format!(
                "{ROOT}.{tenant}.registry.{}.{}.{}",
                r.kind.as_str(),
                token(&r.id),
                r.change.as_str()
            ),
            Self::Broadcast { id, .. } => format!("{ROOT}.{tenant}.broadcast.{}", token(id)),
            Self::BroadcastResponse { id, .. } => format!("{ROOT}.{tenant}.broadcast.{}.response", token(id)),
            Self::ThingAction { change, action, .. } => format!(
                "{ROOT}.{tenant}.thing.{}.action.{}.{}.{}",
                token(&action.thing),
                token(&action.name),
                token(&action.id),
                change.as_str()
            ),
            Self::ThingEvent { change, event, .. } => format!(
                "{ROOT}.{tenant}.thing.{}.event.{}.{}.{}",
                token(&event.thing),
                token(&event.name),
                token(&event.id),
                change.as_str()
            ),
        }
    }

    /// Parses an event from another process (NATS, `bus.sock`) strictly:
    /// JSON of the right shape, a valid organization name, and, when the
    /// subject it came on is known, that subject.
    pub fn from_wire(bytes: &[u8], subject: Option<&str>) -> Result<Self, String> {
        let event: Self = serde_json::from_slice(bytes).map_err(|e| format!("not a bus event: {e}"))?;
        OrgName::parse(event.tenant()).map_err(|e| e.to_string())?;
        match subject {
            Some(s) if s != event.subject() => Err(format!("event for {} arrived on {s}", event.subject())),
            _ => Ok(event),
        }
    }

    /// The event as JSON for the wire.
    pub fn to_wire(&self) -> Vec<u8> {
        // Serializing these types cannot fail: no maps with non-string keys.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// An event on the wire: a message's payload in base64.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case", deny_unknown_fields)]
enum Wire {
    MessageStored(MessageWire),
    SmsQueued {
        org: String,
        id: i64,
    },
    Registry(RegistryChange),
    Broadcast {
        org: String,
        id: String,
        channel: String,
        name: String,
        payload: serde_json::Value,
    },
    BroadcastResponse {
        org: String,
        id: String,
        payload: serde_json::Value,
    },
    ThingAction {
        org: String,
        change: Change,
        action: ThingAction,
    },
    ThingEvent {
        org: String,
        change: Change,
        event: ThingEvent,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageWire {
    id: i64,
    org: String,
    device_uuid: String,
    topics: Vec<String>,
    payload_b64: String,
    received_at: i64,
    peer: String,
    sdk: Option<String>,
    modem: Option<String>,
    idempotency_key: Option<String>,
}

impl From<BusEvent> for Wire {
    fn from(e: BusEvent) -> Self {
        match e {
            BusEvent::MessageStored(m) => Wire::MessageStored(MessageWire {
                id: m.id,
                org: m.org.clone(),
                device_uuid: m.device_uuid.clone(),
                topics: m.topics.clone(),
                payload_b64: base64::engine::general_purpose::STANDARD.encode(&m.payload),
                received_at: m.received_at,
                peer: m.peer.clone(),
                sdk: m.sdk.clone(),
                modem: m.modem.clone(),
                idempotency_key: m.idempotency_key.clone(),
            }),
            BusEvent::SmsQueued { org, id } => Wire::SmsQueued { org, id },
            BusEvent::Registry(r) => Wire::Registry(r),
            BusEvent::Broadcast {
                org,
                id,
                channel,
                name,
                payload,
            } => Wire::Broadcast {
                org,
                id,
                channel,
                name,
                payload,
            },
            BusEvent::BroadcastResponse { org, id, payload } => Wire::BroadcastResponse { org, id, payload },
            BusEvent::ThingAction { org, change, action } => Wire::ThingAction { org, change, action },
            BusEvent::ThingEvent { org, change, event } => Wire::ThingEvent { org, change, event },
        }
    }
}

impl TryFrom<Wire> for BusEvent {
    type Error = String;

    fn try_from(w: Wire) -> Result<Self, String> {
        Ok(match w {
            Wire::MessageStored(w) => {
                let payload = base64::engine::general_purpose::STANDARD
                    .decode(&w.payload_b64)
                    .map_err(|e| format!("payload_b64: {e}"))?;
                BusEvent::MessageStored(Arc::new(MessageRecord {
                    id: w.id,
                    org: w.org,
                    device_uuid: w.device_uuid,
                    topics: w.topics,
                    payload,
                    received_at: w.received_at,
                    peer: w.peer,
                    sdk: w.sdk,
                    modem: w.modem,
                    idempotency_key: w.idempotency_key,
                }))
            }
            Wire::SmsQueued { org, id } => BusEvent::SmsQueued { org, id },
            Wire::Registry(r) => BusEvent::Registry(r),
            Wire::Broadcast {
                org,
                id,
                channel,
                name,
                payload,
            } => BusEvent::Broadcast {
                org,
                id,
                channel,
                name,
                payload,
            },
            Wire::BroadcastResponse { org, id, payload } => BusEvent::BroadcastResponse { org, id, payload },
            Wire::ThingAction { org, change, action } => BusEvent::ThingAction { org, change, action },
            Wire::ThingEvent { org, change, event } => BusEvent::ThingEvent { org, change, event },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> BusEvent {
        BusEvent::MessageStored(Arc::new(MessageRecord {
            id: 1,
            org: "acme".into(),
            device_uuid: "0b9e0c1e-2f4b-4e36-9d7a-6a1c0f3c7b11".into(),
            topics: vec!["t".into()],
            payload: vec![0, 255, b'x'],
            received_at: 5,
            peer: "127.0.0.1:1".into(),
            sdk: None,
            modem: Some("agnostic".into()),
            idempotency_key: None,
        }))
    }

    #[test]
    fn events_round_trip_and_carry_their_subject() {
        let events = [
            message(),
            BusEvent::SmsQueued {
                org: "acme".into(),
                id: 7,
            },
            BusEvent::Registry(RegistryChange {
                org: "acme".into(),
                kind: RegistryKind::User,
                id: "ann.smith".into(),
                change: Change::Deleted,
            }),
            BusEvent::Broadcast {
                org: "acme".into(),
                id: "5f1c".into(),
                channel: "WyJhY21lIiwibXlfY2hhbm5lbCIsMCwwXQ==".into(),
                name: "fling".into(),
                payload: serde_json::json!({"appTemplate": {"uuid": "u"}, "ü": [1, null]}),
            },
            BusEvent::BroadcastResponse {
                org: "acme".into(),
                id: "5f1c".into(),
                payload: serde_json::json!("pong"),
            },
            BusEvent::ThingAction {
                org: "acme".into(),
                change: Change::Updated,
                action: ThingAction {
                    id: "a1".into(),
                    seq: 3,
                    thing: "lamp.1".into(),
                    name: "fade".into(),
                    input: Some(serde_json::json!({"to": 0})),
                    status: "completed".into(),
                    output: None,
                    time_requested: 1,
                    time_completed: Some(2),
                },
            },
            BusEvent::ThingEvent {
                org: "acme".into(),
                change: Change::Created,
                event: ThingEvent {
                    id: "e1".into(),
                    seq: 4,
                    thing: "lamp-1".into(),
                    name: "overheat".into(),
                    data: serde_json::Value::Null,
                    timestamp: 5,
                },
            },
        ];
        let subjects = [
            "thingstead.acme.message.0b9e0c1e-2f4b-4e36-9d7a-6a1c0f3c7b11",
            "thingstead.acme.sms.7.queued",
            "thingstead.acme.registry.user.ann%2Esmith.deleted",
            "thingstead.acme.broadcast.5f1c",
            "thingstead.acme.broadcast.5f1c.response",
            "thingstead.acme.thing.lamp%2E1.action.fade.a1.updated",
            "thingstead.acme.thing.lamp-1.event.overheat.e1.created",
        ];
        for (e, s) in events.iter().zip(subjects) {
            assert_eq!(e.subject(), s);
            assert_eq!(e.tenant(), "acme");
            assert_eq!(&BusEvent::from_wire(&e.to_wire(), Some(s)).unwrap(), e);
        }
    }

    #[test]
    fn wire_events_are_parsed_strictly() {
        let bad: [&[u8]; 7] = [
            br#"{"type":"broadcast","data":{"org":"acme","id":"1","channel":"c","payload":1}}"#,
            br#"{"type":"broadcast_response","data":{"org":"acme","id":"1","payload":1,"x":1}}"#,
            b"{",
            br#"{"type":"sms_queued","data":{"org":"acme","id":1,"extra":1}}"#,
            br#"{"type":"nope","data":{}}"#,
            br#"{"type":"sms_queued","data":{"org":"Acme.*","id":1}}"#,
            br#"{"type":"sms_queued","data":{"org":"acme","id":1},"x":2}"#,
        ];
        for b in bad {
            assert!(BusEvent::from_wire(b, None).is_err(), "{}", String::from_utf8_lossy(b));
        }
        let ok = br#"{"type":"sms_queued","data":{"org":"acme","id":1}}"#;
        assert!(BusEvent::from_wire(ok, None).is_ok());
        assert!(BusEvent::from_wire(ok, Some("thingstead.other.sms.1.queued")).is_err());
    }
}
