//! Broadcasts on realtime channels and their responses (WIRE.md B.4):
//! checked against the channel rules of [`crate::channels`], bounded, and
//! published on the bus, where every node's realtime face delivers them.
//! Nothing here is stored.

use serde_json::Value;
use thingstead_proto::channel::ChannelId;

use super::Platform;
use crate::CoreError;
use crate::bus::subject::token;
use crate::bus::{BusEvent, Filter, RecvError, Subscriber};
use crate::channels::{self, ChannelUse, MAX_ID_LEN, MAX_NAME_LEN};
use crate::identity::Principal;

/// The responses to one broadcast, as they are published (see
/// [`Platform::broadcast_collecting`]).
pub struct Responses {
    subscriber: Subscriber,
}

impl Responses {
    /// The next response's payload; `None` when the bus is gone. Responses
    /// lost because this reader fell behind are skipped.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            match self.subscriber.recv().await {
                Ok(BusEvent::BroadcastResponse { payload, .. }) => return Some(payload),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

impl Platform {
    /// Whether `principal` may receive the broadcasts of `channel`.
    pub fn may_subscribe(&self, principal: &Principal, channel: &ChannelId) -> bool {
        channels::check(principal, channel, ChannelUse::Subscribe).is_ok()
    }

    /// Broadcasts `payload` as event `name` on `channel` to every
    /// subscriber, on every node; returns the broadcast's id. `Forbidden`
    /// for a channel the caller may not broadcast on, `Invalid` for a name
    /// or payload out of bounds.
    pub async fn broadcast(
        &self,
        principal: &Principal,
        channel: &ChannelId,
        name: &str,
        payload: Value,
    ) -> Result<String, CoreError> {
        let event = self.broadcast_event(principal, channel, name, payload)?;
        let id = match &event {
            BusEvent::Broadcast { id, .. } => id.clone(),
            _ => String::new(),
        };
        self.bus.publish(event).await;
        Ok(id)
    }

    /// [`Platform::broadcast`], listening for its responses from before it
    /// is published, so that none is missed.
    pub async fn broadcast_collecting(
        &self,
        principal: &Principal,
        channel: &ChannelId,
        name: &str,
        payload: Value,
    ) -> Result<(String, Responses), CoreError> {
        let event = self.broadcast_event(principal, channel, name, payload)?;
        let BusEvent::Broadcast { id, .. } = &event else {
            return Err(CoreError::Internal("a broadcast event was expected".into()));
        };
        let id = id.clone();
        let tenant = principal.tenant()?;
        let filter = Filter::tenant(tenant.name(), &format!("broadcast.{}.response", token(&id)))
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let responses = Responses {
            subscriber: self.bus.subscribe(filter),
        };
        self.bus.publish(event).await;
        Ok((id, responses))
    }

    /// Answers broadcast `id`, made on `channel`: the payload reaches the
    /// request that made the broadcast, if it still waits for responses.
    pub async fn respond(
        &self,
        principal: &Principal,
        id: &str,
        channel: &ChannelId,
        payload: Value,
    ) -> Result<(), CoreError> {
        channels::check(principal, channel, ChannelUse::Send)?;
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(CoreError::Invalid(format!(
                "a broadcast id has 1 to {MAX_ID_LEN} bytes"
            )));
        }
        self.check_payload(&payload)?;
        let org = principal.tenant()?.name().as_str().to_owned();
        self.bus
            .publish(BusEvent::BroadcastResponse {
                org,
                id: id.to_owned(),
                payload,
            })
            .await;
        Ok(())
    }

