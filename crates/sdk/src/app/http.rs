//! One HTTP call as exp-sdk makes it (WIRE.md B.1): the path
//! percent-encoded with `/` kept, a Bearer token, a JSON body, flat query
//! parameters, a time limit; errors mapped to [`Error`].

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::error::{Error, Result};
use super::tls::TlsConfig;
use crate::http::describe;

/// An HTTP client bound to one server.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    host: String,
    tls: TlsConfig,
}

/// The parts of a call.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<&'a Value>,
    pub params: &'a [(String, String)],
    pub token: Option<&'a str>,
    pub timeout: Duration,
}

impl Http {
    /// A client of `host` trusting `tls`'s roots (see [`super::tls`]).
    pub(crate) fn new(host: &str, tls: TlsConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .use_preconfigured_tls((*tls).clone())
            .build()
            .map_err(|e| Error::Runtime(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            host: host.to_owned(),
            tls,
        })
    }

    /// The TLS configuration, for the realtime websocket.
    pub(crate) fn tls(&self) -> &TlsConfig {
        &self.tls
    }

    /// The server's base URL (`http://host:port`).
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// `host + quote(path)`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.host, quote_path(path))
    }

    /// Sends `call`. `Ok(None)` is a success without a JSON body (e.g. 204);
    /// 401 is [`Error::Authentication`]; other statuses >= 400 are
    /// [`Error::Api`] (JSON object bodies) or [`Error::Unexpected`].
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Option<Value>> {
        let mut request = self
            .client
            .request(call.method.clone(), self.url(call.path))
            .timeout(call.timeout);
        if !call.params.is_empty() {
            request = request.query(call.params);
        }
        if let Some(token) = call.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Error::Network(format!("{} {}: {}", call.method, call.path, describe(&e))))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::Network(format!("{} {}: {}", call.method, call.path, describe(&e))))?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() || status.is_redirection() || status.is_informational() {
            return Ok(json);
        }
        Err(status_error(status, json, &bytes))
    }
}

/// The error for an error status.
pub(crate) fn status_error(status: StatusCode, json: Option<Value>, bytes: &[u8]) -> Error {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    match json {
        Some(body) if status == StatusCode::UNAUTHORIZED => {
            let message = text(&body, "message");
            Error::Authentication(if message.is_empty() {
                "401 Unauthorized".into()
            } else {
                message
            })
        }
        None if status == StatusCode::UNAUTHORIZED => Error::Authentication("401 Unauthorized".into()),
        Some(body) if body.is_object() => Error::Api {
            message: text(&body, "message"),
            code: text(&body, "code"),
            status: status.as_u16(),
            payload: body,
        },
        _ => Error::Unexpected(format!(
            "HTTP {status} with a body that is not a JSON object: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        )),
    }
}

/// Python's `urllib.parse.quote(path)` with `/` safe: every byte but
/// `A-Z a-z 0-9 _ . - ~ /` becomes `%XX` (UTF-8).
pub(crate) fn quote_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_like_urllib_quote() {
        assert_eq!(quote_path("/api/data/a b/k:1&x"), "/api/data/a%20b/k%3A1%26x");
        assert_eq!(quote_path("/api/data/grüß/k"), "/api/data/gr%C3%BC%C3%9F/k");
        assert_eq!(quote_path("/a/b-c_d.e~f"), "/a/b-c_d.e~f");
    }

    #[test]
    fn statuses_map_to_the_exp_errors() {
        let e = status_error(
            StatusCode::NOT_FOUND,
            Some(serde_json::json!({"code": "not_found", "message": "no such device"})),
            b"",
        );
        assert!(
            matches!(&e, Error::Api { status: 404, code, .. } if code == "not_found"),
            "{e:?}"
        );
        assert!(matches!(
            status_error(StatusCode::UNAUTHORIZED, None, b""),
            Error::Authentication(_)
        ));
        assert!(matches!(
            status_error(StatusCode::BAD_GATEWAY, None, b"<html>"),
            Error::Unexpected(_)
        ));
    }
}
