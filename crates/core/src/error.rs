use crate::store::StoreError;

/// What kind of failure a [`CoreError`] is; faces map kinds to their wire's
/// error shape in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Input that does not satisfy the platform's rules.
    Invalid,
    /// A referenced record does not exist (or belongs to another tenant).
    NotFound,
    /// A unique name or key is taken.
    Conflict,
    /// Credentials are missing or wrong.
    Unauthorized,
    /// The caller is known but may not do this.
    Forbidden,
    /// The store is unavailable (closed, disk full, locked too long).
    Unavailable,
    /// A body (an upload) is longer than the limit.
    TooLarge,
    /// A bug or an unexpected failure.
    Internal,
}

/// Errors of the platform core.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Invalid input.
    #[error("{0}")]
    Invalid(String),
    /// Unknown record.
    #[error("{0} not found")]
    NotFound(String),
    /// Taken name or key.
    #[error("{0} already exists")]
    Conflict(String),
    /// Bad credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Known caller, operation not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A failure of the server itself (a crashed task, a crypto or encoding
    /// failure): not the caller's fault, logged with its context.
    #[error("internal error: {0}")]
    Internal(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CoreError {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unauthorized(_) => ErrorKind::Unauthorized,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Internal(_) => ErrorKind::Internal,
            Self::Store(StoreError::Conflict(_)) => ErrorKind::Conflict,
            Self::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
            Self::Store(StoreError::Unavailable(_)) => ErrorKind::Unavailable,
            Self::Store(StoreError::TooLarge { .. }) => ErrorKind::TooLarge,
            Self::Store(StoreError::Interrupted(_)) => ErrorKind::Invalid,
            Self::Store(_) => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_kind() {
        let s = |m: &str| m.to_owned();
        let table = [
            (CoreError::Invalid(s("x")), ErrorKind::Invalid),
            (CoreError::NotFound(s("x")), ErrorKind::NotFound),
            (CoreError::Conflict(s("x")), ErrorKind::Conflict),
            (CoreError::Unauthorized(s("x")), ErrorKind::Unauthorized),
            (CoreError::Forbidden(s("x")), ErrorKind::Forbidden),
            (CoreError::Internal(s("x")), ErrorKind::Internal),
            (CoreError::Store(StoreError::Conflict(s("x"))), ErrorKind::Conflict),
            (CoreError::Store(StoreError::NotFound(s("x"))), ErrorKind::NotFound),
            (
                CoreError::Store(StoreError::Unavailable(s("x"))),
                ErrorKind::Unavailable,
            ),
            (CoreError::Store(StoreError::Backend(s("x"))), ErrorKind::Internal),
        ];
        for (e, kind) in table {
            assert_eq!(e.kind(), kind, "{e}");
        }
    }
}
