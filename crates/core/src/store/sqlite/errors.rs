use rusqlite::ErrorCode;

use crate::store::StoreError;

/// Maps a SQLite error; `what` names the record for conflicts.
pub(crate) fn map(e: rusqlite::Error, what: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::ConstraintViolation => StoreError::Conflict(what.to_owned()),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull | ErrorCode::CannotOpen => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        },
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Maps a SQLite error with no record in question.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    map(e, "record")
}
