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
    /// The store is unavailable (closed, disk full, locked too long).
    Unavailable,
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
            Self::Store(StoreError::Conflict(_)) => ErrorKind::Conflict,
            Self::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
            Self::Store(StoreError::Unavailable(_)) => ErrorKind::Unavailable,
            Self::Store(_) => ErrorKind::Internal,
        }
    }
}
