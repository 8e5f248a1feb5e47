//! The REST calls: one page of `GET /api/1/csr/rdm`, records decoded.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use serde_json::Value;

/// Bound on one request, connect to last byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on connecting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which messages.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this device.
    pub device: Option<String>,
    /// Only this topic.
    pub topic: Option<String>,
}

/// A stored message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Store id, increasing with arrival.
    pub id: i64,
    /// The sending device.
    pub deviceid: String,
    /// When the server received it (ms).
    pub received_at: i64,
    /// Topics.
    pub topics: Vec<String>,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

/// One page, newest first.
#[derive(Debug)]
pub struct Page {
    /// The messages.
    pub messages: Vec<Message>,
    /// More older messages exist past this page.
    pub continues: bool,
}

/// The messaging REST API of one server, with one API key.
pub struct RestClient {
    http: reqwest::Client,
    url: reqwest::Url,
    apikey: String,
}

impl RestClient {
    /// A client for `server` (`http://host:port`).
    pub fn new(server: &str, apikey: &str) -> anyhow::Result<Self> {
        let base = reqwest::Url::parse(server).with_context(|| format!("--server {server:?} is not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("--server {server:?}: expected http:// or https://");
        }
        let url = base
            .join("/api/1/csr/rdm")
            .with_context(|| format!("--server {server:?}"))?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            url,
            apikey: apikey.to_owned(),
        })
    }

    /// Up to `limit` messages (1..=1000) older than `before` (all when `None`), newest first.
    pub async fn page(&self, filter: &Filter, limit: u32, before: Option<i64>) -> anyhow::Result<Page> {
        let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string())];
        if let Some(d) = &filter.device {
            query.push(("deviceid", d.clone()));
        }
        if let Some(t) = &filter.topic {
            query.push(("topicname", t.clone()));
        }
        if let Some(c) = before {
            query.push(("cursor", c.to_string()));
        }
        let resp = self
            .http
            .get(self.url.clone())
            .basic_auth("apikey", Some(&self.apikey))
            .query(&query)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.url))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .with_context(|| format!("{}: the reply is not JSON (HTTP {status})", self.url))?;
        if !status.is_success() {
            let why = body["message"].as_str().unwrap_or("no message");
            bail!("{}: HTTP {status}: {why}", self.url);
        }
        let records = body["data"]
            .as_array()
            .ok_or_else(|| anyhow!("{}: the reply has no data array", self.url))?;
        let messages = records.iter().map(decode).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page {
            messages,
            continues: body["continues"] == true,
        })
    }
}

/// A Hologram-style record: its `data` is a JSON document *as a string*
/// whose `data` is the payload in base64.
fn decode(r: &Value) -> anyhow::Result<Message> {
    let id = r["id"].as_i64().ok_or_else(|| anyhow!("a record has no id: {r}"))?;
    let inner: Value = r["data"]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| anyhow!("record {id}: data is not a JSON string"))?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(inner["data"].as_str().unwrap_or_default())
        .map_err(|e| anyhow!("record {id}: payload is not base64: {e}"))?;
    Ok(Message {
        id,
        deviceid: r["deviceid"].as_str().unwrap_or_default().to_owned(),
        received_at: r["received_at"].as_i64().unwrap_or_default(),
        topics: r["tags"]
            .as_array()
            .map(|t| t.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default(),
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_decodes_to_its_payload() {
        let r = serde_json::json!({
            "id": 7, "deviceid": "d-1", "received_at": 1000, "tags": ["a", "b"],
            "data": "{\"data\":\"aGVsbG8=\",\"tags\":[\"a\",\"b\"]}",
        });
        let m = decode(&r).unwrap();
        assert_eq!(
            m,
            Message {
                id: 7,
                deviceid: "d-1".into(),
                received_at: 1000,
                topics: vec!["a".into(), "b".into()],
                payload: b"hello".to_vec(),
            }
        );
        assert!(decode(&serde_json::json!({"id": 1, "data": "nope"})).is_err());
    }
}
