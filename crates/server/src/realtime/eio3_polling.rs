//! The Engine.IO 3 adapter in front of socketioxide (WIRE.md B.6).
//!
//! exp-sdk's socketIO-client 0.7.2 reads polling payloads only in the XHR2
//! binary framing; socketioxide writes protocol-3 payloads in text framing
//! (`<len>:<packet>`). For every `GET` polling request with `EIO=3` and no
//! `b64`, the 200 response's payload is parsed as text framing (lengths in
//! characters, as socketioxide counts them) and written again in binary
//! framing (lengths in UTF-8 bytes) with the proto codec. What the client
//! POSTs in binary framing socketioxide reads itself.
//!
//! An Engine.IO 3 handshake (no `sid`) must carry a valid `token`: a bad
//! one gets 401 (the old client retries the handshake), a good one leaves
//! its principal in the request for [`super::connect`].

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use thingstead_core::Platform;
use thingstead_proto::engineio::{Framing, LengthUnit, PayloadLimits};

use super::connect::{HandshakePrincipal, query_token};
use crate::http::error::ErrorCode;

/// The longest polling payload re-framed (socketioxide bounds what it
/// writes by Engine.IO's `maxPayload`; this is a ceiling far above it).
const MAX_REFRAMED: usize = 16 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
struct EngineQuery {
    eio: Option<String>,
    #[serde(rename = "transport")]
    transport: Option<String>,
    #[serde(rename = "sid")]
    sid: Option<String>,
    #[serde(rename = "b64")]
    b64: Option<String>,
}

/// The middleware (see the module docs).
pub(super) async fn adapt(State(platform): State<Platform>, mut req: Request, next: Next) -> Response {
    let query = axum::extract::Query::<EngineQuery>::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    if query.eio.as_deref() != Some("3") {
        return next.run(req).await;
    }
    if query.sid.is_none() {
        let principal = match query_token(req.uri()) {
            Some(token) => platform.authenticate(&token).await.ok(),
            None => None,
        };
        let Some(principal) = principal else {
            crate::faces::app::principal::refused(super::PATH, "Engine.IO 3 handshake without a valid token");
            // In the application face's shape (`{"code", "message", "status"}`).
            let (code, message) = (ErrorCode::Unauthorized, "a valid token query parameter is required");
            return crate::faces::app::ERRORS.render(code, message, code.entry().1);
        };
        req.extensions_mut().insert(HandshakePrincipal(principal));
    }
    let reframe = req.method() == Method::GET && query.transport.as_deref() == Some("polling") && query.b64.is_none();
    let response = next.run(req).await;
    if !reframe || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(text) = axum::body::to_bytes(body, MAX_REFRAMED).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let limits = PayloadLimits {
        max_packets: usize::MAX,
        max_payload_bytes: MAX_REFRAMED,
        ..PayloadLimits::default()
    };
    let binary = Framing::Text(LengthUnit::Chars)
        .parse(&text, &limits)
        .and_then(|packets| Framing::Binary.encode(&packets));
    match binary {
        Ok(bytes) => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            // socketioxide wrote something that is not a text payload (e.g.
            // "ok" answering a POST): pass it on unchanged.
            tracing::debug!(error = %e, "Engine.IO 3 polling payload left as it is");
            Response::from_parts(parts, Body::from(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use thingstead_proto::engineio::{Packet, binary};

    use super::*;

    #[test]
    fn socketioxide_text_payloads_become_binary_with_byte_lengths() {
        // socketioxide counts characters: "é" is one.
        let text = "2:40".to_owned() + "9:42[\"é\",1]";
        let limits = PayloadLimits::default();
        let packets = Framing::Text(LengthUnit::Chars)
            .parse(text.as_bytes(), &limits)
            .unwrap();
        let bytes = Framing::Binary.encode(&packets).unwrap();
        assert_eq!(
            binary::parse(&bytes, &limits).unwrap(),
            vec![Packet::Message("0".into()), Packet::Message("2[\"é\",1]".into())]
        );
        assert_eq!(&bytes[5..9], &[0, 1, 0, 0xFF], "10 UTF-8 bytes, not 9 characters");
    }
}
