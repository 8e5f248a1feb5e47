//! Feeds (`/api/connectors/feeds`): documents of the `feeds` collection
//! whose `subtype` says where their data comes from.
//!
//! - [`FEED_MESSAGES`]: built in. The latest stored messages of the device
//!   named by the feed's `device` field (a uuid of the same organization),
//!   at most `limit` (query parameter or the feed's field; default
//!   [`DEFAULT_MESSAGES`], at most [`MAX_MESSAGES`]), newest first:
//!   `{"messages": [{"id", "topics", "data", "data_base64", "received_at"}]}`,
//!   where `data` is the payload as text (UTF-8, lossy), `data_base64` its bytes.
//! - [`FEED_HTTP`]: the server fetches the feed's `url` (HTTP GET, the
//!   query parameters passed through) and answers the JSON object it got.
//!   The fetch itself is the server's (bounded, and only to allowed networks).
//!
//! A feed with `dataType: "dynamic"` answers the search value too, as
//! `{"search": {"search": <searchValue>}}` merged into its data (the EXP
//! SDK reads `data["search"]["search"]`).

use base64::Engine;
use serde_json::{Map, Value, json};

use super::Platform;
use crate::CoreError;
use crate::documents::Collection;
use crate::identity::Principal;
use crate::records::MessageQuery;

/// Subtype of the built-in feed of a device's latest messages.
pub const FEED_MESSAGES: &str = "thingstead:feed:messages";
/// Subtype of a feed the server fetches from an HTTP JSON `url`.
pub const FEED_HTTP: &str = "thingstead:feed:http";
/// Messages a [`FEED_MESSAGES`] feed answers by default.
pub const DEFAULT_MESSAGES: u32 = 25;
/// Most messages a [`FEED_MESSAGES`] feed answers.
pub const MAX_MESSAGES: u32 = 1000;

/// Where a feed's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSource {
    /// The built-in device messages feed; the data is already here.
    Messages(Value),
    /// Fetch this URL (the caller adds the query parameters).
    Http(String),
}

/// A feed, ready for its data to be fetched.
#[derive(Debug, Clone)]
pub struct Feed {
    /// The feed's document.
    pub document: Value,
    /// Where its data comes from.
    pub source: FeedSource,
}

impl Feed {
    /// `data` with the search value echoed for a `dynamic` feed: the
    /// `searchValue` parameter, else the feed's own `searchValue`.
    pub fn finish(&self, mut data: Map<String, Value>, params: &[(String, String)]) -> Value {
        if self.document.get("dataType").and_then(Value::as_str) == Some("dynamic") {
            let search = params
                .iter()
                .find(|(k, _)| k == "searchValue")
                .map(|(_, v)| Value::String(v.clone()))
                .or_else(|| self.document.get("searchValue").cloned())
                .unwrap_or(Value::Null);
            data.insert("search".into(), json!({ "search": search }));
        }
        Value::Object(data)
    }
}

impl Platform {
    /// Reads feed `uuid` and resolves its source; the built-in feed's data
    /// is read here, with the caller's rights.
    pub async fn feed(&self, p: &Principal, uuid: &str, params: &[(String, String)]) -> Result<Feed, CoreError> {
        let document = self.document(p, Collection::Feeds, uuid).await?;
        let subtype = document.get("subtype").and_then(Value::as_str).unwrap_or_default();
        let source = match subtype {
            FEED_MESSAGES => FeedSource::Messages(self.messages_feed(p, &document, params).await?),
            FEED_HTTP => {
                let url = document
                    .get("url")
                    .and_then(Value::as_str)
                    .ok_or_else(|| CoreError::Invalid(format!("feed {uuid} has no url")))?;
                FeedSource::Http(url.to_owned())
            }
            other => {
                return Err(CoreError::Invalid(format!(
                    "feed {uuid} has subtype {other:?}; feeds with data are {FEED_MESSAGES:?} and {FEED_HTTP:?}"
                )));
            }
        };
        Ok(Feed { document, source })
    }

    async fn messages_feed(&self, p: &Principal, feed: &Value, params: &[(String, String)]) -> Result<Value, CoreError> {
        let tenant = p.tenant()?;
        let device = feed
            .get("device")
            .and_then(Value::as_str)
            .ok_or_else(|| CoreError::Invalid("a messages feed names its device (field `device`)".into()))?;
        let limit = match params.iter().find(|(k, _)| k == "limit") {
            Some((_, v)) => v
                .parse::<u32>()
                .map_err(|_| CoreError::Invalid(format!("limit must be 1 to {MAX_MESSAGES}")))?,
            None => feed
                .get("limit")
                .and_then(Value::as_u64)
                .map_or(DEFAULT_MESSAGES, |n| n.min(u64::from(MAX_MESSAGES)) as u32),
        };
        if limit == 0 || limit > MAX_MESSAGES {
            return Err(CoreError::Invalid(format!("limit must be 1 to {MAX_MESSAGES}")));
        }
        let query = MessageQuery {
            device_uuid: Some(device.to_owned()),
            limit,
            ..Default::default()
        };
        let messages: Vec<Value> = self
            .list_messages(tenant, &query)
            .await?
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "topics": m.topics,
                    "data": String::from_utf8_lossy(&m.payload),
                    "data_base64": base64::engine::general_purpose::STANDARD.encode(&m.payload),
                    "received_at": m.received_at,
                })
            })
            .collect();
        Ok(json!({ "messages": messages }))
    }
}
