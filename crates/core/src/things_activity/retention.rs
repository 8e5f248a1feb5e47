//! How long a space (an organization) keeps its things' history: property
//! history and events, each a number of days or unlimited (the default).
//! Kept in the store, so every node enforces the same limits.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The longest limit that can be set, in days (about 100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// A space's retention; `None` keeps forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceRetention {
    /// Days property history is kept.
    pub history_days: Option<u32>,
    /// Days events are kept.
    pub events_days: Option<u32>,
}

impl SpaceRetention {
    /// Whether nothing is ever removed.
    pub fn is_unlimited(&self) -> bool {
        self.history_days.is_none() && self.events_days.is_none()
    }
}

/// A change of a space's retention: `None` leaves a limit as it is,
/// `Some(None)` makes it unlimited, `Some(Some(days))` sets it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpaceRetentionChange {
    /// New property-history limit.
    pub history_days: Option<Option<u32>>,
    /// New events limit.
    pub events_days: Option<Option<u32>>,
}

impl SpaceRetentionChange {
    /// Refuses limits outside 1..=[`MAX_RETENTION_DAYS`] days.
    pub fn check(&self) -> Result<(), CoreError> {
        for days in [self.history_days, self.events_days].into_iter().flatten().flatten() {
            if days == 0 || days > MAX_RETENTION_DAYS {
                return Err(CoreError::Invalid(format!(
                    "a retention is 1 to {MAX_RETENTION_DAYS} days, or none (unlimited)"
                )));
            }
        }
        Ok(())
    }

    /// `current` with this change applied.
    pub fn apply(&self, current: SpaceRetention) -> SpaceRetention {
        SpaceRetention {
            history_days: self.history_days.unwrap_or(current.history_days),
            events_days: self.events_days.unwrap_or(current.events_days),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_apply_per_limit_and_are_bounded() {
        let current = SpaceRetention {
            history_days: Some(30),
            events_days: None,
        };
        let change = SpaceRetentionChange {
            history_days: None,
            events_days: Some(Some(7)),
        };
        assert_eq!(
            change.apply(current),
            SpaceRetention {
                history_days: Some(30),
                events_days: Some(7)
            }
        );
        let clear = SpaceRetentionChange {
            history_days: Some(None),
            ..Default::default()
        };
        assert!(clear.apply(current).history_days.is_none());
        assert!(SpaceRetention::default().is_unlimited());
        for bad in [0, MAX_RETENTION_DAYS + 1] {
            let c = SpaceRetentionChange {
                events_days: Some(Some(bad)),
                ..Default::default()
            };
            assert!(c.check().is_err(), "{bad}");
        }
        assert!(change.check().is_ok());
    }
}
