//! The one table that maps error kinds to stable codes and HTTP statuses.
//! Every HTTP error body is a JSON object `{"code": ..., "message": ...}`;
//! routes of the Hologram-style `/api/1` face add `"success": false`.

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
    /// Add `"success": false` (Hologram-style face).
    pub hologram: bool,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hologram: false,
        }
    }

    /// The same error in the Hologram face's shape.
    pub fn hologram(mut self) -> Self {
        self.hologram = true;
        self
    }

    /// The response body.
    pub fn body(&self) -> serde_json::Value {
        let (code, _) = self.code.entry();
        if self.hologram {
            json!({ "success": false, "code": code, "message": self.message, "error": self.message })
        } else {
            json!({ "code": code, "message": self.message })
        }
    }
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
            ErrorKind::Internal => ErrorCode::Internal,
        };
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "internal error");
            return Self::new(code, "internal error");
        }
        Self::new(code, e.to_string())
    }
}

/// Left in an error response's extensions by [`ApiError`], so that a layer
/// can render it again in another face's shape (the JSON extractor does not
/// know which face it serves).
#[derive(Debug, Clone)]
pub struct RenderedError {
    /// Its code.
    pub code: ErrorCode,
    /// Its message.
    pub message: String,
    /// Whether it already has the Hologram face's shape.
    pub hologram: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, status) = self.code.entry();
        let mut response = (status, Json(self.body())).into_response();
        response.extensions_mut().insert(RenderedError {
            code: self.code,
            message: self.message,
            hologram: self.hologram,
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
