//! The JSON body of a `/spaces` request: `Content-Type: application/json`
//! or `application/json-patch+json` (the SDK's two PATCH operations), any
//! JSON value. Another media type is 415, a body that is no JSON 400
//! (`malformed_json`), one over the face's body limit 413; all rendered in
//! the face's error shape by its error layer.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::error::{ApiError, ErrorCode};

/// A JSON request body (see the module docs).
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

/// Whether `headers` announce a JSON body: `application/json` or an
/// `application/*+json` type (`application/json-patch+json`), parameters
/// such as `charset` allowed.
pub fn is_json_request(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_request(req.headers()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the body must be JSON (Content-Type: application/json or application/json-patch+json)",
            )
            .into_response());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "request body is over the size limit").into_response()
            } else {
                e.into_response()
            }
        })?;
        serde_json::from_slice(&bytes).map(Self).map_err(|e| {
            ApiError::new(ErrorCode::MalformedJson, format!("the body is not valid JSON: {e}")).into_response()
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn json_and_json_patch_are_json() {
        let mut h = HeaderMap::new();
        assert!(!is_json_request(&h));
        for (ct, json) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("application/json-patch+json", true),
            ("Application/JSON", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            assert_eq!(is_json_request(&h), json, "{ct}");
        }
    }
}