    fn broadcast_event(
        &self,
        principal: &Principal,
        channel: &ChannelId,
        name: &str,
        payload: Value,
    ) -> Result<BusEvent, CoreError> {
        channels::check(principal, channel, ChannelUse::Send)?;
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(CoreError::Invalid(format!(
                "a broadcast name has 1 to {MAX_NAME_LEN} bytes"
            )));
        }
        let encoded = channel.encode();
        if encoded.len() > thingstead_proto::channel::MAX_ENCODED_LEN {
            return Err(CoreError::Invalid("channel id too long".into()));
        }
        self.check_payload(&payload)?;
        Ok(BusEvent::Broadcast {
            org: principal.tenant()?.name().as_str().to_owned(),
            id: channels::new_id(),
            channel: encoded,
            name: name.to_owned(),
            payload,
        })
    }

    fn check_payload(&self, payload: &Value) -> Result<(), CoreError> {
        let max = self.broadcast_limits.max_payload_bytes;
        let len = serde_json::to_vec(payload).map(|v| v.len()).unwrap_or(usize::MAX);
        if len > max {
            return Err(CoreError::Invalid(format!(
                "payload of {len} bytes is over the limit of {max} bytes"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::bus::local::LocalBus;
    use crate::identity::Actor;
    use crate::ids::{OrgName, Tenant};
    use crate::{ErrorKind, channels::BroadcastLimits};

    fn platform() -> Platform {
        // The store is never touched: broadcasts are not stored.
        let dir = tempfile::tempdir().expect("dir").keep();
        let key = crate::master_key::MasterKey::load_or_generate(&dir.join("master.key")).expect("key");
        let store = crate::store::sqlite::SqliteStore::open(&dir, key).expect("store");
        Platform::new(Arc::new(store), Arc::new(LocalBus::default()))
            .with_broadcast_limits(BroadcastLimits { max_payload_bytes: 100 })
    }

    fn principal(org: &str, actor: Actor) -> Principal {
        let tenant = Tenant::from_store(1, OrgName::parse(org).expect("org"));
        Principal::of_tenant(tenant, actor, Vec::new())
    }

    fn user(org: &str) -> Principal {
        principal(org, Actor::User { username: "u".into() })
    }

    fn kind<T: std::fmt::Debug>(r: Result<T, CoreError>) -> ErrorKind {
        r.expect_err("refused").kind()
    }

    #[tokio::test]
    async fn broadcasts_follow_the_channel_rules() {
        let p = platform();
        let acme = user("acme");
        let plain = ChannelId::new("acme", "c", false, false);
        let system = ChannelId::new("acme", "c", true, false);
        let consumer = ChannelId::new("acme", "c", false, true);
        let theirs = ChannelId::new("other", "c", false, false);
        assert!(p.broadcast(&acme, &plain, "n", Value::Null).await.is_ok());
        assert!(p.broadcast(&acme, &consumer, "n", Value::Null).await.is_ok());
        assert_eq!(
            kind(p.broadcast(&acme, &system, "n", Value::Null).await),
            ErrorKind::Forbidden
        );
        assert_eq!(
            kind(p.broadcast(&acme, &theirs, "n", Value::Null).await),
            ErrorKind::Forbidden
        );
        assert!(p.may_subscribe(&acme, &system) && p.may_subscribe(&acme, &plain));
        assert!(!p.may_subscribe(&acme, &theirs));

        let app = principal("acme", Actor::ConsumerApp { uuid: "a".into() });
        assert!(p.broadcast(&app, &consumer, "n", Value::Null).await.is_ok());
        assert_eq!(
            kind(p.broadcast(&app, &plain, "n", Value::Null).await),
            ErrorKind::Forbidden
        );
        assert!(!p.may_subscribe(&app, &plain) && p.may_subscribe(&app, &consumer));

        let restricted = Principal::of_tenant(
            Tenant::from_store(1, OrgName::parse("acme").expect("org")),
            Actor::User { username: "u".into() },
            vec![crate::RESTRICTED_SCOPE.into()],
        );
        assert!(!p.may_subscribe(&restricted, &plain));
        let pairing = Principal::pairing("x".into(), Vec::new());
        assert!(!p.may_subscribe(&pairing, &plain));
        assert_eq!(
            kind(p.broadcast(&pairing, &plain, "n", Value::Null).await),
            ErrorKind::Forbidden
        );
    }

    #[tokio::test]
    async fn names_and_payloads_are_bounded() {
        let p = platform();
        let acme = user("acme");
        let c = ChannelId::new("acme", "c", false, false);
        assert_eq!(kind(p.broadcast(&acme, &c, "", Value::Null).await), ErrorKind::Invalid);
        let long = "n".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            kind(p.broadcast(&acme, &c, &long, Value::Null).await),
            ErrorKind::Invalid
        );
        let big = Value::String("x".repeat(200));
        assert_eq!(kind(p.broadcast(&acme, &c, "n", big.clone()).await), ErrorKind::Invalid);
        assert_eq!(kind(p.respond(&acme, "id", &c, big).await), ErrorKind::Invalid);
        assert_eq!(
            kind(p.respond(&acme, &"i".repeat(65), &c, Value::Null).await),
            ErrorKind::Invalid
        );
    }

    #[tokio::test]
    async fn responses_reach_the_broadcast_they_name_only() {
        let p = platform();
        let acme = user("acme");
        let c = ChannelId::new("acme", "c", false, false);
        let (id, mut responses) = p
            .broadcast_collecting(&acme, &c, "n", Value::Null)
            .await
            .expect("broadcast");
        p.respond(&acme, "someone-else", &c, Value::from(1))
            .await
            .expect("respond");
        p.respond(
            &user("other"),
            &id,
            &ChannelId::new("other", "c", false, false),
            Value::from(2),
        )
        .await
        .expect("respond");
        p.respond(&acme, &id, &c, Value::from(3)).await.expect("respond");
        let got = tokio::time::timeout(Duration::from_secs(1), responses.next()).await;
        assert_eq!(got.expect("in time"), Some(Value::from(3)));
    }
}
