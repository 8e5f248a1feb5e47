//! What both backends answer when an SMS's outcome comes from a node that
//! no longer holds its claim.

use super::StoreError;

/// The error of an outcome of SMS `id` from `node` that changed nothing:
/// `Conflict` when the SMS exists (another node claimed it since, and
/// its outcome stands), `NotFound` when it does not.
pub(crate) fn not_claimed(id: i64, node: &str, exists: bool) -> StoreError {
    if exists {
        StoreError::Conflict(format!(
            "sms {id} is no longer claimed by node {node} (its lease ran out and another node took it)"
        ))
    } else {
        StoreError::NotFound(format!("sms {id}"))
    }
}
