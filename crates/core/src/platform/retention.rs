//! Retention of spaces: how long property history and events are kept
//! (per organization, unlimited by default), and the sweep that removes
//! what is older.
//!
//! The limits live in the store, so every node enforces the same ones.
//! The sweep (called by the server's retention task, on one node at a
//! time) visits only spaces with a limit, and for each runs every
//! [`Pruner`] of [`PRUNERS`] whose limit is set. Deletes are idempotent and
//! bounded ([`RETENTION_BATCH`] rows per statement, at most 50 statements
//! per space and kind of record in one sweep), so a sweep never holds the
//! writer for long, and what one sweep leaves the next one removes.

use futures::future::BoxFuture;

use super::Platform;
use crate::CoreError;
use crate::bus::{Change, RegistryKind};
use crate::ids::Tenant;
use crate::things_activity::{SpaceRetention, SpaceRetentionChange};

/// Most rows one retention statement deletes.
pub const RETENTION_BATCH: u32 = 2000;
/// Most statements one sweep runs per space and kind of record: a large
/// backlog is worked off over several sweeps, so a sweep (and a shutdown
/// waiting for it) stays short.
const MAX_BATCHES_PER_SWEEP: u32 = 50;
/// Milliseconds per day of retention.
const DAY_MS: i64 = 86_400_000;

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSweep {
    /// Events deleted.
    pub events: u64,
    /// Property-history points deleted.
    pub history: u64,
}

/// What a pruner removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pruned {
    Events,
    History,
}

/// Removes one kind of record older than a cutoff (epoch ms) from a space;
/// returns how many.
type Prune = for<'a> fn(&'a Platform, &'a Tenant, i64) -> BoxFuture<'a, Result<u64, CoreError>>;

/// One kind of record a space's retention removes.
struct Pruner {
    what: Pruned,
    /// The limit of a space that applies.
    days: fn(&SpaceRetention) -> Option<u32>,
    prune: Prune,
}

/// Every kind of record retention removes.
const PRUNERS: &[Pruner] = &[
    Pruner {
        what: Pruned::Events,
        days: |r| r.events_days,
        prune: |p, t, before| Box::pin(p.prune_thing_events(t, before)),
    },
    Pruner {
        what: Pruned::History,
        days: |r| r.history_days,
        prune: |p, t, before| Box::pin(p.prune_property_history(t, before)),
    },
];

impl Platform {
    /// Sets the retention of a space: each limit given changes (`Some(None)`:
    /// unlimited), the others stay. Limits are 1 to
    /// [`crate::things_activity::MAX_RETENTION_DAYS`] days. Returns the
    /// retention now in force and publishes the organization as updated.
    pub async fn set_space_retention(
        &self,
        tenant: &Tenant,
        change: SpaceRetentionChange,
    ) -> Result<SpaceRetention, CoreError> {
        change.check()?;
        let now = self
            .store
            .update_space_retention(tenant, change, crate::now_ms())
            .await?;
        let name = tenant.name();
        self.changed(name, RegistryKind::Org, name.as_str(), Change::Updated)
            .await;
        Ok(now)
    }

    /// The retention of a space (unlimited when never set).
    pub async fn space_retention(&self, tenant: &Tenant) -> Result<SpaceRetention, CoreError> {
        Ok(self.store.space_retention(tenant).await?)
    }

    /// Removes, in every space with a limit, the records older than it.
    /// Idempotent; call it from one node at a time (the retention lease).
    pub async fn enforce_space_retention(&self) -> Result<RetentionSweep, CoreError> {
        let now = crate::now_ms();
        let mut sweep = RetentionSweep::default();
        for (tenant, retention) in self.store.limited_spaces().await? {
            for pruner in PRUNERS {
                let Some(days) = (pruner.days)(&retention) else {
                    continue;
                };
                let before = now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
                let n = (pruner.prune)(self, &tenant, before).await?;
                match pruner.what {
                    Pruned::Events => sweep.events += n,
                    Pruned::History => sweep.history += n,
                }
            }
        }
        Ok(sweep)
    }

    /// Deletes the space's events that happened before `before` (epoch
    /// ms), in batches of [`RETENTION_BATCH`]; returns how many.
    async fn prune_thing_events(&self, tenant: &Tenant, before: i64) -> Result<u64, CoreError> {
        let mut deleted = 0;
        for _ in 0..MAX_BATCHES_PER_SWEEP {
            let n = self
                .store
                .delete_thing_events_before(tenant, before, RETENTION_BATCH)
                .await?;
            deleted += n;
            if n < u64::from(RETENTION_BATCH) {
                break;
            }
        }
        Ok(deleted)
    }
}
