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
            Self::Timeout => ("timeout", StatusCode::REQUEST_TIMEOUT),
            Self::TooManyRequests => ("too_many_requests", StatusCode::TOO_MANY_REQUESTS),
            Self::Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
            Self::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The code for a bare status (used to give framework errors our shape).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::MalformedJson
            }
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
