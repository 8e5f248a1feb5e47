//! The one table that maps error kinds to stable codes and HTTP statuses.
//! Handlers return [`ApiError`] whatever face they serve; the shape of the
//! body is the face's: each face's router installs its [`ErrorRenderer`]
//! (see [`crate::http::face`]). Outside any face errors are
//! `{"code": ..., "message": ...}` ([`ErrorRenderer::JSON`]).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use thingstead_core::{CoreError, ErrorKind};

/// Stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Body is not valid JSON or not the expected shape.
    MalformedJson,
    /// A parameter or field is invalid.
    InvalidInput,
    /// Credentials missing or wrong.
    Unauthorized,
    /// Credentials fine, operation not allowed.
    Forbidden,
    /// Unknown record.
    NotFound,
    /// Unknown route.
    RouteNotFound,
    /// Method not allowed on this route.
    MethodNotAllowed,
    /// Name or key taken.
    Conflict,
    /// Body over the limit.
    PayloadTooLarge,
    /// Body of a media type the route does not take.
    UnsupportedMediaType,
    /// Request took too long.
    Timeout,
    /// A limit on what is open at once was reached; try again later.
    TooManyRequests,
    /// Store unavailable.
    Unavailable,
    /// Anything else.
    Internal,
}

impl ErrorCode {
    /// `(code, status)` — the table.
    pub fn entry(self) -> (&'static str, StatusCode) {
        match self {
            Self::MalformedJson => ("malformed_json", StatusCode::BAD_REQUEST),
            Self::InvalidInput => ("invalid_input", StatusCode::BAD_REQUEST),
            Self::Unauthorized => ("unauthorized", StatusCode::UNAUTHORIZED),
            Self::Forbidden => ("forbidden", StatusCode::FORBIDDEN),
            Self::NotFound => ("not_found", StatusCode::NOT_FOUND),
            Self::RouteNotFound => ("route_not_found", StatusCode::NOT_FOUND),
            Self::MethodNotAllowed => ("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED),
            Self::Conflict => ("conflict", StatusCode::CONFLICT),
            Self::PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            Self::UnsupportedMediaType => ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Self::Timeout => ("timeout", StatusCode::REQUEST_TIMEOUT),
            Self::TooManyRequests => ("too_many_requests", StatusCode::TOO_MANY_REQUESTS),
            Self::Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
            Self::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The code for a bare status (used to give framework errors our shape).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => Self::MalformedJson,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::FORBIDDEN => Self::Forbidden,
            StatusCode::NOT_FOUND => Self::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::CONFLICT => Self::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::REQUEST_TIMEOUT => Self::Timeout,
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

/// An HTTP API error.
#[derive(Debug)]
pub struct ApiError {
    /// Its code.
    pub code: ErrorCode,
    /// A human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Turns an error (its code, message and the status to send) into a
/// response in one wire's shape. Each face's router installs one.
#[derive(Debug, Clone, Copy)]
pub struct ErrorRenderer(pub fn(ErrorCode, &str, StatusCode) -> Response);

impl ErrorRenderer {
    /// `{"code": ..., "message": ...}`: routes outside any face.
    pub const JSON: Self = Self(render_json);

    /// The response for an error.
    pub fn render(self, code: ErrorCode, message: &str, status: StatusCode) -> Response {
        (self.0)(code, message, status)
    }
}

fn render_json(code: ErrorCode, message: &str, status: StatusCode) -> Response {
    let (code, _) = code.entry();
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let code = match e.kind() {
            ErrorKind::Invalid => ErrorCode::InvalidInput,
            ErrorKind::NotFound => ErrorCode::NotFound,
            ErrorKind::Conflict => ErrorCode::Conflict,
            ErrorKind::Unauthorized => ErrorCode::Unauthorized,
            ErrorKind::Forbidden => ErrorCode::Forbidden,
            ErrorKind::Unavailable => ErrorCode::Unavailable,
            ErrorKind::TooLarge => ErrorCode::PayloadTooLarge,
            ErrorKind::Internal => ErrorCode::Internal,
        };
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "internal error");
            return Self::new(code, "internal error");
        }
        Self::new(code, e.to_string())
    }
}

/// Left in an error response's extensions by [`ApiError`], so that the
/// layer of the face that served the request renders it in that face's
/// shape (handlers and extractors do not know which face they serve).
#[derive(Debug, Clone)]
pub struct RenderedError {
    /// Its code.
    pub code: ErrorCode,
    /// Its message.
    pub message: String,
}

/// Longest text of a framework rejection kept as an error's message.
const MAX_REJECTION_TEXT: usize = 512;

/// What an error response (status 4xx or 5xx) says, for rendering it
/// again in a face's shape: the code and message of an [`ApiError`] (from
/// a handler or an extractor); for a plain response of the framework or a
/// layer, the code for its status and, when it refused the request (400,
/// 415, 422: an extractor's rejection, which says what was wrong), its
/// text, else the status's reason. With the response's headers.
/// `Err(response)` for a JSON body a handler made itself: its business.
pub async fn error_of(response: Response) -> Result<(ErrorCode, String, axum::http::HeaderMap), Response> {
    let status = response.status();
    if let Some(e) = response.extensions().get::<RenderedError>() {
        let (code, message) = (e.code, e.message.clone());
        return Ok((code, message, response.into_parts().0.headers));
    }
    if is_json(&response) {
        return Err(response);
    }
    let (parts, body) = response.into_parts();
    let reason = || status.canonical_reason().unwrap_or("error").to_lowercase();
    let rejected = matches!(
        status,
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY
    );
    let message = match rejected {
        true => axum::body::to_bytes(body, MAX_REJECTION_TEXT)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(reason),
        false => reason(),
    };
    Ok((ErrorCode::for_status(status), message, parts.headers))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, status) = self.code.entry();
        let mut response = ErrorRenderer::JSON.render(self.code, &self.message, status);
        response.extensions_mut().insert(RenderedError {
            code: self.code,
            message: self.message,
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(status: StatusCode, text: String) -> Response {
        (status, text).into_response()
    }

    #[tokio::test]
    async fn a_rejection_keeps_its_text_up_to_a_bound_and_other_statuses_their_reason() {
        let (code, message, _) = error_of(plain(StatusCode::BAD_REQUEST, "missing field `name`".into()))
            .await
            .unwrap();
        assert_eq!(
            (code, message.as_str()),
            (ErrorCode::MalformedJson, "missing field `name`")
        );
        // A rejection text past the bound is not echoed whole: the reason instead.
        let long = "x".repeat(MAX_REJECTION_TEXT + 1);
        let (_, message, _) = error_of(plain(StatusCode::BAD_REQUEST, long)).await.unwrap();
        assert_eq!(message, "bad request");
        let (code, message, _) = error_of(plain(StatusCode::NOT_FOUND, "anything".into())).await.unwrap();
        assert_eq!((code, message.as_str()), (ErrorCode::RouteNotFound, "not found"));
        // A handler's own JSON is left as it is.
        let json = (StatusCode::BAD_REQUEST, Json(json!({"mine": true}))).into_response();
        assert!(error_of(json).await.is_err());
    }

    #[test]
    fn core_errors_map_to_their_codes_and_statuses() {
        let s = |m: &str| m.to_owned();
        let table = [
            (CoreError::Invalid(s("x")), "invalid_input", 400),
            (CoreError::NotFound(s("x")), "not_found", 404),
            (CoreError::Conflict(s("x")), "conflict", 409),
            (CoreError::Unauthorized(s("x")), "unauthorized", 401),
            (CoreError::Forbidden(s("x")), "forbidden", 403),
            (CoreError::Internal(s("x")), "internal", 500),
        ];
        for (e, code, status) in table {
            let api = ApiError::from(e);
            assert_eq!(
                api.code.entry(),
                (code, StatusCode::from_u16(status).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn internal_errors_hide_their_details() {
        let api = ApiError::from(CoreError::Internal("seed of device x does not decode".into()));
        assert_eq!(api.message, "internal error");
    }

    #[test]
    fn bare_statuses_get_their_own_codes() {
        assert_eq!(ErrorCode::for_status(StatusCode::FORBIDDEN), ErrorCode::Forbidden);
        assert_eq!(ErrorCode::for_status(StatusCode::UNAUTHORIZED), ErrorCode::Unauthorized);
    }
}
