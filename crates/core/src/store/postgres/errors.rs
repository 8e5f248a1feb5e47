//! PostgreSQL errors as store errors: unique violations are conflicts; a
//! database that is away, restarting, overloaded or too slow is
//! `Unavailable` (so `/healthz` says 503 and devices hear code 6).

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// Maps a PostgreSQL error; `what` names the record for conflicts.
pub(crate) fn map(e: tokio_postgres::Error, what: &str) -> StoreError {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection broke, or never was.
        return StoreError::Unavailable(format!("PostgreSQL: {}", describe(&e)));
    };
    if *code == SqlState::UNIQUE_VIOLATION {
        return StoreError::Conflict(what.to_owned());
    }
    let class = &code.code()[..2];
    // 08 connection exception, 53 insufficient resources, 57 operator
    // intervention (shutdown, statement timeout), 40 serialization/deadlock.
    if matches!(class, "08" | "53" | "57" | "40") {
        StoreError::Unavailable(format!("PostgreSQL: {}", describe(&e)))
    } else {
        StoreError::Backend(format!("PostgreSQL: {}", describe(&e)))
    }
}

/// Maps a PostgreSQL error with no record in question.
pub(crate) fn backend(e: tokio_postgres::Error) -> StoreError {
    map(e, "record")
}

/// An error with its causes: tokio-postgres shows only the kind ("db
/// error", "error performing TLS handshake") and keeps the why in its source.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Maps a failure to get a connection from the pool.
pub(crate) fn pool(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => StoreError::Unavailable(format!("PostgreSQL: {}", describe(&e))),
        PoolError::Timeout(t) => StoreError::Unavailable(format!("PostgreSQL: no connection in time ({t:?})")),
        PoolError::Closed => StoreError::Unavailable("the store is closed".into()),
        other => StoreError::Unavailable(format!("PostgreSQL: {other}")),
    }
}

/// A copy of an error, for answering every caller of a failed batch.
pub(crate) fn clone_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::NotFound(m) => StoreError::NotFound(m.clone()),
        other => StoreError::Backend(other.to_string()),
    }
}
